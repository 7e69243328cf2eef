"""Error root of the collector package."""

__all__ = ["CollectorError", "DecodeError"]


class CollectorError(Exception):
    """Root of every error the collector raises on purpose."""


class DecodeError(CollectorError):
    """A frame or payload could not be decoded; the message says what and where."""
