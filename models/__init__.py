"""Models: online anomaly scoring and failure prediction on numpy arrays."""
