"""The hospital fleet: vectorised device models, device lives (failure, service), ground truth."""
