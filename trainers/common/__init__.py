"""The kernel every package builds on: errors, atomic writes, the registry, typed options, provenance, logging.

Nothing here imports the domain (datasets, models, methods, analysis); ``tests/test_architecture.py`` keeps it so.
"""
