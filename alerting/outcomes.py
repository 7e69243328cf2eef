"""Learning from how work orders ended: precision and NPF rate per rule and failure mode.

Each alert that joined a resolved work order takes that work order's
outcome. Per rule and per failure mode (``htm-edge alerts stats``):

* ``precision = confirmed / (confirmed + no_problem_found)`` (reviewed alerts
  only; ``deferred``, ``vendor_visit`` and ``cleared`` say nothing either way);
* ``npf_rate = no_problem_found / reviewed``, where ``reviewed`` counts every
  outcome a person recorded;
* ``noisy``: at least ``NOISY_MIN_REVIEWED`` reviewed and an NPF rate of at
  least ``NOISY_NPF_RATE``: a rule to retune or retire.

:func:`adaptation_levels` gives each (device, anomaly rule) a sensitivity
level from its own closed alerts: +1 per no-problem-found, -1 per confirmed
failure, clamped to ``[-max_sensitive, max_strict]`` (``[alerting.adaptation]``);
the rule's entry score on that device becomes ``1 - (1 - enter_score) * step ** level``.
"""

from __future__ import annotations

from typing import Any

from htm_edge.alerting.roster_config import AdaptationConfig
from htm_edge.alerting.store import AlertStore

__all__ = ["NOISY_MIN_REVIEWED", "NOISY_NPF_RATE", "adaptation_levels", "outcome_stats"]

NOISY_MIN_REVIEWED = 5
NOISY_NPF_RATE = 0.5
_CODES = ("confirmed", "no_problem_found", "deferred", "vendor_visit", "cleared")


def _rows(store: AlertStore) -> list[dict[str, Any]]:
    return store.query(
        "SELECT a.device_id, a.rule, a.failure_mode, w.outcome FROM alerts a "
        "JOIN work_orders w ON w.id = a.work_order_id WHERE w.state = 'resolved'"
    )


def _summary(counts: dict[str, int]) -> dict[str, Any]:
    confirmed, npf = counts.get("confirmed", 0), counts.get("no_problem_found", 0)
    reviewed = sum(counts.get(c, 0) for c in _CODES if c != "cleared")
    return {
        **{c: counts.get(c, 0) for c in _CODES},
        "reviewed": reviewed,
        "precision": round(confirmed / (confirmed + npf), 4) if confirmed + npf else None,
        "npf_rate": round(npf / reviewed, 4) if reviewed else None,
        "noisy": reviewed >= NOISY_MIN_REVIEWED and npf / max(reviewed, 1) >= NOISY_NPF_RATE,
    }


def outcome_stats(store: AlertStore) -> dict[str, Any]:
    """Outcome counts, precision, NPF rate and the noisy flag by rule and by failure mode."""
    by_rule: dict[str, dict[str, int]] = {}
    by_mode: dict[str, dict[str, int]] = {}
    for r in _rows(store):
        code = r["outcome"] or "cleared"
        for table, name in ((by_rule, r["rule"]), (by_mode, r["failure_mode"])):
            counts = table.setdefault(name, {})
            counts[code] = counts.get(code, 0) + 1
    states = store.query("SELECT state, COUNT(*) AS n FROM work_orders GROUP BY state")
    return {
        "work_orders": {s["state"]: int(s["n"]) for s in states},
        "by_rule": {k: _summary(v) for k, v in sorted(by_rule.items())},
        "by_failure_mode": {k: _summary(v) for k, v in sorted(by_mode.items())},
    }


def adaptation_levels(store: AlertStore, cfg: AdaptationConfig) -> dict[tuple[str, str], int]:
    """Per (device, rule): the sensitivity level its closed alerts earned (0 is left out)."""
    if not cfg.enabled:
        return {}
    score: dict[tuple[str, str], int] = {}
    for r in _rows(store):
        step = {"no_problem_found": 1, "confirmed": -1}.get(r["outcome"] or "", 0)
        if step:
            key = (r["device_id"], r["rule"])
            score[key] = score.get(key, 0) + step
    out = {}
    for key, level in score.items():
        level = max(-cfg.max_sensitive, min(cfg.max_strict, level))
        if level:
            out[key] = level
    return out
