"""Error root of the models package."""

__all__ = ["ModelError"]


class ModelError(Exception):
    """Root of every error the models package raises on purpose."""
