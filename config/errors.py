"""Error root of the config package, and the errors every registry and the catalogue share."""

__all__ = ["CatalogError", "ConfigError", "UnknownTypeError"]


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key path and the fix."""


class UnknownTypeError(ConfigError, KeyError):
    """A registry has no implementation for a ``type`` key; the message lists the valid ones.

    Every role's registry raises this one error, so callers handle an unknown
    source, sink, protocol, rule, notifier or detector the same way.
    """

    def __init__(self, role: str, given: str, valid: list[str]) -> None:
        self.role = role
        self.given = given
        self.valid = valid
        super().__init__(f"unknown {role} type {given!r}; valid types: {', '.join(valid)}")

    def __str__(self) -> str:
        # KeyError would quote the message; show it as written
        return str(self.args[0])


class CatalogError(ConfigError, LookupError):
    """A signal, failure mode or look-alike event that the catalogue does not know."""
