"""The work order document follows docs/work-order.schema.json in every state."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from htm_edge.alerting.actions import acknowledge, resolve
from htm_edge.alerting.config import AlertingConfig
from htm_edge.models.types import Score
from tests.unit.alerting.alerting_fixtures import engine, lifecycle, scores

SCHEMA = json.loads(
    (Path(__file__).parents[3] / "docs" / "work-order.schema.json").read_text(encoding="utf-8")
)
CFG = AlertingConfig.model_validate(
    {
        "engineers": [{"name": "Ana", "email": "ana@x.example", "phone": "+1"}],
        "grouping": {"group_wait_s": 0},
    }
)


def documents() -> list[dict[str, object]]:
    life = lifecycle(CFG)
    eng = engine()

    def feed(items: list[Score]) -> None:
        for s in items:
            for event in eng.process(s):
                life.ingest(event, eng.work_order(event), s.ts)

    def current() -> dict[str, object]:
        row = life.store.one("SELECT document FROM work_orders")
        assert row is not None
        doc: dict[str, object] = json.loads(row["document"])
        return doc

    # a falling helium level that alerts, then comes back (the engine resolves it)
    feed([Score("mr-1", "helium_level_pct", i * 60.0, 0.999, 70.0 - i) for i in range(30)])
    (wo,) = life.store.query("SELECT id FROM work_orders")
    docs = [current(), acknowledge(life, wo["id"], "Ana", now=3000.0)]
    feed(scores("mr-1", "helium_level_pct", [0.01] * 20, start=1800.0, value=70.0))
    docs.append(current())
    docs.append(resolve(life, wo["id"], "confirmed", "Ana", part="cold head", now=9000.0))
    return docs


def test_the_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_documents_of_every_state_validate() -> None:
    docs = documents()
    for doc in docs:
        jsonschema.validate(doc, SCHEMA)
    first = docs[0]
    assert first["device"]["serial"] == "SN-4711"  # type: ignore[index]
    assert first["assignment"]["engineer"]["name"] == "Ana"  # type: ignore[index]
    assert first["assignment"]["vendor"] is not None  # MR with an OEM contract: a service call
    assert "never replaces it" in str(first["planned_maintenance_note"])
    last = docs[-1]
    assert len(last["evidence"][0]["series"]) > 3  # type: ignore[index]
    assert last["evidence"][0]["trend_per_h"] < 0  # type: ignore[index]
    assert [d["state"] for d in docs] == ["firing", "acknowledged", "resolved", "resolved"]
    assert [d["condition"] for d in docs] == ["active", "active", "cleared", "cleared"]
    assert last["outcome"]["code"] == "confirmed"  # type: ignore[index]


def test_a_wrong_document_is_refused() -> None:
    doc = documents()[0]
    doc["state"] = "open"
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError as exc:
        assert "open" in str(exc.message)
    else:
        raise AssertionError("an unknown state passed the schema")
