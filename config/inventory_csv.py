"""The asset inventory as a CSV file: one device per row, one :class:`Device` field per column.

The header names the columns (any order); ``device_id`` and ``modality`` are
required, every other column is optional and an empty cell takes the field's
default. Errors name the file, the row (the file's line number, the header
being line 1) and the column, with the fix.

Examples
--------
>>> rows = read_inventory_csv_text(
...     "device_id,modality,em_number,install_date\\nMR-01,mri,15,2019-05-01\\n", "inv.csv")
>>> rows[0].em_number, rows[0].install_date.year
(15, 2019)
>>> read_inventory_csv_text("device_id,modality,em_number\\nMR-01,mri,lots\\n", "inv.csv")
Traceback (most recent call last):
...
ValueError: inv.csv row 2, column em_number: 'lots' is not a whole number
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from htm_edge.config.inventory import Device

__all__ = ["CSV_COLUMNS", "inventory_csv_text", "read_inventory_csv", "read_inventory_csv_text"]

#: every column a row may hold, in the order :func:`inventory_csv_text` writes them
CSV_COLUMNS: tuple[str, ...] = tuple(Device.model_fields)
_REQUIRED = ("device_id", "modality")
_INTS = {"em_number"}
_FLOATS = {"purchase_cost"}
_DATES = {"install_date"}


def _convert(column: str, text: str) -> Any:
    if column in _INTS:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if column in _FLOATS:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if column in _DATES:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    return text


def read_inventory_csv_text(text: str, source: str) -> list[Device]:
    """Parse inventory CSV ``text``; ``source`` names it in errors (ValueError)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValueError(f"{source}: empty file; the first line must name the columns") from None
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ValueError(
            f"{source} row 1: unknown column {unknown[0]!r}; "
            f"valid columns: {', '.join(CSV_COLUMNS)}"
        )
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{source} row 1: required column {missing[0]!r} is missing")
    devices = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ValueError(
                f"{source} row {line}: {len(row)} cells for {len(header)} columns; "
                "quote cells that hold commas"
            )
        values: dict[str, Any] = {}
        for column, cell in zip(header, row, strict=True):
            cell = cell.strip()
            if not cell:
                if column in _REQUIRED:
                    raise ValueError(f"{source} row {line}, column {column}: required, is empty")
                continue
            try:
                values[column] = _convert(column, cell)
            except ValueError as exc:
                raise ValueError(f"{source} row {line}, column {column}: {exc}") from None
        try:
            devices.append(Device(**values))
        except ValidationError as exc:
            err = exc.errors()[0]
            column = str(err["loc"][0]) if err["loc"] else "?"
            shown = values.get(column, "")
            raise ValueError(
                f"{source} row {line}, column {column}: {err['msg']} (got {str(shown)!r})"
            ) from None
    return devices


def read_inventory_csv(path: Path) -> list[Device]:
    """Read the inventory CSV at ``path`` (ValueError naming the file, row and column)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the inventory CSV: {exc.strerror}") from None
    return read_inventory_csv_text(text, str(path))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def inventory_csv_text(devices: Iterable[Device], columns: Sequence[str] = CSV_COLUMNS) -> str:
    """Write ``devices`` as inventory CSV text (what :func:`read_inventory_csv_text` reads)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for device in devices:
        writer.writerow([_cell(getattr(device, c)) for c in columns])
    return out.getvalue()
