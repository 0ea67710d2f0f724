"""The per-workout records kept in the store (model/derived.py, store version 3): the tables, the power
curve and the worksheet functions built from them are exactly what the raw JSON gives, and a refresh
that finds nothing new parses no stored graph."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelotonxl import refresh_job
from pelotonxl.demo.account import make_account
from pelotonxl.excel.functions import MetricIndex
from pelotonxl.model import derived, power_curve, tables
from pelotonxl.peloton import store as store_module
from pelotonxl.peloton.store import WorkoutStore

FIXTURES = Path(__file__).parent / "fixtures_tables"
DEMO = make_account(60, seed=5)
POOL = [tuple(json.loads(p.read_text(encoding="utf-8")).values()) for p in sorted(FIXTURES.glob("*.json"))] + [
    (w, DEMO.graph(w["id"])) for w in DEMO.workouts
]


def through_the_store(pairs) -> list[tuple[str, dict]]:
    """What a refresh reads back: each facet's JSON text, parsed again."""
    records = derived.derive_records(pairs)
    return [(wid, json.loads(text)) for wid, text in records["rows"]], [
        (wid, json.loads(text)) for wid, text in records["efforts"]
    ]


def same_table(a: tables.SheetTable, b: tables.SheetTable) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert (a.number_formats, a.widths, a.metric_columns) == (b.number_formats, b.widths, b.metric_columns)


@given(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=25, unique=True))
def test_tables_from_stored_records_are_the_tables_from_the_raw_json(picked):
    pairs = [POOL[i] for i in picked]
    rows, _ = through_the_store(pairs)
    for made, expected in zip(tables.tables_from_rows([r for _, r in rows]), tables.build_tables(pairs), strict=True):
        same_table(made, expected)
    stored = MetricIndex.from_json(json.loads(json.dumps(MetricIndex.from_rows(rows).to_json())))
    raw = MetricIndex.build(pairs)
    assert (stored.starts, stored.catalog, list(stored.rows)) == (raw.starts, raw.catalog, list(raw.rows))
    for wid in raw.rows:
        assert (
            stored.values_of(wid)
            == raw.values_of(wid)
            == tables.metric_values(*next(p for p in pairs if p[0]["id"] == wid))
        )


@given(st.lists(st.sampled_from(range(len(POOL))), min_size=0, max_size=25, unique=True))
def test_the_power_curve_from_stored_efforts_is_the_curve_from_the_samples(picked):
    pairs = [POOL[i] for i in picked]
    _, efforts = through_the_store(pairs)
    made = power_curve.curve_from_efforts(efforts)
    expected = power_curve.power_curve(power_curve.bike_series(pairs))
    assert made.durations.tolist() == expected.durations.tolist()
    assert [(r.workout_id, r.start) for r in made.rides] == [(r.workout_id, r.start) for r in expected.rides]
    np.testing.assert_allclose(made.best, expected.best, rtol=1e-9, equal_nan=True)


def test_a_workout_whose_json_is_unchanged_keeps_its_records_and_a_changed_one_loses_them(tmp_path):
    workout, graph = POOL[-1]
    with WorkoutStore(tmp_path / "store.sqlite") as store:
        store.save_workouts([workout])
        store.save_graphs([(workout["id"], graph)], 5)
        version = store.data_version()
        derived.update(store)
        assert store.stale_derived("rows", derived.ROWS.version) == []
        assert store.save_workouts([dict(workout)]) == 0  # listed again, the same: nothing written
        assert store.stale_derived("rows", derived.ROWS.version) == []
        assert store.data_version() == version
        assert store.save_workouts([{**workout, "title": "renamed"}]) == 1
        assert store.stale_derived("rows", derived.ROWS.version) == [workout["id"]]
        assert store.data_version() == version + 1
        derived.update(store)
        store.save_graphs([(workout["id"], graph)], 1)  # refined: the efforts may differ
        assert store.stale_derived("efforts", derived.EFFORTS.version) == [workout["id"]]
        assert store.data_version() == version + 2


def test_records_of_older_code_are_derived_again(tmp_path):
    workout, graph = POOL[-1]
    with WorkoutStore(tmp_path / "store.sqlite") as store:
        store.save_workouts([workout])
        store.save_graphs([(workout["id"], graph)], 5)
        store.save_derived("rows", "0-older", [(workout["id"], "{}")])
        assert store.stale_derived("rows", derived.ROWS.version) == [workout["id"]]
        assert derived.update(store) == 2  # both facets read it
        ((wid, row),) = derived.load(store, derived.ROWS)
        assert wid == workout["id"] and row["w"]["Workout ID"] == workout["id"]


@pytest.fixture
def unpacked(monkeypatch):
    """The workout ids whose stored graph gets parsed."""
    seen: list[bytes] = []
    real = store_module.unpack_graph

    def counting(data: bytes) -> dict:
        seen.append(data)
        return real(data)

    monkeypatch.setattr(store_module, "unpack_graph", counting)
    return seen


def test_a_refresh_parses_no_stored_graph_but_the_ride_sheets(server, settings, account, unpacked):
    refresh_job.run_refresh(settings, lambda content: None)  # first: every graph parsed as it arrives
    unpacked.clear()
    written = []
    refresh_job.run_refresh(settings, written.append)
    parsed = len(unpacked)
    view = written[0].ride.view
    class_id = account.workout(view.workout_id)["ride"]["id"]
    same_class = [w["id"] for w in account.workouts if (w.get("ride") or {}).get("id") == class_id]
    # Only the Ride sheet's rides are read (its class's); the tables and the curve come from the records.
    assert 0 < parsed <= len(same_class) < len(account.workouts)
    assert {view.workout_id, *(a.workout_id for a in view.previous)} <= set(same_class)
