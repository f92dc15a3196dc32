"""Keras HDF5 models (``.h5``, ``.hdf5``) rebuilt as torch modules from the file alone, without TensorFlow.

:mod:`.hdf5` reads the file's ``model_config`` and weights with h5py, :mod:`.config` turns the
configuration (functional or sequential, Keras 2 or Keras 3's legacy HDF5) into a graph of layers,
:mod:`.layers` builds the torch module of each layer type (one registry entry per Keras class) and
:mod:`.graph` runs them in order. Tensors are NCHW throughout: kernels are transposed from Keras's
NHWC layout when read, and ``Flatten`` flattens in Keras's (H, W, C) order so that a following
``Dense`` kernel applies unchanged.
"""
