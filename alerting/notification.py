"""One notification as the outbox keeps it and every notifier sends it.

A notification carries its idempotency key (the same after a restart, so a
receiver can drop a repeat), what happened (``kind``), who it is for, and the
work order document (``docs/work-order.schema.json``) it is about; the text
and HTML bodies are rendered from that document, so every channel says the
same thing.

Examples
--------
>>> n = Notification("WO-1/firing", "firing", "WO-1", "Dana", ("Dana",), "s", "t", {}, 0.0)
>>> Notification.from_json(n.to_json()) == n
True
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from htm_edge.alerting.forecast import format_duration
from htm_edge.alerting.types import format_ts, json_safe

__all__ = ["Kind", "Notification", "render_html", "render_text", "subject_of"]

Kind = Literal[
    "firing", "updated", "escalated", "resolved", "acknowledged", "incident", "service_call"
]


@dataclass(frozen=True, slots=True)
class Notification:
    """What one notifier delivers; ``document`` is the work order (or incident) JSON."""

    key: str
    kind: str
    work_order_id: str
    recipient: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    document: dict[str, Any]
    created_at: float
    reason: str = ""
    contacts: tuple[dict[str, str], ...] = field(default=())

    def to_json(self) -> str:
        """The notification as JSON (what the outbox stores)."""
        return json.dumps(json_safe(asdict(self)), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Notification:
        """Read back :meth:`to_json`."""
        d = json.loads(text)
        d["recipients"] = tuple(d["recipients"])
        d["contacts"] = tuple(d.get("contacts", ()))
        return cls(**d)

    def message(self, sent_at: float) -> dict[str, Any]:
        """The JSON body of webhook and MQTT deliveries."""
        return {
            "schema": "htm-edge/notification/1",
            "idempotency_key": self.key,
            "kind": self.kind,
            "reason": self.reason,
            "sent_at": sent_at,
            "created_at": self.created_at,
            "recipient": self.recipient,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "work_order": self.document,
        }


def subject_of(kind: str, doc: dict[str, Any]) -> str:
    """A one-line subject, e.g. ``[P2 FIRING] MR.COLDHEAD.DEGRADATION on MR-01 (BME-1)``."""
    if doc.get("schema", "").startswith("htm-edge/incident"):
        return (
            f"[{kind.upper()}] incident {doc.get('id')} at {doc.get('site')}: "
            f"{len(doc.get('work_orders', []))} devices"
        )
    dev = doc.get("device", {})
    prio = doc.get("priority", {}).get("level", "?")
    tag = f" ({dev.get('asset_tag')})" if dev.get("asset_tag") else ""
    return (
        f"[{prio} {kind.upper()}] {doc.get('problem', {}).get('failure_mode')} on "
        f"{dev.get('device_id')}{tag}"
    )


def _people(doc: dict[str, Any]) -> str:
    a = doc.get("assignment", {})
    eng = a.get("engineer")
    who = "UNASSIGNED"
    if eng:
        who = eng["name"] + "".join(f", {eng[k]}" for k in ("email", "phone") if eng.get(k))
    vendor = a.get("vendor")
    if vendor:
        who += (
            f" | SERVICE CALL to {vendor['name']} (contract {vendor.get('contract') or '-'}"
            + "".join(f", {vendor[k]}" for k in ("phone", "email") if vendor.get(k))
            + ")"
        )
    return who


def render_text(kind: str, doc: dict[str, Any], reason: str = "") -> str:
    """A readable block for a console, an e-mail's plain part or a pager."""
    if doc.get("schema", "").startswith("htm-edge/incident"):
        lines = [f"=== {kind.upper()} {subject_of(kind, doc)} ===", f"Reason     : {reason}"]
        lines += [f"  - {w['id']} {w['device_id']} {w['failure_mode']}" for w in doc["work_orders"]]
        lines.append(f"Assigned   : {doc.get('assigned') or 'UNASSIGNED'}")
        return "\n".join(lines)
    dev, loc = doc["device"], doc["location"]
    prob, prio = doc["problem"], doc["priority"]
    win = doc.get("visit_window")
    ttf = doc.get("time_to_failure")
    place = " / ".join(p for p in (loc["site"], loc["location"], loc["room"]) if p)
    lines = [
        f"=== {kind.upper()} {prio['level']} {prio['severity'].upper()} "
        f"{prob['failure_mode']} on {dev['device_id']} ===",
        f"Work order : {doc['id']} (state {doc['state']}, condition {doc['condition']})",
        f"Reason     : {reason or '-'}",
        f"Asset      : tag {dev['asset_tag'] or '-'} | {dev['manufacturer']} {dev['model']} | "
        f"s/n {dev['serial'] or '-'} | fw {dev['firmware'] or '-'} | {dev['modality']}",
        f"Location   : {place or 'unknown'} ({loc['department'] or '-'})",
        f"Problem    : {prob['description']} [subsystem {prob['subsystem']}]",
        f"Priority   : {prio['level']}: {prio['reason']}; "
        f"respond by {format_ts(prio['respond_by'])}",
        "Visit      : "
        + (
            f"{format_ts(win['from'])} to {format_ts(win['until'])} ({win['basis']})"
            if win
            else "no idle window known yet"
        ),
        "Failure in : " + _time_left(ttf),
        *(f"  - trend: {t}" for t in (ttf or {}).get("trends", [])),
        "Evidence   :",
    ]
    for e in doc["evidence"]:
        unit = f" {e['unit']}" if e["unit"] else ""
        base = "-" if e["baseline"] is None else f"{e['baseline']:.4g}"
        trend = "" if e["trend_per_h"] is None else f", trend {e['trend_per_h']:+.3g}{unit}/h"
        lines.append(
            f"  - {e['signal']} = {e['current_value']:.4g}{unit} (baseline {base}{unit}{trend}); "
            f"peak score {e['peak_score']:.3f}, {e['occurrences']} occurrence(s)"
        )
    act = doc["action"]
    lines += [
        "Checks     :",
        *(f"  - {c}" for c in act["recommended_checks"]),
        f"Parts      : {', '.join(act['likely_parts']) or '-'}",
        "Safety     :",
        *(f"  - {s}" for s in act["safety_notes"]),
        f"Assigned   : {_people(doc)}",
    ]
    if doc.get("planned_maintenance_note"):
        lines.append(f"Note       : {doc['planned_maintenance_note']}")
    hist = doc.get("history", [])
    if hist:
        lines.append(
            "History    : "
            + "; ".join(
                f"{h['id']} {h['failure_mode']} {h['state']}"
                + (f" ({h['outcome']})" if h.get("outcome") else "")
                for h in hist[:5]
            )
        )
    return "\n".join(lines)


def render_html(kind: str, doc: dict[str, Any], reason: str = "") -> str:
    """The HTML part of an e-mail: the text block, escaped, in a ``<pre>``, with a heading."""
    body = html.escape(render_text(kind, doc, reason))
    title = html.escape(subject_of(kind, doc))
    return f"<html><body><h2>{title}</h2><pre>{body}</pre></body></html>"


def _time_left(ttf: dict[str, Any] | None) -> str:
    """``"10.2 h (80 %: 9.1 h to 11.6 h), P(failure within 168 h) 0.97"`` or why not."""
    if not ttf:
        return "not predicted"

    def d(s: float | None) -> str:
        return format_duration(float("inf") if s is None else s)

    left = d(ttf["estimate_s"])
    if ttf["estimate_s"] is not None:
        left += f" (80 %: {d(ttf['lower_s'])} to {d(ttf['upper_s'])})"
    horizon = (ttf.get("horizon_s") or 0.0) / 3600.0
    return f"{left}, P(failure within {horizon:g} h) {ttf['probability']:.2f}"
