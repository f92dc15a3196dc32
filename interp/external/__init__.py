"""Audit models trained elsewhere: model cards (:mod:`interp.external.card`) and loaders for model files."""
