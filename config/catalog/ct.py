"""Catalogue data of the CT: signals, failure modes and look-alike events.

Plain data; see :mod:`htm_edge.config.catalog` for what each field means.
Numbers are typical/illustrative, not vendor specifications.
"""

from __future__ import annotations

from htm_edge.config.catalog.types import (
    CT_SAFETY,
    Effect,
    FailureMode,
    Lookalike,
    SignalSpec,
)
from htm_edge.config.inventory import Modality

__all__ = ["FAILURE_MODES", "LOOKALIKES", "SIGNALS"]

SIGNALS: tuple[SignalSpec, ...] = (
    SignalSpec("filament_current_a", "A", 4.0, 5.0, 0.01, "X-ray tube filament current"),
    SignalSpec("tube_arc_count", "count", 0, 2, 1, "tube arcs in the sample period"),
    SignalSpec("anode_drive_current_a", "A", 1.6, 2.5, 0.01, "anode rotor drive current"),
    SignalSpec("gantry_rotation_jitter_ms", "ms", 0.05, 0.4, 0.001, "gantry rotation time jitter"),
    SignalSpec("tube_oil_temp_c", "°C", 22, 65, 0.1, "tube housing oil temperature"),
    SignalSpec("anode_heat_pct", "%", 0, 100, 1, "anode heat content (workload context)"),
    SignalSpec("detector_temp_c", "°C", 37.5, 38.5, 0.01, "detector (DAS) temperature"),
    SignalSpec("in_use", "", 0, 1, 1, "1 while the device is in clinical use, else 0"),
)

FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        id="CT.TUBE.FILAMENT_WEAR",
        modality=Modality.CT,
        description=(
            "X-ray tube filament thinning: filament drive current drifts away from "
            "its calibration; tube end of life approaching."
        ),
        subsystem="X-ray tube (cathode)",
        signals=("filament_current_a",),
        likely_parts=("X-ray tube assembly",),
        recommended_checks=(
            "Compare filament current with the post-install calibration.",
            "Run tube calibration; check how often re-calibration is now needed.",
            "Review tube usage (scan-seconds) and plan the replacement with the OEM.",
            "Agree a downtime slot with radiology before the tube fails mid-list.",
        ),
        oem_required=True,
        safety_notes=CT_SAFETY,
        response_time_h=72.0,
        shape="accelerating",
        effects=(Effect("filament_current_a", "down", "drift -0.6 A from calibration"),),
        terminal="open filament: current 0 A, tube unusable",
    ),
    FailureMode(
        id="CT.TUBE.ARCING",
        modality=Modality.CT,
        description=(
            "Tube arcing (spits) increasing: HV instability inside the tube; "
            "late-stage sign that aborts scans."
        ),
        subsystem="X-ray tube / HV generator",
        signals=("tube_arc_count",),
        likely_parts=("X-ray tube assembly", "HV cables and terminations"),
        recommended_checks=(
            "Review the arc log: rate, clustering, aborted scans.",
            "Run the tube seasoning / warm-up procedure and re-check the arc rate.",
            "Inspect HV cable terminations for tracking.",
            "If arcs abort scans, call the OEM for tube replacement.",
        ),
        oem_required=True,
        safety_notes=CT_SAFETY,
        response_time_h=24.0,
        shape="accelerating",
        effects=(
            Effect("tube_arc_count", "up", "count: Poisson rate per scanning minute 0.001 -> 0.8"),
        ),
        terminal="arc-fault shutdown, scans aborted",
    ),
    FailureMode(
        id="CT.ANODE.BEARING_WEAR",
        modality=Modality.CT,
        description=(
            "Anode bearing or gantry drive wear: anode drive current rises and "
            "rotation timing jitters."
        ),
        subsystem="X-ray tube anode / gantry drive",
        signals=("anode_drive_current_a", "gantry_rotation_jitter_ms"),
        likely_parts=("X-ray tube (rotor bearings)", "gantry drive belt", "slip-ring brushes"),
        recommended_checks=(
            "Measure anode acceleration time and coast-down; listen for bearing noise.",
            "Check gantry rotation-time jitter, drive belt tension and the slip ring.",
            "Plan tube or drive replacement with the OEM.",
        ),
        oem_required=True,
        safety_notes=(*CT_SAFETY, "Rotating gantry: lock out rotation before opening covers."),
        response_time_h=72.0,
        shape="accelerating",
        effects=(
            Effect("anode_drive_current_a", "up", "trend +0.6 A"),
            Effect("anode_drive_current_a", "variance_up", "noise x5"),
            Effect("gantry_rotation_jitter_ms", "up", "mean +30 %"),
            Effect("gantry_rotation_jitter_ms", "variance_up", "noise x6"),
        ),
        terminal="bearing seizure: anode cannot reach speed",
    ),
)

LOOKALIKES: tuple[Lookalike, ...] = (
    Lookalike(
        "CT.EVENT.COLD_TUBE_WARMUP",
        Modality.CT,
        "warm-up exposures on a cold tube: a burst of arcs that dies out",
        "CT.TUBE.ARCING",
        (Effect("tube_arc_count", "up", "burst decaying over the event"),),
    ),
)
