"""Faces in real photos: detection and 478-point landmarks (:mod:`.finder`), and the ``data faces``
step that adds ``face_box``, ``landmarks`` and an estimated ``mask_polygon`` to a manifest
(:mod:`.annotate`)."""
