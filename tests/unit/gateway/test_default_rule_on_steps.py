"""What the default anomaly rule opens on, fed the default detector's scores: a big step
that persists, an isolated spike (see "Big steps and the default alert rule" in
docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pytest

from htm_edge.alerting.rules.anomaly import AnomalyRule, AnomalyRuleConfig
from htm_edge.alerting.rules.base import Transition
from htm_edge.config.inventory import Device, Modality
from htm_edge.gateway.settings import load_config
from htm_edge.models.detectors.robust_pot import RobustPot
from htm_edge.models.types import Score
from tests.unit.models.models_helpers import row_times, run_many

_STREAMS, _ONSET, _AFTER = 40, 2500, 300


def _default_rule() -> AnomalyRule:
    rules = [r for r in load_config(None).alerting.rules if isinstance(r, AnomalyRuleConfig)]
    assert len(rules) == 1
    return AnomalyRule(rules[0])


def _opened(change: str, sigmas: float) -> int:
    """Streams of N(50, 2) where the default rule opens within 300 points of the change."""
    rng = np.random.default_rng(17)
    x = 50.0 + 2.0 * rng.normal(size=(_ONSET + _AFTER, _STREAMS))
    if change == "step":
        x[_ONSET:] += 2.0 * sigmas
    else:
        x[_ONSET] += 2.0 * sigmas
    ts = row_times(x, 60.0)
    scores = run_many(RobustPot(_STREAMS), x, ts)
    rule, device = _default_rule(), Device(device_id="mri-1", modality=Modality.MRI)
    opened = set()
    for t in range(_ONSET - 20, _ONSET + _AFTER):
        for j in range(_STREAMS):
            score = Score("mri-1", f"s{j}", float(ts[t, j]), float(scores[t, j]), float(x[t, j]))
            sig = rule.evaluate(score, device)
            if sig is not None and sig.transition is Transition.ENTER:
                opened.add(j)
    return len(opened)


def test_a_step_of_30_sigma_opens_the_default_rule_on_every_stream() -> None:
    assert _opened("step", 30.0) == _STREAMS


def test_an_isolated_spike_opens_nothing() -> None:
    assert _opened("spike", 1000.0) == 0


#: KNOWN GAP (strict xfail, flips to a failure once fixed): after a step's first point the
#: tails have learned it, so its next points score below 0.99 and the rule's 3 of 5 rarely
#: holds; each fix measured raised the simulated fleet's false alerts (docs/benchmarks.md)
@pytest.mark.xfail(strict=True, reason="tails learn a step's first point; 3 of 5 rarely hold")
def test_a_step_of_10_sigma_opens_the_default_rule_on_most_streams() -> None:
    assert _opened("step", 10.0) >= 0.75 * _STREAMS
