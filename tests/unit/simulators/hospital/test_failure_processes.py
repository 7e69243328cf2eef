"""Statistics of each failure process, and of repairs and maintenance, against their laws.

Onsets are drawn from a Weibull law of the part's age; a share of them fail at
once; the rest after a lognormal lead time; repairs take a lognormal time by
contract. Each is checked on many draws with tolerances wide enough for the
sample size (the seeds are fixed, so the tests are deterministic).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from htm_edge.config import catalog
from htm_edge.config.inventory import Device, Modality
from htm_edge.simulators.hospital.life import DAY_S, DeviceLife
from htm_edge.simulators.hospital.models import VECTOR_MODELS
from htm_edge.simulators.hospital.reliability import MODES, PROFILES

START = 1_736_121_600.0


def life(modality: Modality, i: int, owner: str = "in-house", seed: int = 0) -> DeviceLife:
    dev = Device(
        device_id=f"D-{i}",
        modality=modality,
        service_owner=owner,  # type: ignore[arg-type]
        install_date=date(2024, 12, 1),
    )
    rng = np.random.default_rng([seed, i])
    return DeviceLife(dev, rng, START, 0.0, 1.0, ())


def test_every_catalogued_mode_and_modality_has_reliability_data() -> None:
    assert set(MODES) == set(catalog.CATALOG)
    assert set(PROFILES) == set(VECTOR_MODELS)
    for rel in MODES.values():
        assert rel.life_years > 0 and rel.beta >= 1 and 0 <= rel.sudden_fraction < 0.5


@pytest.mark.parametrize("mode", sorted(MODES))
def test_course_statistics_sudden_share_and_lead_time(mode: str) -> None:
    """Each mode's courses: the sudden share and the median lead time match its table."""
    modality = catalog.CATALOG[mode].modality
    rel = MODES[mode]
    lv = life(modality, 0)
    rng = np.random.default_rng(1)
    n = 4000
    for k in range(n):
        lv._start_course(mode, START + k * 100 * DAY_S, rng.random(7))
    sudden = [c for c in lv.courses if c.sudden]
    leads = [(c.failure_ts - c.onset_ts) / DAY_S for c in lv.courses if not c.sudden]
    share = len(sudden) / n
    sd = math.sqrt(rel.sudden_fraction * (1 - rel.sudden_fraction) / n)
    assert abs(share - rel.sudden_fraction) < 4 * sd + 1e-9
    assert all(c.failure_ts == c.onset_ts for c in sudden)
    median = float(np.median(leads))
    assert median == pytest.approx(min(45.0, max(0.5, rel.lead_days)), rel=0.08)
    assert min(leads) >= 0.5 and max(leads) <= 45.0


@pytest.mark.parametrize("modality", sorted(PROFILES, key=lambda m: m.value))
def test_repair_time_by_contract(modality: Modality) -> None:
    prof = PROFILES[modality]
    mode = catalog.failure_modes_of(modality)[0].id
    rng = np.random.default_rng(2)
    for owner, contract in (("oem", "oem"), ("in-house", "in-house"), ("third-party", "iso")):
        lv = life(modality, 0, owner)
        for k in range(2000):
            lv._start_course(mode, START + k * 100 * DAY_S, rng.random(7))
        response = [(c.repair_start_ts - c.failure_ts) / 3600 for c in lv.courses]
        repair = [(c.repair_end_ts - c.repair_start_ts) / 3600 for c in lv.courses]
        assert np.median(response) == pytest.approx(prof.response_h[contract], rel=0.1)  # type: ignore[index]
        assert np.median(repair) == pytest.approx(prof.repair_h, rel=0.1)


def test_onset_age_is_weibull_distributed() -> None:
    """Door gaskets (life 1.5 y, shape 2.5) on 600 new sterilizers over two years."""
    mode = "STER.DOOR_GASKET.WEAR"
    rel = MODES[mode]
    ages = []
    days = 730
    for i in range(600):
        lv = life(Modality.STERILIZER, i, seed=7)
        for m in lv.part_age_d:
            lv.part_age_d[m] = 0.0
        lv.next_pm_ts = float("inf")  # no PM part swaps in this test
        lv.plan_until(days)
        first = [c for c in lv.courses if c.mode == mode]
        ages.append((first[0].onset_ts - START) / DAY_S if first else math.inf)
    ages_y = np.array(ages) / 365.0
    for horizon in (0.5, 1.0, 1.5, 2.0):
        expected = 1.0 - math.exp(-((horizon / rel.life_years) ** rel.beta))
        observed = float(np.mean(ages_y <= horizon))
        sd = math.sqrt(expected * (1 - expected) / len(ages))
        # the daily step rounds ages to days; downtime of other modes pauses ageing a little
        assert abs(observed - expected) < 4 * sd + 0.02, (horizon, observed, expected)


def test_use_speeds_up_ageing() -> None:
    lazy = [life(Modality.STERILIZER, i, seed=3) for i in range(200)]
    busy = [life(Modality.STERILIZER, i, seed=3) for i in range(200)]
    for lv in busy:
        lv.use_scale = 2.0
    for lv in (*lazy, *busy):
        for m in lv.part_age_d:
            lv.part_age_d[m] = 0.0
        lv.next_pm_ts = float("inf")
        lv.plan_until(365)
    assert sum(len(lv.courses) for lv in busy) > 1.5 * sum(len(lv.courses) for lv in lazy)


def test_maintenance_on_schedule_replaces_consumables_and_finds_faults() -> None:
    lives = [life(Modality.STERILIZER, i, seed=11) for i in range(200)]
    for lv in lives:
        lv.plan_until(400)
    pms = [s for lv in lives for s in lv.services if s.kind == "pm"]
    per_device = len(pms) / len(lives)
    assert 400 / 90 - 1.5 < per_device < 400 / 90 + 0.5
    for s in pms:
        local_h = (s.start_ts % DAY_S) / 3600
        assert 8 <= local_h < 14 and int((s.start_ts // DAY_S + 3) % 7) < 5  # weekday hours
    # every 4th PM fits a new gasket; a new gasket beds in (look-alike) for three days
    assert any("gasket" in s.parts for s in pms)
    bedding = [e for lv in lives for e in lv.all_events() if "BEDDING_IN" in e.event]
    assert bedding and all(e.end_ts - e.start_ts == 3 * DAY_S for e in bedding)
    found = [c for lv in lives for c in lv.courses if c.found_ts is not None]
    assert found, "PM should find some degradations under way"
    for c in found:
        assert c.onset_ts <= c.found_ts < c.failure_ts


def test_no_problem_found_visits_and_quirks_occur_at_their_rates() -> None:
    lives = [life(Modality.INFUSION_PUMP, i, seed=5) for i in range(300)]
    for lv in lives:
        lv.plan_until(365)
    years = len(lives)
    prof = PROFILES[Modality.INFUSION_PUMP]
    npf = sum(1 for lv in lives for s in lv.services if s.kind == "npf")
    assert npf / years == pytest.approx(prof.npf_per_year, rel=0.35)
    outages = sum(1 for lv in lives for q in lv.quirks if q.kind == "outage")
    assert outages / years == pytest.approx(prof.outages_per_year, rel=0.2)
    events = sum(len(lv.events) for lv in lives)
    assert events / years == pytest.approx(prof.lookalike_per_year, rel=0.15)


def test_a_plan_is_a_prefix_of_a_longer_plan() -> None:
    short, long = life(Modality.CT, 1, seed=9), life(Modality.CT, 1, seed=9)
    short.plan_until(60)
    long.plan_until(120)
    end = START + 60 * DAY_S
    assert [c for c in long.courses if c.onset_ts < end] == short.courses
