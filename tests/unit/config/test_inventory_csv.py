"""The inventory CSV: round trip, errors naming row and column, loading from a config."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from htm_edge.config.errors import ConfigError
from htm_edge.config.inventory import Device, Modality
from htm_edge.config.inventory_csv import (
    CSV_COLUMNS,
    inventory_csv_text,
    read_inventory_csv,
    read_inventory_csv_text,
)
from htm_edge.gateway.settings import load_config, parse_config

FULL = Device(
    device_id="DEF-0007",
    modality=Modality.DEFIBRILLATOR,
    asset_tag="BME-000007",
    site="st-marys",
    location="Building A, level 1",
    department="Emergency",
    room="Resus 2",
    manufacturer="ZOLL",
    model="R Series",
    serial="AF12345678",
    em_number=17,
    service_owner="iso",
    install_date=date(2019, 3, 14),
    firmware="4.2.1",
    purchase_cost=18500.0,
)


def test_round_trip_keeps_every_field() -> None:
    text = inventory_csv_text([FULL, Device(device_id="X-1", modality=Modality.CT)])
    assert text.splitlines()[0].split(",") == list(CSV_COLUMNS)
    assert read_inventory_csv_text(text, "t.csv") == [
        FULL,
        Device(device_id="X-1", modality=Modality.CT),
    ]


def test_existing_configs_without_new_fields_stay_valid() -> None:
    cfg = load_config(None)
    assert cfg.inventory.lookup("MR-01") is not None
    assert cfg.inventory.lookup("MR-01").install_date is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("device_id,kind\nA,mri\n", "row 1: unknown column 'kind'"),
        ("device_id\nA\n", "row 1: required column 'modality' is missing"),
        ("device_id,modality\nA,mri\nB,toaster\n", "row 3, column modality: Input should be"),
        ("device_id,modality\n,mri\n", "row 2, column device_id: required, is empty"),
        ("device_id,modality\nbad id,mri\n", "row 2, column device_id: String should match"),
        ("device_id,modality,em_number\nA,mri,30\n", "row 2, column em_number: Input should be"),
        ("device_id,modality,install_date\nA,mri,14/03/2019\n", "not a date (YYYY-MM-DD)"),
        ("device_id,modality,purchase_cost\nA,mri,cheap\n", "column purchase_cost: 'cheap'"),
        ("device_id,modality\nA,mri,extra\n", "row 2: 3 cells for 2 columns"),
    ],
)
def test_errors_name_the_row_and_column(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"inv\.csv") as info:
        read_inventory_csv_text(text, "inv.csv")
    assert message in str(info.value)


def test_config_loads_csv_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "fleet.csv").write_text(inventory_csv_text([FULL]), encoding="utf-8")
    (tmp_path / "gw.toml").write_text(
        '[inventory]\ncsv = "fleet.csv"\n[[inventory.devices]]\n'
        'device_id = "MR-01"\nmodality = "mri"\n',
        encoding="utf-8",
    )
    cfg = load_config(tmp_path / "gw.toml")
    assert [d.device_id for d in cfg.inventory.devices] == ["MR-01", "DEF-0007"]
    assert cfg.inventory.lookup("DEF-0007") == FULL
    assert read_inventory_csv(tmp_path / "fleet.csv") == [FULL]


def test_config_errors_name_file_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "fleet.csv").write_text("device_id,modality,em_number\nA,mri,x\n", encoding="utf-8")
    (tmp_path / "gw.toml").write_text('[inventory]\ncsv = "fleet.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"inventory: .*fleet\.csv row 2, column em_number"):
        load_config(tmp_path / "gw.toml")
    with pytest.raises(ConfigError, match="cannot read the inventory CSV"):
        parse_config('[inventory]\ncsv = "/nonexistent/fleet.csv"\n')


def test_duplicate_ids_across_inline_and_csv_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "fleet.csv").write_text(inventory_csv_text([FULL]), encoding="utf-8")
    (tmp_path / "gw.toml").write_text(
        '[inventory]\ncsv = "fleet.csv"\n[[inventory.devices]]\n'
        'device_id = "DEF-0007"\nmodality = "defibrillator"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="'DEF-0007' is listed twice"):
        load_config(tmp_path / "gw.toml")
