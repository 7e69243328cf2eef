"""Readings as InfluxDB line protocol: the mapping both InfluxDB sinks share.

The mapping
-----------
* **One measurement, ``telemetry``** (``measurement`` in the sink's section).
  The modality is an attribute of the device, not of the data: a device
  unknown to the inventory today (modality ``other``) is listed as ``mri``
  tomorrow, and with a measurement per modality its history would then live in
  two measurements, so ``WHERE device_id = 'MR-01'`` would miss half of it.
  Fleet-wide views (last seen, staleness) read one measurement. Catalogued
  signal names are unique across modalities and every field is a float, so
  one measurement has no field collisions and no field type conflicts. Where
  a backend limits columns per table (InfluxDB 3 / Cloud Serverless), set
  ``measurement = "{modality}"`` for one measurement per modality.
* **Tags** ``site`` (``gateway.site``; left out when empty, as line protocol
  has no empty tag values), ``device_id``, and ``modality`` from the inventory
  (``other`` when the device is not listed).
* **Fields**: one per signal, a float. The readings of one device at one
  timestamp become one point; a signal repeated in one batch at the same
  timestamp keeps its last value (as the SQLite store does).
* **Timestamp**: the device's own, as integer nanoseconds rounded to the whole
  microsecond (:func:`to_ns`), then to the sink's ``precision``. A float64
  epoch-second value near today resolves about 0.24 µs, so digits below the
  microsecond are float noise; rounding the exact binary value to the nearest
  microsecond recovers every ms- or µs-resolution stamp exactly, and
  ``ns / 10**9`` (one correctly rounded division, as Python's ``int / int``)
  gives back the very float that was written.
* **Invalid readings**: a non-finite value (NaN, ±inf: line protocol cannot
  carry them) or one of quality ``invalid`` (a device sentinel) is left out
  and counted (``sink.<name>.fields_omitted``); a point left without fields
  is not written. ``questionable`` values are written; their quality is kept
  only by the SQLite store.
* **Idempotent**: the series key (measurement, tags) and the timestamp come
  from the reading alone, so a replayed batch overwrites the same points
  (InfluxDB keeps one value per series, field and timestamp; VictoriaMetrics
  does with ``-dedup.minScrapeInterval=1ms``).

Escaping
--------
Measurements escape ``,`` and space; tag keys, tag values and field keys
escape ``,``, ``=`` and space. Backslashes differ by server: the v2 write API
(InfluxDB 2.x/3.x, VictoriaMetrics) reads ``\\\\`` as one backslash, so the
v2 dialect escapes them; InfluxDB 1.x keeps backslashes literally and cannot
store one before a special character or at the end of a name, so the v1
dialect rejects those (as both dialects reject line breaks and lone surrogates) with
:class:`ValueError`. Device ids and signal names never hold such characters
(protocols validate them); ``gateway.site`` and ``measurement`` are checked
when a sink is built.

Examples
--------
>>> from htm_edge.collector.reading import Reading
>>> enc = encode_points([Reading("MR-01", "helium_pct", 71.5, 1767225600.123)],
...                     site="St Mary's, 2", devices={})
>>> print(enc.lines[0].decode())
telemetry,device_id=MR-01,modality=other,site=St\\ Mary's\\,\\ 2 helium_pct=71.5 1767225600123000000
>>> to_ns(1767225600.123) / 10**9 == 1767225600.123
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from htm_edge.collector.reading import Quality, Reading
from htm_edge.config.inventory import Device, Modality

__all__ = [
    "Dialect",
    "Encoded",
    "Precision",
    "check_names",
    "encode_points",
    "escape_key",
    "escape_measurement",
    "scale_ns",
    "to_ns",
]

#: timestamp unit of the written points
Precision = Literal["ns", "us", "ms", "s"]
#: ``v2``: backslashes escaped (v2 write API); ``v1``: kept literally (InfluxDB 1.x)
Dialect = Literal["v1", "v2"]

_NS_PER = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_SPECIAL_KEY = ",= "
_SPECIAL_MEASUREMENT = ", "


def to_ns(ts: float) -> int:
    """Epoch nanoseconds of ``ts`` (epoch seconds), rounded to the whole microsecond.

    Exact integer arithmetic on the float's binary value (no float
    multiplication), so every ms- or µs-resolution stamp up to the year 2242
    comes out exact.

    >>> to_ns(1767225600.000001)
    1767225600000001000
    >>> to_ns(1767225600.1234567)  # below the microsecond: float noise
    1767225600123457000
    """
    num, den = ts.as_integer_ratio()
    micros = (2 * num * 1_000_000 + den) // (2 * den)  # round half up
    return micros * 1_000


def scale_ns(ns: int, precision: Precision) -> int:
    """``ns`` in units of ``precision``, rounded half up.

    >>> scale_ns(1_500_000, "ms"), scale_ns(1_499_999, "ms"), scale_ns(7, "ns")
    (2, 1, 7)
    """
    unit = _NS_PER[precision]
    return ns if unit == 1 else (2 * ns + unit) // (2 * unit)


def _escape(text: str, special: str, dialect: Dialect, what: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} {text!r}: line protocol cannot carry a line break")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r}: not valid Unicode (a lone surrogate)") from None
    if dialect == "v2":
        text = text.replace("\\", "\\\\")
    elif "\\" in text:
        for i, char in enumerate(text):
            if char == "\\" and (i + 1 == len(text) or text[i + 1] in special):
                raise ValueError(
                    f"{what} {text!r}: InfluxDB 1.x cannot store a backslash at the end "
                    "or before a space, comma or equals sign"
                )
    for char in special:
        text = text.replace(char, "\\" + char)
    return text


def escape_key(text: str, dialect: Dialect = "v2", what: str = "name") -> str:
    r"""Escape a tag key, tag value or field key.

    >>> escape_key("a b,c=d")
    'a\\ b\\,c\\=d'
    >>> escape_key("C:\\data")
    'C:\\\\data'
    >>> escape_key("C:\\data", "v1")
    'C:\\data'
    """
    if not text:
        raise ValueError(f"{what}: line protocol has no empty names or tag values")
    return _escape(text, _SPECIAL_KEY, dialect, what)


def escape_measurement(text: str, dialect: Dialect = "v2") -> str:
    r"""Escape a measurement name (``=`` needs no escape there).

    >>> escape_measurement("tele metry,x=1")
    'tele\\ metry\\,x=1'
    """
    if not text:
        raise ValueError("measurement: must not be empty")
    return _escape(text, _SPECIAL_MEASUREMENT, dialect, "measurement")


def check_names(site: str, measurement: str, dialect: Dialect) -> None:
    r"""Raise :class:`ValueError` when ``site`` or ``measurement`` cannot be written.

    ``{modality}`` in ``measurement`` is checked with every modality name.

    >>> check_names("east\\", "telemetry", "v1")
    Traceback (most recent call last):
    ...
    ValueError: site 'east\\': InfluxDB 1.x cannot store a backslash at the end ...
    """
    if site:
        escape_key(site, dialect, "site")
    for modality in Modality:
        escape_measurement(measurement.replace("{modality}", modality.value), dialect)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A batch as line protocol, with the counts to reconcile a write against it.

    ``fields + omitted == readings``: every distinct reading is written or counted.
    """

    lines: list[bytes]
    #: distinct (device, signal, timestamp) readings of the batch
    readings: int
    #: points (lines): distinct (device, timestamp) pairs with at least one field
    points: int
    #: field values written
    fields: int
    #: readings left out (non-finite or quality ``invalid``)
    omitted: int


def _writable(reading: Reading) -> bool:
    return reading.quality is not Quality.INVALID and math.isfinite(reading.value)


def encode_points(
    batch: Iterable[Reading],
    *,
    site: str,
    devices: Mapping[str, Device],
    measurement: str = "telemetry",
    precision: Precision = "ns",
    dialect: Dialect = "v2",
) -> Encoded:
    """Encode ``batch`` as one line per (device, timestamp); see the module docstring.

    Raises
    ------
    ValueError
        When a name cannot be written in ``dialect`` (see *Escaping*).
    """
    values: dict[tuple[str, int], dict[str, float]] = {}
    omitted: set[tuple[str, str, int]] = set()
    distinct: set[tuple[str, str, int]] = set()
    for r in batch:
        ts = scale_ns(to_ns(r.ts), precision)
        point = values.setdefault((r.device_id, ts), {})
        distinct.add((r.device_id, r.signal, ts))
        if _writable(r):
            point[r.signal] = r.value
            omitted.discard((r.device_id, r.signal, ts))
        elif r.signal not in point:
            omitted.add((r.device_id, r.signal, ts))
    site_tag = f",site={escape_key(site, dialect, 'site')}" if site else ""
    series: dict[str, bytes] = {}
    lines: list[bytes] = []
    fields = 0
    for (device_id, ts), point in values.items():
        if not point:
            continue
        prefix = series.get(device_id)
        if prefix is None:
            device = devices.get(device_id)
            modality = device.modality.value if device is not None else "other"
            name = measurement.replace("{modality}", modality)
            prefix = (
                f"{escape_measurement(name, dialect)}"
                f",device_id={escape_key(device_id, dialect, 'device_id')}"
                f",modality={escape_key(modality, dialect, 'modality')}{site_tag} "
            ).encode()
            series[device_id] = prefix
        body = ",".join(
            f"{escape_key(signal, dialect, 'signal')}={value!r}" for signal, value in point.items()
        )
        lines.append(prefix + body.encode() + f" {ts}".encode())
        fields += len(point)
    return Encoded(
        lines=lines, readings=len(distinct), points=len(lines), fields=fields, omitted=len(omitted)
    )
