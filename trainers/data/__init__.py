"""Datasets: manifest, importers, folds, label validation, image cache, demo generator."""
