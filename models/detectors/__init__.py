"""Detector implementations, one module per registry key (see :mod:`models.registry`)."""
