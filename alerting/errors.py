"""Error root of the alerting package."""

__all__ = ["AlertingError"]


class AlertingError(Exception):
    """Root of every error the alerting package raises on purpose."""
