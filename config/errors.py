"""Error root of the config package."""

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key path and the fix."""
