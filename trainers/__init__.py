"""maskfer trainers: datasets, models, training methods and the fold runner."""

__version__ = "0.1.0"
