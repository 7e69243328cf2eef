"""The life of one device: degradation onsets, failures, repairs, maintenance, look-alikes.

:class:`DeviceLife` plans one simulated day at a time from its own generator,
drawing a fixed number of variates per day whatever happens, so a 60-day run
is the first 60 days of a 90-day one and the plan never depends on signals.

* **Onset.** Each failure mode's part ages ``use_scale ** use_exponent`` days
  per day; the day's onset probability is ``1 - exp(-(H(a + da) - H(a)))``
  with the Weibull cumulative hazard ``H(a) = (a / life) ** beta``, so the age
  at onset is Weibull-distributed. A mode with a degradation under way (or a
  device down for repair) draws no new onset.
* **Course.** With probability ``sudden_fraction`` the failure is at onset (no
  precursor); otherwise it follows after a lognormal lead time.
* **Repair.** At failure the device is down; an engineer arrives after a
  lognormal response time (by contract) and repairs for a lognormal time; the
  part is new from then on (its age restarts at 0).
* **Preventive maintenance** every ``pm_interval_days`` (first one at a random
  phase), on a weekday between 08 and 14 h local: replaces consumables on
  their schedule, and finds a degradation under way with probability
  ``min(0.9, 1.5 * severity)`` (then fixed: outcome ``found_at_pm``).
* **No problem found** calls at ``npf_per_year``; look-alike events, stuck
  sensors, communication outages and recalibration steps as quirks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from htm_edge.config import catalog
from htm_edge.config.catalog import Shape
from htm_edge.config.inventory import Device
from htm_edge.simulators.core import shape_value
from htm_edge.simulators.hospital.records import (
    Course,
    EventRecord,
    QuirkRecord,
    Record,
    ServiceRecord,
)
from htm_edge.simulators.hospital.reliability import MODES, PROFILES, contract_of

__all__ = ["DRAWS_PER_DAY", "STEP_FRACTION", "DeviceLife", "LiveCourse"]

DAY_S = 86_400.0
DRAWS_PER_DAY = 64
#: a part swap moves its signal's level by about this share of the normal range (1 sd)
STEP_FRACTION = 0.04
_MAX_LEAD_D, _MIN_LEAD_D = 45.0, 0.5
_NORMAL = NormalDist()


def _z(u: float) -> float:
    return _NORMAL.inv_cdf(min(max(u, 1e-9), 1.0 - 1e-9))


@dataclass
class LiveCourse:
    """A degradation as the renderer sees it (mutable until it ends)."""

    mode: str
    shape: Shape
    onset_ts: float
    failure_ts: float
    sudden: bool
    repair_start_ts: float
    repair_end_ts: float
    found_ts: float | None = None
    cost: float = 0.0
    step_u: float = 0.5

    @property
    def end_ts(self) -> float:
        """When the part is new again (repair end, or PM end when found)."""
        return self.repair_end_ts

    def severity(self, t: float) -> float:
        """Severity in [0, 1] at ``t`` (0 before onset and once fixed)."""
        if t < self.onset_ts or t >= self.repair_end_ts:
            return 0.0
        if self.found_ts is not None and t >= self.found_ts:
            return 0.0
        if self.sudden or t >= self.failure_ts:
            return 1.0
        return shape_value(self.shape, (t - self.onset_ts) / (self.failure_ts - self.onset_ts))


class DeviceLife:
    """Plan of one device's life, one day at a time (see module docstring).

    Parameters
    ----------
    device:
        Inventory entry (modality, install date, service contract).
    rng:
        The device's own life generator.
    start_ts:
        Simulated time of day 0.
    tz_offset_s:
        Local time offset from UTC (working hours, weekdays).
    use_scale:
        The device's use relative to its modality's reference use.
    step_signals:
        Names of the signals that recalibration steps and stuck sensors may hit.
    """

    def __init__(
        self,
        device: Device,
        rng: np.random.Generator,
        start_ts: float,
        tz_offset_s: float,
        use_scale: float,
        step_signals: tuple[str, ...],
    ) -> None:
        self.device = device
        self.modality = device.modality
        self.profile = PROFILES[device.modality]
        self.modes = tuple(m.id for m in catalog.failure_modes_of(device.modality))
        self.contract = contract_of(device.service_owner)
        self._rng = rng
        self.start_ts = start_ts
        self.tz = tz_offset_s
        self.use_scale = use_scale
        self.step_signals = step_signals
        init = rng.random(8)
        if device.install_date is not None:
            epoch = math.floor(start_ts / DAY_S) - device.install_date.toordinal() + 719163
            device_age_d = max(30.0, float(epoch))
        else:
            device_age_d = 3 * 365.0
        self.part_age_d = {
            m: float(init[i]) * min(device_age_d, 1.2 * MODES[m].life_years * 365.0)
            for i, m in enumerate(self.modes)
        }
        self.next_pm_ts = start_ts + float(init[6]) * self.profile.pm_interval_days * DAY_S
        self.pm_count = int(init[7] * 4)
        self.courses: list[LiveCourse] = []
        self.services: list[ServiceRecord] = []
        self.events: list[EventRecord] = []
        self.quirks: list[QuirkRecord] = []
        self.days_planned = 0

    # ------------------------------------------------------------------ queries
    def active(self, mode: str, t: float) -> LiveCourse | None:
        """The course of ``mode`` not yet fixed at ``t``, if any."""
        for c in reversed(self.courses):
            if c.mode == mode and c.onset_ts <= t < c.end_ts:
                return c
        return None

    def down_until(self, t: float) -> float:
        """End of the repair downtime covering ``t`` (``t`` itself when up)."""
        until = t
        for c in self.courses:
            if c.found_ts is None and c.failure_ts <= t < c.repair_end_ts:
                until = max(until, c.repair_end_ts)
        return until

    def _down_during(self, start: float, end: float) -> bool:
        return any(
            c.found_ts is None and c.failure_ts < end and c.repair_end_ts > start
            for c in self.courses
        )

    def records(self) -> list[Record]:
        """The ground truth planned so far: degradations, services, events, quirks."""
        out: list[Record] = []
        dev = self.device.device_id
        for c in self.courses:
            found = c.found_ts is not None
            out.append(
                Course(
                    dev,
                    c.mode,
                    c.onset_ts,
                    c.failure_ts,
                    None if c.sudden else MODES[c.mode].precursor,
                    "found_at_pm" if found else "failed",
                    c.repair_end_ts,
                )
            )
            if not found:
                out.append(
                    ServiceRecord(
                        dev,
                        "repair",
                        c.repair_start_ts,
                        c.repair_end_ts,
                        c.mode,
                        (MODES[c.mode].part,),
                        round(c.cost, 2),
                    )
                )
        out.extend(self.services)
        out.extend(self.all_events())
        out.extend(self.all_quirks())
        return out

    def _course_swaps(self) -> tuple[list[EventRecord], list[QuirkRecord]]:
        events: list[EventRecord] = []
        quirks: list[QuirkRecord] = []
        for c in self.courses:
            ev, qu = self._after_part_swap(c.mode, c.end_ts, c.step_u)
            events.extend(ev)
            quirks.extend(qu)
        return events, quirks

    def all_events(self) -> list[EventRecord]:
        """Look-alike events, including those that follow a repair."""
        return [*self.events, *self._course_swaps()[0]]

    def all_quirks(self) -> list[QuirkRecord]:
        """Quirks, including the level step of every part replaced."""
        return [*self.quirks, *self._course_swaps()[1]]

    # ------------------------------------------------------------------ planning
    def plan_until(self, day: int) -> None:
        """Plan every day before ``day`` (days already planned are kept)."""
        while self.days_planned < day:
            self._plan_day(self.days_planned)
            self.days_planned += 1

    def _labour(self, hours: float) -> float:
        return hours * self.profile.labour_per_h[self.contract]

    def _local_midnight(self, t: float) -> float:
        return t - ((t + self.tz) % DAY_S)

    def _working_time(self, t0: float, u: float) -> float:
        """A time between 08 and 14 h local on the day containing ``t0`` (or the next)."""
        ts = self._local_midnight(t0) + (8.0 + 6.0 * u) * 3600.0
        return ts if ts >= t0 else ts + DAY_S

    def _plan_day(self, day: int) -> None:
        u = self._rng.random(DRAWS_PER_DAY)
        t0 = self.start_ts + day * DAY_S
        prof = self.profile
        down = self.down_until(t0) > t0
        for i, mode in enumerate(self.modes):
            rel = MODES[mode]
            if down or self.active(mode, t0) is not None:
                continue  # parts age in use; a degrading or repaired part is not at risk anew
            old = self.part_age_d[mode]
            self.part_age_d[mode] = old + self.use_scale**rel.use_exponent
            scale = rel.life_years * 365.0
            d_hazard = (self.part_age_d[mode] / scale) ** rel.beta - (old / scale) ** rel.beta
            if u[7 * i] >= -math.expm1(-d_hazard):
                continue
            self._start_course(mode, t0 + float(u[7 * i + 2]) * DAY_S, u[7 * i : 7 * i + 7])
        if not down and t0 >= self.next_pm_ts and self._weekday(t0) < 5:
            self._preventive_maintenance(self._working_time(t0, float(u[28])), u)
        if not down and u[29] < prof.npf_per_year / 365.0:
            start = self._working_time(t0, float(u[30]))
            hours = 1.0 + 2.0 * float(u[31])
            dev = self.device.device_id
            self.services.append(
                ServiceRecord(
                    dev, "npf", start, start + hours * 3600.0, None, (), self._labour(hours)
                )
            )
        if u[32] < prof.lookalike_per_year / 365.0:
            self._lookalike(t0 + float(u[33]) * DAY_S, float(u[34]))
        dev = self.device.device_id
        if self.step_signals and u[35] < prof.stuck_per_year / 365.0:
            start = t0 + float(u[36]) * DAY_S
            sig = self.step_signals[int(u[38] * len(self.step_signals))]
            end = start + (2.0 + 10.0 * float(u[37])) * 3600.0
            self.quirks.append(QuirkRecord(dev, "stuck", start, end, sig))
        if u[39] < prof.outages_per_year / 365.0:
            start = t0 + float(u[40]) * DAY_S
            end = start + (0.5 + 5.5 * float(u[41])) * 3600.0
            self.quirks.append(QuirkRecord(dev, "outage", start, end))
        self._weekly_events(t0)

    def _weekday(self, t: float) -> int:
        return int(((t + self.tz) // DAY_S + 3) % 7)  # 1970-01-01 was a Thursday

    def _start_course(self, mode: str, onset: float, u: np.ndarray) -> None:
        rel = MODES[mode]
        sudden = bool(u[1] < rel.sudden_fraction)
        lead_d = 0.0
        if not sudden:
            lead_d = rel.lead_days * math.exp(rel.lead_sigma * _z(float(u[3])))
            lead_d = min(_MAX_LEAD_D, max(_MIN_LEAD_D, lead_d))
        failure = onset + lead_d * DAY_S
        prof = self.profile
        response_h = prof.response_h[self.contract] * math.exp(0.5 * _z(float(u[4])))
        repair_h = prof.repair_h * math.exp(prof.repair_sigma * _z(float(u[5])))
        start = failure + response_h * 3600.0
        end = start + repair_h * 3600.0
        shape = catalog.CATALOG[mode].shape
        cost = rel.part_cost + self._labour(repair_h)
        course = LiveCourse(
            mode, shape, onset, failure, sudden, start, end, None, cost, float(u[6])
        )
        self.courses.append(course)
        self.part_age_d[mode] = 0.0  # the repair (or PM) fits a new part

    def _preventive_maintenance(self, start: float, u: np.ndarray) -> None:
        end = start + self.profile.pm_hours * 3600.0
        if self._down_during(start, end):  # a failure lands first: try again tomorrow
            return
        self.pm_count += 1
        self.next_pm_ts += self.profile.pm_interval_days * DAY_S
        parts: list[str] = []
        cost = self._labour(self.profile.pm_hours)
        for i, mode in enumerate(self.modes):
            rel = MODES[mode]
            course = self.active(mode, start)
            if (
                course is not None
                and course.failure_ts > end
                and not course.sudden
                and u[7 * i + 6] < min(0.9, 1.5 * course.severity(start))
            ):
                idx = self.courses.index(course)
                self.courses[idx] = replace(course, found_ts=start, repair_end_ts=end)
                parts.append(rel.part)
                cost += rel.part_cost
                self.part_age_d[mode] = 0.0
                continue
            if rel.pm_every and self.pm_count % rel.pm_every == 0:
                parts.append(rel.part)
                cost += rel.part_cost
                if course is None:
                    self.part_age_d[mode] = 0.0
                ev, qu = self._after_part_swap(mode, end, float(u[58 + i]))
                self.events.extend(ev)
                self.quirks.extend(qu)
        for k, sig in enumerate(self.step_signals[:8]):
            if u[42 + k] < 0.25:  # recalibration moves this signal's baseline a little
                delta = 0.5 * _z(float(u[50 + k])) * self._step_unit(sig)
                self.quirks.append(
                    QuirkRecord(self.device.device_id, "step", end, end, sig, delta, {"why": "pm"})
                )
        self.services.append(
            ServiceRecord(self.device.device_id, "pm", start, end, None, tuple(parts), cost)
        )
        if self.modality.value == "mri" and self.pm_count % 4 == 0:
            self.events.append(  # the adsorber change stops the compressor for a while
                EventRecord(
                    self.device.device_id, "MR.EVENT.COLDHEAD_SERVICE_STOP", start, start + 7200
                )
            )

    def _step_unit(self, signal: str) -> float:
        spec = catalog.signal_spec(self.modality, signal)
        return STEP_FRACTION * (spec.normal_high - spec.normal_low)

    def _after_part_swap(
        self, mode: str, ts: float, u: float
    ) -> tuple[list[EventRecord], list[QuirkRecord]]:
        """A new part settles at a slightly different level; a new gasket beds in."""
        dev = self.device.device_id
        quirks = [
            QuirkRecord(dev, "step", ts, ts, sig, _z(u) * self._step_unit(sig), {"why": mode})
            for sig in catalog.CATALOG[mode].signals[:1]
            if sig in self.step_signals
        ]
        events = []
        if mode == "STER.DOOR_GASKET.WEAR":
            events.append(EventRecord(dev, "STER.EVENT.NEW_GASKET_BEDDING_IN", ts, ts + 3 * DAY_S))
        return events, quirks

    def _lookalike(self, start: float, u: float) -> None:
        lo, hi = self.profile.lookalike_hours
        looks = catalog.lookalikes_of(self.modality)
        if not looks:
            return
        kind = looks[0].event
        if kind in {"MR.EVENT.COLDHEAD_SERVICE_STOP", "STER.EVENT.NEW_GASKET_BEDDING_IN"}:
            return  # tied to service, not random
        end = start + (lo + (hi - lo) * u) * 3600.0
        self.events.append(EventRecord(self.device.device_id, kind, start, end))

    def _weekly_events(self, t0: float) -> None:
        """A CT tube is cold on Monday mornings after the weekend: warm-up arcs."""
        if self.modality.value != "ct" or self._weekday(t0) != 0:
            return
        start = self._local_midnight(t0) + 7 * 3600.0
        start = start if start >= t0 else start + DAY_S
        self.events.append(
            EventRecord(self.device.device_id, "CT.EVENT.COLD_TUBE_WARMUP", start, start + 1800)
        )
