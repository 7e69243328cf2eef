"""Load and validate the TOML configuration, with errors a gateway operator can act on.

Every error names the file, the key path (``alerting.rules[0].enter_score``) and
what is expected; a misspelt key also gets the closest valid spelling.

The loader is generic over the root model (the application assembles it from
the sections each role owns). Files are validated in strict mode, so a value
of the wrong TOML type is an error rather than a surprise (``port = "1883"``,
``embedded = "yes"``), and every secret reference is resolved at load time: a
variable that is not set or a file that cannot be read is a configuration
error naming the key, found by ``htm-edge check-config`` and at start-up.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from htm_edge.config.base import SecretRef
from htm_edge.config.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "config_warnings",
    "default_config_text",
    "load_config",
    "parse_config",
    "secret_refs",
]

M = TypeVar("M", bound=BaseModel)

DEFAULT_CONFIG_NAME = "default.toml"


def default_config_text() -> str:
    """Return the embedded default configuration (used when no file is given)."""
    return (
        resources.files("htm_edge.config").joinpath(DEFAULT_CONFIG_NAME).read_text(encoding="utf-8")
    )


def load_config(path: Path | None, root: type[M]) -> M:
    """Load ``path`` (or the embedded default when None) and validate it as ``root``.

    Raises
    ------
    ConfigError
        When the file is missing, is not TOML, or does not match the schema.
    """
    if path is None:
        return parse_config(default_config_text(), root, source="<embedded default>")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_config(text, root, source=str(path), base_dir=path.parent)


def parse_config(
    text: str, root: type[M], source: str = "<string>", base_dir: Path | None = None
) -> M:
    """Validate TOML ``text`` as ``root`` (strictly) and resolve its secrets.

    ``source`` names the text in error messages; relative file paths that a
    section reads at validation (``inventory.csv``) are relative to ``base_dir``
    (the config file's folder), else to the working directory.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        # through JSON so that strict mode accepts what TOML cannot type (paths, enums)
        cfg = root.model_validate_json(
            json.dumps(raw, default=str), strict=True, context={"base_dir": base_dir}
        )
    except ValidationError as exc:
        problems = [_describe(error, raw, root) for error in exc.errors()]
        _raise(source, problems)
    problems = []
    for where, ref in secret_refs(cfg):
        try:
            ref.resolve()
        except LookupError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        _raise(source, problems)
    return cfg


def _raise(source: str, problems: list[str]) -> NoReturn:
    lines = "\n".join(f"  - {p}" for p in problems)
    noun = "problem" if len(problems) == 1 else "problems"
    raise ConfigError(f"{source}: {len(problems)} config {noun}:\n{lines}") from None


def secret_refs(node: Any, where: str = "") -> Iterator[tuple[str, SecretRef]]:
    """Every :class:`SecretRef` in a validated tree, with its key path."""
    if isinstance(node, SecretRef):
        yield where, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from secret_refs(getattr(node, name), f"{where}.{name}" if where else name)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from secret_refs(item, f"{where}[{i}]")


def config_warnings(cfg: BaseModel) -> list[str]:
    """Problems that do not stop start-up but should be fixed (a secret file others can read)."""
    out = []
    for where, ref in secret_refs(cfg):
        warning = ref.exposure_warning()
        if warning is not None:
            out.append(f"{where}: {warning}")
    return out


def _key_path(loc: tuple[int | str, ...], raw: Any) -> str:
    """Render a pydantic location as ``a.b[0].c``.

    Pydantic inserts the discriminator value of a tagged union into the location
    (``rules[0].anomaly.enter_score``); such a segment is dropped when the data
    at that point carries it as its ``type``.
    """
    out = ""
    node: Any = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue
        out += f".{part}" if out else part
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _describe(error: Any, raw: dict[str, Any], root: type[BaseModel]) -> str:
    """One human sentence for one pydantic error: key path, what is wrong, the fix."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind: str = error["type"]
    path = _key_path(loc, raw)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], raw, root)
        hint = ""
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            hint = f"; did you mean '{close[0]}'?"
        valid = ", ".join(allowed) if allowed else "none"
        return f"{path}: unknown key{hint} (valid keys here: {valid})"
    if kind == "missing":
        return f"{path}: required key is missing; add it"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        tags = ", ".join(repr(t) for t in _union_tags(loc, raw, root))
        given = _lookup(raw, (*loc, "type"))
        what = "'type' is missing" if given is _MISSING else f"unknown type {given!r}"
        return f"{path}: {what}; set type to one of {tags}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if _is_secret(loc, raw, root) and not isinstance(_lookup(raw, loc), dict):
        return (
            f'{path}: secrets are never written inline; use {{ env = "VAR_NAME" }} '
            'or { file = "/path/to/secret" }'
        )
    given = _lookup(raw, loc)
    shown = (
        f" (got {given!r})" if given is not _MISSING and not isinstance(given, dict | list) else ""
    )
    return f"{path}: {message}{shown}"


_MISSING = object()


def _lookup(raw: Any, loc: tuple[int | str, ...]) -> Any:
    node = raw
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif isinstance(node, dict) and node.get("type") == part:
            continue  # pydantic's union tag segment, not a key of the data
        else:
            return _MISSING
    return node


def _section_candidates(
    parent: tuple[int | str, ...], raw: dict[str, Any], root: type[BaseModel]
) -> tuple[list[type[BaseModel]], Any]:
    """Walk the schema along ``parent``; return the candidate models there and the raw node."""
    candidates: list[type[BaseModel]] = [root]
    node: Any = raw
    for part in parent:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else {}
            continue
        model = _pick(candidates, node)
        if model is None or part not in model.model_fields:
            continue  # a union tag segment; the data already chose the model
        node = node.get(part, {}) if isinstance(node, dict) else {}
        candidates = _models_in(model.model_fields[part].annotation)
    return candidates, node


def _is_secret(loc: tuple[int | str, ...], raw: dict[str, Any], root: type[BaseModel]) -> bool:
    """True when ``loc`` names a field that holds a :class:`SecretRef`."""
    if not loc or isinstance(loc[-1], int):
        return False
    candidates, node = _section_candidates(loc[:-1], raw, root)
    model = _pick(candidates, node)
    field = model.model_fields.get(str(loc[-1])) if model is not None else None
    return field is not None and SecretRef in _models_in(field.annotation)


def _allowed_keys(
    parent: tuple[int | str, ...], raw: dict[str, Any], root: type[BaseModel]
) -> list[str]:
    """List the valid keys of the section at ``parent``."""
    candidates, node = _section_candidates(parent, raw, root)
    model = _pick(candidates, node)
    return sorted(model.model_fields) if model is not None else []


def _union_tags(
    loc: tuple[int | str, ...], raw: dict[str, Any], root: type[BaseModel]
) -> list[str]:
    """The ``type`` values accepted at ``loc`` (a tagged union)."""
    candidates, _ = _section_candidates(loc, raw, root)
    tags = [c.model_fields["type"].default for c in candidates if "type" in c.model_fields]
    return [str(t) for t in tags]


def _pick(candidates: list[type[BaseModel]], node: Any) -> type[BaseModel] | None:
    """Choose among union members by the data's ``type`` key."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    wanted = node.get("type") if isinstance(node, dict) else None
    for candidate in candidates:
        field = candidate.model_fields.get("type")
        if field is not None and field.default == wanted:
            return candidate
    return candidates[0]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside ``annotation`` (through list, Optional, Annotated, unions)."""
    found: list[type[BaseModel]] = []

    def collect(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in found:
                found.append(tp)
            return
        if getattr(tp, "__metadata__", None) is not None:
            collect(tp.__origin__)
        for arg in getattr(tp, "__args__", ()) or ():
            collect(arg)

    collect(annotation)
    return found
