"""A fleet of simulated devices stepping together on one simulated clock.

Examples
--------
>>> from htm_edge.config.inventory import Device, Modality
>>> from htm_edge.simulators.config import FaultConfig
>>> mr = Device(device_id="MR-01", modality=Modality.MRI)
>>> fleet = Fleet([(mr, FaultConfig(failure_mode="MR.COLDHEAD.DEGRADATION",
...                                 start_s=7200, duration_s=14400))],
...               seed=1, sample_period_s=60.0, start_ts=1_767_225_600.0)
>>> [r.signal for r in fleet.step()[0]][:2]
['helium_level_pct', 'coldhead_2nd_stage_k']
>>> fleet.ground_truth()[0].failure_ts - fleet.ground_truth()[0].onset_ts
14400.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from htm_edge.collector.reading import Reading
from htm_edge.config.inventory import Device, InventoryConfig
from htm_edge.simulators.config import FaultConfig, SimulationConfig
from htm_edge.simulators.core import DeviceModel, SimEvent, device_rng
from htm_edge.simulators.devices import MODELS
from htm_edge.simulators.errors import SimulatorError

__all__ = ["EventLabel", "FaultLabel", "Fleet"]


@dataclass(frozen=True, slots=True)
class FaultLabel:
    """Ground truth of one injected fault: degradation from onset, failure at failure_ts."""

    device_id: str
    failure_mode: str
    onset_ts: float
    failure_ts: float


@dataclass(frozen=True, slots=True)
class EventLabel:
    """Ground truth of one injected look-alike (benign) event."""

    device_id: str
    event: str
    start_ts: float
    end_ts: float


class Fleet:
    """Simulated devices sampled every ``sample_period_s`` simulated seconds.

    Parameters
    ----------
    devices:
        Inventory entries with an optional fault each.
    seed:
        Fleet seed; each device's random stream derives from it and the device id.
    sample_period_s:
        Simulated seconds between samples.
    start_ts:
        Epoch timestamp of the first sample (simulated second 0).
    events:
        Optional look-alike events per device id (see ``catalog.LOOKALIKES``).
    tz_offset_s:
        Offset of the hospital's local time from UTC, for the diurnal cycle.

    Raises
    ------
    SimulatorError
        On an unsupported modality, an unknown or foreign failure mode or event,
        a duplicate device id, or events for a device not in the fleet.
    """

    def __init__(
        self,
        devices: Sequence[tuple[Device, FaultConfig | None]],
        seed: int,
        sample_period_s: float,
        start_ts: float,
        *,
        events: Mapping[str, Sequence[SimEvent]] | None = None,
        tz_offset_s: float = 0.0,
    ) -> None:
        if sample_period_s <= 0:
            raise SimulatorError(f"sample_period_s must be > 0, got {sample_period_s}")
        if start_ts <= 0:
            raise SimulatorError(f"start_ts must be positive epoch seconds, got {start_ts}")
        events = dict(events or {})
        ids = [d.device_id for d, _ in devices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise SimulatorError(f"device ids listed twice: {', '.join(dupes)}")
        stray = sorted(set(events) - set(ids))
        if stray:
            raise SimulatorError(f"events given for devices not in the fleet: {', '.join(stray)}")
        self.seed = seed
        self.sample_period_s = float(sample_period_s)
        self.start_ts = float(start_ts)
        self.tz_offset_s = tz_offset_s
        self.devices: tuple[Device, ...] = tuple(d for d, _ in devices)
        self._faults = tuple(f for _, f in devices)
        self._models: list[DeviceModel] = []
        for device, fault in devices:
            model_cls = MODELS.get(device.modality)
            if model_cls is None:
                known = ", ".join(m.value for m in MODELS)
                raise SimulatorError(
                    f"device {device.device_id!r}: no simulator for modality "
                    f"{device.modality.value!r}; simulated modalities: {known}"
                )
            spec = None if fault is None else (fault.failure_mode, fault.start_s, fault.duration_s)
            try:
                model = model_cls(
                    device.device_id,
                    device_rng(seed, device.device_id),
                    spec,
                    events.get(device.device_id, ()),
                )
            except SimulatorError as exc:
                raise SimulatorError(f"device {device.device_id!r}: {exc}") from None
            self._models.append(model)
        self._k = 0

    @classmethod
    def from_config(
        cls,
        sim: SimulationConfig,
        inventory: InventoryConfig,
        start_ts: float,
        *,
        seed: int | None = None,
        sample_period_s: float | None = None,
    ) -> Fleet:
        """Build the fleet of the ``[simulation]`` section from its devices and the inventory.

        ``seed`` and ``sample_period_s`` override the configured values; each
        simulated device's ``events`` become look-alike events.
        """
        if not sim.devices:
            raise SimulatorError(
                "simulation.devices is empty; list the inventory devices to simulate"
            )
        pairs: list[tuple[Device, FaultConfig | None]] = []
        events: dict[str, list[SimEvent]] = {}
        for i, sim_dev in enumerate(sim.devices):
            device = inventory.lookup(sim_dev.device_id)
            if device is None:
                raise SimulatorError(
                    f"simulation.devices[{i}].device_id {sim_dev.device_id!r} is not in "
                    "inventory.devices; add it to the inventory"
                )
            pairs.append((device, sim_dev.fault))
            for ev in sim_dev.events:
                events.setdefault(device.device_id, []).append(
                    SimEvent(ev.event, ev.start_s, ev.duration_s)
                )
        return cls(
            pairs,
            seed=sim.seed if seed is None else seed,
            sample_period_s=sim.sample_period_s if sample_period_s is None else sample_period_s,
            start_ts=start_ts,
            events=events,
        )

    @property
    def step_index(self) -> int:
        """Number of samples taken so far (the index of the next one)."""
        return self._k

    @property
    def next_ts(self) -> float:
        """Epoch timestamp of the next sample."""
        return self.start_ts + self._k * self.sample_period_s

    def step(self) -> list[list[Reading]]:
        """Sample every device at the next sample time.

        Returns one list per device, in fleet order; a device in a
        communications gap contributes an empty list.
        """
        t_s = self._k * self.sample_period_s
        ts = self.start_ts + t_s
        hour = ((ts + self.tz_offset_s) % 86400.0) / 3600.0
        out = [m.sample(t_s, ts, self.sample_period_s, hour) for m in self._models]
        self._k += 1
        return out

    def ground_truth(self) -> list[FaultLabel]:
        """One label per injected fault: onset and failure as epoch timestamps."""
        return [
            FaultLabel(
                d.device_id,
                f.failure_mode,
                self.start_ts + f.start_s,
                self.start_ts + f.start_s + f.duration_s,
            )
            for d, f in zip(self.devices, self._faults, strict=True)
            if f is not None
        ]

    def event_labels(self) -> list[EventLabel]:
        """One label per injected look-alike event (these must not raise alerts)."""
        return [
            EventLabel(
                m.device_id,
                e.kind,
                self.start_ts + e.start_s,
                self.start_ts + e.start_s + e.duration_s,
            )
            for m in self._models
            for e in m.events
        ]
