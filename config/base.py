"""Building blocks of every config section: strict models, secret references, plugin configs.

Each role owns its sections beside its code (a sink's settings live with the
sink) and builds them from these bases, so the whole tree behaves alike:
unknown keys are errors, values are frozen, and secrets are never inline.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["PluginConfig", "SecretRef", "StrictModel"]

log = logging.getLogger(__name__)


class StrictModel(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable.

    Files are validated in strict mode by :func:`htm_edge.config.loader.parse_config`
    (``port = "1883"`` or ``embedded = "yes"`` are errors, not silently coerced);
    code may still build sections from Python values.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class PluginConfig(StrictModel):
    """The section of one implementation of a role, chosen by its ``type`` key.

    Subclasses narrow ``type`` to a ``Literal`` equal to the implementation's
    ``type_name`` (and its module name), so the section is a tagged union member.
    """

    type: str
    #: the role this section configures, for messages ("sink", "notifier", ...)
    role: ClassVar[str] = "plugin"


class SecretRef(StrictModel):
    """A secret read from an environment variable or a file, never inline.

    Examples
    --------
    ``password = { env = "HTM_MQTT_PASSWORD" }`` or
    ``password = { file = "/etc/htm-edge/mqtt.pass" }``.

    >>> SecretRef(env="HOME").describe()
    "environment variable 'HOME'"
    """

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' (variable name) or 'file' (path)")
        return self

    def describe(self) -> str:
        """Where the secret comes from, for messages (never its value)."""
        return f"environment variable {self.env!r}" if self.env is not None else f"file {self.file}"

    def resolve(self) -> str:
        """Return the secret's value; raise ``LookupError`` naming what is missing and the fix."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise LookupError(
                    f"environment variable {self.env!r} is not set; export it before start-up"
                )
            return value
        assert self.file is not None
        try:
            return self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LookupError(
                f"cannot read secret file {self.file}: {exc.strerror}; create it (mode 0600)"
            ) from exc

    def exposure_warning(self) -> str | None:
        """A warning when the secret file can be read by group or others, else None."""
        if self.file is None:
            return None
        try:
            mode = self.file.stat().st_mode
        except OSError:
            return None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return (
                f"secret file {self.file} is readable by other users (mode {mode & 0o777:o}); "
                f"run: chmod 600 {self.file}"
            )
        return None
