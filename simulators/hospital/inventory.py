"""A realistic hospital inventory: N devices across sites, departments, makes and models.

The fleet mix follows a typical acute hospital network (infusion pumps and
patient monitors dominate, one MRI per 100 devices or so); makes and models
are real product lines, serials are made up. EM numbers follow Fennigkoh and
Smith (function + physical risk + maintenance + incident history). Everything
is deterministic from the seed.

Examples
--------
>>> devices, use = generate_inventory(20, seed=3)
>>> len(devices), devices[0].device_id, 0.4 < use[0] < 1.7
(20, 'INF-0001', True)
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from htm_edge.config.inventory import Device, Modality
from htm_edge.simulators.errors import SimulatorError

__all__ = ["MIX", "generate_inventory"]

#: modality -> (share of devices, id prefix)
MIX: dict[Modality, tuple[float, str]] = {
    Modality.INFUSION_PUMP: (0.42, "INF"),
    Modality.PATIENT_MONITOR: (0.22, "MON"),
    Modality.VENTILATOR: (0.08, "VEN"),
    Modality.DEFIBRILLATOR: (0.10, "DEF"),
    Modality.ANESTHESIA: (0.06, "ANE"),
    Modality.STERILIZER: (0.05, "STE"),
    Modality.CT: (0.04, "CT"),
    Modality.MRI: (0.03, "MR"),
}

_SITES = (
    ("st-marys", "St Mary's General", 0.5),
    ("northgate", "Northgate Hospital", 0.35),
    ("riverside", "Riverside Clinic", 0.15),
)

# modality -> ((manufacturer, model, firmware, cost USD), ...)
_MAKES: dict[Modality, tuple[tuple[str, str, str, float], ...]] = {
    Modality.MRI: (
        ("Siemens Healthineers", "MAGNETOM Sola 1.5T", "XA51", 1_600_000),
        ("GE HealthCare", "SIGNA Artist 1.5T", "RX29", 1_500_000),
        ("Philips", "Ingenia Ambition 1.5T", "R11.1", 1_700_000),
    ),
    Modality.CT: (
        ("GE HealthCare", "Revolution EVO", "CT30", 650_000),
        ("Siemens Healthineers", "SOMATOM go.Top", "VA40", 700_000),
        ("Canon Medical", "Aquilion Prime SP", "V10", 620_000),
    ),
    Modality.INFUSION_PUMP: (
        ("BD", "Alaris 8100 LVP", "12.1.2", 3_200),
        ("B. Braun", "Infusomat Space", "689L", 3_500),
        ("Baxter", "Spectrum IQ", "9.02", 3_900),
    ),
    Modality.VENTILATOR: (
        ("Draeger", "Evita V600", "3.10", 42_000),
        ("Hamilton Medical", "Hamilton-C6", "2.2.4", 45_000),
        ("Medtronic", "Puritan Bennett 980", "2.4", 40_000),
    ),
    Modality.PATIENT_MONITOR: (
        ("Philips", "IntelliVue MX450", "M.00.03", 9_500),
        ("GE HealthCare", "CARESCAPE B450", "3.1", 9_000),
        ("Mindray", "BeneVision N15", "02.07", 7_500),
    ),
    Modality.DEFIBRILLATOR: (
        ("ZOLL", "R Series ALS", "4.20", 18_500),
        ("Stryker", "LIFEPAK 15", "3.03", 29_000),
        ("Philips", "HeartStart MRx", "F.03", 21_000),
    ),
    Modality.STERILIZER: (
        ("STERIS", "Amsco 400 Medium", "5.1", 95_000),
        ("Getinge", "HS6613", "3.4", 120_000),
        ("Tuttnauer", "44-series ELVC", "2.8", 60_000),
    ),
    Modality.ANESTHESIA: (
        ("GE HealthCare", "Aisys CS2", "11.0", 75_000),
        ("Draeger", "Perseus A500", "2.03", 80_000),
        ("Mindray", "A7", "02.10", 55_000),
    ),
}

# modality -> (departments, room template, EM number, contract odds oem/iso/in-house)
_PLACES: dict[Modality, tuple[tuple[str, ...], str, int, tuple[float, float, float]]] = {
    Modality.MRI: (("Radiology",), "MR room {n}", 15, (0.85, 0.1, 0.05)),
    Modality.CT: (("Radiology", "Emergency radiology"), "CT bay {n}", 14, (0.8, 0.15, 0.05)),
    Modality.INFUSION_PUMP: (
        ("ICU", "Medical ward", "Surgical ward", "Oncology", "Emergency"),
        "Bed {n}",
        17,
        (0.05, 0.15, 0.8),
    ),
    Modality.VENTILATOR: (("ICU", "Emergency", "NICU"), "Bed {n}", 20, (0.3, 0.2, 0.5)),
    Modality.PATIENT_MONITOR: (
        ("ICU", "Emergency", "Theatres", "Step-down unit"),
        "Bed {n}",
        14,
        (0.1, 0.2, 0.7),
    ),
    Modality.DEFIBRILLATOR: (
        ("Emergency", "Medical ward", "Surgical ward", "ICU", "Radiology"),
        "Crash cart {n}",
        17,
        (0.1, 0.2, 0.7),
    ),
    Modality.STERILIZER: (("Sterile services (CSSD)",), "Autoclave {n}", 12, (0.3, 0.4, 0.3)),
    Modality.ANESTHESIA: (("Theatres",), "Theatre {n}", 19, (0.4, 0.3, 0.3)),
}
_CONTRACTS = ("oem", "iso", "in-house")


def _counts(n: int) -> list[tuple[Modality, int]]:
    """Largest-remainder split of ``n`` over :data:`MIX` (every modality once when n >= 8)."""
    shares = [(m, n * s) for m, (s, _) in MIX.items()]
    counts = {m: int(x) for m, x in shares}
    if n >= len(MIX):
        for m in counts:
            counts[m] = max(1, counts[m])
    rest = n - sum(counts.values())
    order = sorted(shares, key=lambda mx: mx[1] - int(mx[1]), reverse=True)
    i = 0
    while rest != 0:
        m = order[i % len(order)][0]
        if rest > 0:
            counts[m] += 1
            rest -= 1
        elif counts[m] > 1:
            counts[m] -= 1
            rest += 1
        i += 1
    return [(m, counts[m]) for m in MIX if counts[m] > 0]


def generate_inventory(
    n: int, seed: int, reference: date = date(2026, 1, 1)
) -> tuple[list[Device], list[float]]:
    """``n`` devices and each one's use relative to its modality's reference use.

    Install dates fall 0.5-12 years before ``reference``; busier departments
    (ICU, emergency) get higher use.
    """
    if n < 1:
        raise SimulatorError(f"an inventory needs at least one device, got {n}")
    rng = np.random.default_rng(np.random.SeedSequence([seed % 2**64, 0x1417]))
    devices: list[Device] = []
    use: list[float] = []
    tag = 100_000 + int(rng.integers(0, 800_000))
    for modality, count in _counts(n):
        prefix = MIX[modality][1]
        departments, room, em, odds = _PLACES[modality]
        for k in range(1, count + 1):
            u = rng.random(8)
            site_i = int(np.searchsorted(np.cumsum([s[2] for s in _SITES]), u[0] * 0.9999))
            site, site_name, _ = _SITES[site_i]
            dept = departments[int(u[1] * len(departments))]
            make, model, firmware, cost = _MAKES[modality][int(u[2] * 3)]
            contract = _CONTRACTS[int(np.searchsorted(np.cumsum(odds), u[3] * 0.9999))]
            installed = reference - timedelta(days=int(180 + u[4] * 11.5 * 365))
            busy = 1.25 if dept in {"ICU", "Emergency", "Emergency radiology"} else 1.0
            tag += 1 + int(u[5] * 7)
            devices.append(
                Device(
                    device_id=f"{prefix}-{k:04d}",
                    modality=modality,
                    asset_tag=f"BME-{tag:06d}",
                    site=site,
                    location=f"{site_name}, building {'ABC'[int(u[6] * 3)]}",
                    department=dept,
                    room=room.format(n=1 + int(u[7] * 30)),
                    manufacturer=make,
                    model=model,
                    serial=f"{''.join(c for c in make if c.isalpha())[:2].upper()}"
                    f"{int(u[5] * 1e8):08d}",
                    em_number=em,
                    service_owner=contract,
                    install_date=installed,
                    firmware=firmware,
                    purchase_cost=round(cost * (0.9 + 0.2 * float(u[4])), -1),
                )
            )
            use.append(round(busy * float(np.exp(0.25 * rng.standard_normal())), 3))
    return devices, use
