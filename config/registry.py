"""One registry shape for every role: sources, protocols, sinks, rules, notifiers, detectors.

A role keeps a :class:`Registry` of its implementations. Each implementation

* has a class attribute ``type_name``, equal to its config ``type`` and its module name;
* names its config section class in ``config_model`` (a :class:`PluginConfig`
  subclass defined beside its code);
* is built by ``cls.from_config(cfg, ctx)``, where ``ctx`` is the role's own
  context object (data directory, counters, output stream, ...).

Asking for a type nobody registered raises :class:`UnknownTypeError`, which
lists the valid ones. The registry checks at import time that its plugins and
the role's tagged union of config sections agree, so adding a plugin touches
only its own module and its role's ``__init__``.

Examples
--------
>>> from typing import Literal, Annotated
>>> from pydantic import Field
>>> class EchoConfig(PluginConfig):
...     type: Literal["echo"] = "echo"
>>> class Echo:
...     type_name = "echo"
...     config_model = EchoConfig
...     @classmethod
...     def from_config(cls, cfg: EchoConfig, ctx: object) -> "Echo":
...         return cls()
>>> reg = Registry("printer", [Echo], Annotated[EchoConfig, Field(discriminator="type")])
>>> type(reg.build(EchoConfig(), None)).__name__
'Echo'
>>> reg["laser"]
Traceback (most recent call last):
...
htm_edge.config.errors.UnknownTypeError: unknown printer type 'laser'; valid types: echo
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from htm_edge.config.base import PluginConfig
from htm_edge.config.errors import UnknownTypeError

__all__ = ["Plugin", "Registry", "union_members"]


class Plugin(Protocol):
    """What a registry needs of an implementation class."""

    type_name: ClassVar[str]
    #: a :class:`PluginConfig` subclass (typed loosely: roles narrow it)
    config_model: ClassVar[type[Any]]

    @classmethod
    def from_config(cls, cfg: Any, ctx: Any) -> Any:
        """Build the implementation from its section and the role's context."""
        ...


P = TypeVar("P", bound=Plugin)


def union_members(union: Any) -> tuple[type[PluginConfig], ...]:
    """The config classes inside a (possibly ``Annotated``) union type."""
    base = typing.get_args(union)[0] if typing.get_origin(union) is typing.Annotated else union
    args = typing.get_args(base)
    members = args if args else (base,)
    return tuple(m for m in members if isinstance(m, type) and issubclass(m, PluginConfig))


class Registry(Mapping[str, type[P]], Generic[P]):
    """Implementations of one role, keyed by ``type_name`` (a read-only mapping).

    Parameters
    ----------
    role:
        The role's name in messages (``"sink"``, ``"notifier"``).
    plugins:
        The implementation classes.
    union:
        The role's tagged union of config sections; must hold exactly the
        plugins' ``config_model`` classes.
    """

    def __init__(self, role: str, plugins: Iterable[type[P]], union: Any = None) -> None:
        self.role = role
        self._plugins: dict[str, type[P]] = {}
        for cls in plugins:
            if cls.type_name in self._plugins:
                raise ValueError(f"{role} type {cls.type_name!r} is registered twice")
            self._plugins[cls.type_name] = cls
        if union is not None:
            declared = {m.model_fields["type"].default for m in union_members(union)}
            if declared != set(self._plugins):
                raise ValueError(
                    f"{role} registry {sorted(self._plugins)} and config union "
                    f"{sorted(declared)} disagree"
                )
            for cls in self._plugins.values():
                if cls.config_model.model_fields["type"].default != cls.type_name:
                    raise ValueError(f"{cls.__name__}.config_model has another type key")

    def names(self) -> list[str]:
        """The registered type keys, sorted."""
        return sorted(self._plugins)

    def __getitem__(self, type_name: str) -> type[P]:
        """The class registered under ``type_name``; :class:`UnknownTypeError` otherwise."""
        try:
            return self._plugins[type_name]
        except KeyError:
            raise UnknownTypeError(self.role, type_name, self.names()) from None

    def build(self, cfg: PluginConfig, ctx: Any) -> P:
        """Build the implementation of ``cfg.type`` from ``cfg`` and the role's context."""
        built: P = self[cfg.type].from_config(cfg, ctx)
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._plugins)
