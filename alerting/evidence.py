"""How rule signals change one open alert's evidence: join, exit, hold and release.

The engine (:mod:`alerting.engine`) decides which alert a rule signal belongs to
and which events go out; these functions do the book-keeping on that alert's
:class:`~alerting.tracking.AlertTrack` in place: a firing signal joins its
evidence (and may queue a worsening reason), an exiting stream leaves the active
set or is *held* until its value has returned to baseline (see "Return to
baseline" in the engine's module doc), and a later score releases held streams.
They read the engine's settings as arguments and emit no events, so the engine
stays the one place that decides what is announced.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping

from htm_edge.alerting.rules import RuleSignal
from htm_edge.alerting.tracking import AlertTrack, SignalTrack
from htm_edge.alerting.types import SEVERITY_RANK
from htm_edge.models.types import Score

__all__ = ["exit_stream", "join_stream", "release_returned", "returned"]


def join_stream(
    track: AlertTrack,
    sig: RuleSignal,
    baselines: Mapping[tuple[str, str], float],
    worsening_factor: float,
) -> None:
    """Add the signal's score to the alert's evidence (and the stream to its active set)."""
    track.active.add((sig.rule, sig.signal))
    if SEVERITY_RANK[sig.severity] > SEVERITY_RANK[track.severity]:
        track.severity = sig.severity
    track.repeat_interval_s = min(track.repeat_interval_s, sig.repeat_interval_s)
    st = track.signals.get(sig.signal)
    if st is None:
        baseline = baselines.get((sig.device_id, sig.signal))
        st = SignalTrack(
            signal=sig.signal,
            first_seen_at=sig.ts,
            first_value=sig.value,
            baseline=baseline,
            last_seen_at=sig.ts,
            last_value=sig.value,
            peak_score=sig.anomaly,
        )
        if baseline is not None:
            st.dev_ewma = st.ref_dev = abs(sig.value - baseline)
        track.signals[sig.signal] = st
    if sig.rule not in st.rules:
        st.rules.append(sig.rule)
    st.last_seen_at = sig.ts
    st.last_value = sig.value
    st.record(sig.ts, sig.value)
    st.peak_score = max(st.peak_score, sig.anomaly)
    if sig.hits:
        st.occurrences += sig.hits
        if st.baseline is not None and st.dev_ewma is not None:
            st.dev_ewma = 0.8 * st.dev_ewma + 0.2 * abs(sig.value - st.baseline)
            if st.ref_dev is not None and st.dev_ewma >= worsening_factor * max(st.ref_dev, 1e-12):
                ratio = st.dev_ewma / max(st.ref_dev, 1e-12)
                track.pending[f"worse:{sig.signal}"] = (
                    f"{sig.signal} deviation from baseline grew x{ratio:.1f}"
                )


def exit_stream(
    track: AlertTrack,
    sig: RuleSignal,
    needs_return: Container[str],
    return_fraction: float,
) -> None:
    """Take the exiting stream out of the active set, or hold it until its value returns.

    A stream of a rule named in ``needs_return`` (the anomaly rules) is held while
    its value has not :func:`returned`; the alert is cleared (``cleared_at``) once
    no stream is active.
    """
    stream = (sig.rule, sig.signal)
    st = track.signals.get(sig.signal)
    if st is not None:
        st.last_value = sig.value
        if sig.rule in needs_return and not returned(st, sig.value, return_fraction):
            track.held.add(stream)
            return
    track.active.discard(stream)
    if not track.active:
        track.cleared_at = sig.ts


def returned(st: SignalTrack, value: float, return_fraction: float) -> bool:
    """Is ``value`` back within ``return_fraction`` of the deviation it joined with?"""
    if st.baseline is None or not math.isfinite(value):
        return True
    joined = abs(st.first_value - st.baseline)
    if joined <= 0:  # it joined at its baseline: there is no deviation to return from
        return True
    return abs(value - st.baseline) <= return_fraction * joined


def release_returned(tracks: Iterable[AlertTrack], score: Score, return_fraction: float) -> None:
    """Release held streams of ``score``'s signal whose value came back (see module doc)."""
    for track in tracks:
        held = [s for s in track.held if s[1] == score.signal]
        st = track.signals.get(score.signal)
        if not held or st is None or not returned(st, score.value, return_fraction):
            continue
        for stream in held:
            track.held.discard(stream)
            track.active.discard(stream)
        if not track.active:
            track.cleared_at = score.ts
