"""Figures of a training run and of a test set (``plots``)."""
