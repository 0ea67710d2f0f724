"""The store's layout is versioned (PRAGMA user_version) and upgraded in place, one step at a time."""

from __future__ import annotations

import json
import sqlite3
import zlib

import pytest

from pelotonxl.errors import ConfigError
from pelotonxl.peloton import store as store_module
from pelotonxl.peloton.store import SCHEMA_VERSION, WorkoutStore
from pelotonxl.state import StateFolder

WORKOUT = {
    "id": "a" * 32,
    "created_at": 1_700_000_000,
    "start_time": 1_700_000_000,
    "status": "COMPLETE",
    "end_time": 1_700_001_800,
}


def user_version(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_store_carries_the_current_version(tmp_path):
    path = tmp_path / "store.sqlite"
    WorkoutStore(path).close()
    assert SCHEMA_VERSION >= 1
    assert user_version(path) == SCHEMA_VERSION


# The layout every store had up to version 1 (graphs as JSON text), as those stores hold it.
LAYOUT_V1 = (
    "CREATE TABLE workouts (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, start_time INTEGER, "
    "status TEXT, json TEXT NOT NULL, fetched_at REAL NOT NULL)",
    "CREATE INDEX workouts_created ON workouts (created_at DESC)",
    "CREATE TABLE graphs (workout_id TEXT PRIMARY KEY, every_n INTEGER, json TEXT NOT NULL, fetched_at REAL NOT NULL)",
    "CREATE TABLE graph_failures (workout_id TEXT PRIMARY KEY, error TEXT NOT NULL, attempts INTEGER NOT NULL, "
    "last_tried REAL NOT NULL)",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
GRAPH = {
    "seconds_since_pedaling_start": [5, 10],
    "metrics": [{"slug": "output", "values": [101, 99.5]}],
    "summaries": [{"slug": "total_output", "value": 18}],
}


def old_store(path, version: int) -> None:
    """A store as a version-`version` peloton_xl (0: before versioning) left it: a workout and its graph."""
    with sqlite3.connect(path) as db:
        for statement in LAYOUT_V1:
            db.execute(statement)
        db.execute(
            "INSERT INTO workouts VALUES (?, ?, ?, ?, ?, ?)",
            (WORKOUT["id"], WORKOUT["created_at"], WORKOUT["start_time"], "COMPLETE", json.dumps(WORKOUT), 1.0),
        )
        db.execute("INSERT INTO graphs VALUES (?, 300, ?, 1.0)", (WORKOUT["id"], json.dumps(GRAPH)))
        db.execute("INSERT INTO meta VALUES ('frontier', '1700000000')")
        db.execute(f"PRAGMA user_version = {version}")


@pytest.mark.parametrize("version", [0, 1])
def test_an_older_store_keeps_its_workouts_and_graphs_and_is_upgraded(tmp_path, version):
    path = tmp_path / "store.sqlite"
    old_store(path, version)
    with WorkoutStore(path) as store:
        assert list(store.records()) == [(WORKOUT, GRAPH)]
        assert store.frontier() == 1_700_000_000
        assert store.coarser_graphs(5) == [WORKOUT["id"]]  # fetched at 300 s: refined later
        assert store.coarser_graphs(300) == []
        assert store.stale_derived("rows", "1") == [WORKOUT["id"]]  # version 3: no records yet, derived next
    assert user_version(path) == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(graphs)")]
        blob = db.execute("SELECT data FROM graphs").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert columns == ["workout_id", "every_n", "data", "fetched_at"]
    assert json.loads(zlib.decompress(blob)) == GRAPH
    assert "graphs_v1" not in tables


def test_a_graph_is_stored_compressed_and_read_back_as_it_came(tmp_path):
    path = tmp_path / "store.sqlite"
    graph = {
        "metrics": [{"slug": "output", "values": [150 + (i % 7) for i in range(1800)]}],
        "seconds_since_pedaling_start": list(range(1, 1801)),
    }
    with WorkoutStore(path) as store:
        store.save_workouts([WORKOUT])
        store.save_graphs([(WORKOUT["id"], graph)], every_n=1)
        assert store.graph(WORKOUT["id"]) == graph and store.graph("b" * 32) is None
        assert store.coarser_graphs(1) == [] and store.coarser_graphs(0) == [WORKOUT["id"]]
    with sqlite3.connect(path) as db:
        stored = len(db.execute("SELECT data FROM graphs").fetchone()[0])
    assert stored < len(json.dumps(graph)) / 4


def test_a_migration_step_runs_once_and_a_failing_one_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    with WorkoutStore(path) as store:
        store.save_workouts([WORKOUT])
    next_version = SCHEMA_VERSION + 1

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", next_version)
    monkeypatch.setitem(
        store_module.MIGRATIONS, next_version, ("ALTER TABLE graphs ADD COLUMN samples BLOB", "THIS IS NOT SQL")
    )
    with pytest.raises(sqlite3.OperationalError):
        WorkoutStore(path)
    assert user_version(path) == SCHEMA_VERSION  # the half-done step was rolled back
    with sqlite3.connect(path) as db:
        assert "samples" not in [row[1] for row in db.execute("PRAGMA table_info(graphs)")]

    monkeypatch.setitem(store_module.MIGRATIONS, next_version, ("ALTER TABLE graphs ADD COLUMN samples BLOB",))
    with WorkoutStore(path) as store:
        assert store.count() == 1
    with WorkoutStore(path):  # already there: the step does not run again
        pass
    assert user_version(path) == next_version
    with sqlite3.connect(path) as db:
        assert "samples" in [row[1] for row in db.execute("PRAGMA table_info(graphs)")]


def test_a_store_from_a_newer_peloton_xl_is_refused_in_one_line(tmp_path):
    path = StateFolder(tmp_path).store_file("b" * 32)
    WorkoutStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer peloton_xl") as caught:
        WorkoutStore(path)
    assert "\n" not in str(caught.value)


def test_the_state_folder_alone_names_its_files(tmp_path):
    state = StateFolder(tmp_path)
    assert state.store_file("c" * 32) == tmp_path / "accounts" / ("c" * 32) / "store.sqlite"
    assert state.token_file("Me@Example.com") == state.token_file(" me@example.com ")
    assert state.token_file("me@example.com").parent == tmp_path / "tokens"
    assert "example" not in state.token_file("me@example.com").name
    assert state.last_account() is None
    state.remember_account("c" * 32)
    assert state.last_account() == "c" * 32
    with pytest.raises(ValueError):
        state.store_file("../..")


def test_the_store_and_its_write_ahead_files_are_owner_only(tmp_path):
    import os
    import stat

    path = tmp_path / "store.sqlite"
    old_umask = os.umask(0o022)
    try:
        with WorkoutStore(path) as store:
            store.save_workouts([WORKOUT])
            files = [path, path.with_name("store.sqlite-wal"), path.with_name("store.sqlite-shm")]
            assert all(f.exists() for f in files)
            assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {"0o600"}
    finally:
        os.umask(old_umask)


def test_a_tilde_in_the_state_folder_means_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert StateFolder("~/peloton").root == tmp_path / "peloton"


def test_records_without_samples_keep_the_summaries_for_the_tables(tmp_path):
    graph = {
        "seconds_since_pedaling_start": [5, 10],
        "summaries": [{"slug": "total_output", "value": 18}],
        "metrics": [
            {"slug": "output", "values": [101, 99], "average_value": 100},
            {"slug": "pace", "values": [9.1, 9.0], "alternatives": [{"slug": "speed", "values": [6, 7]}]},
        ],
    }
    with WorkoutStore(tmp_path / "store.sqlite") as store:
        store.save_workouts([WORKOUT])
        store.save_graphs([(WORKOUT["id"], graph)], every_n=5)
        assert list(store.records()) == [(WORKOUT, graph)]
        ((_, light),) = store.records(samples=False)
    assert light == {
        "summaries": [{"slug": "total_output", "value": 18}],
        "metrics": [{"slug": "output", "average_value": 100}, {"slug": "pace", "alternatives": [{"slug": "speed"}]}],
    }


def test_rides_without_details_reads_a_workout_whose_field_is_infinite(tmp_path):
    # Found by test_hostile_generated (a page's `created` of inf): SQLite's JSON functions refuse the
    # Infinity Python's json writes, so the rides needing their ftp_info are picked in Python.
    ride = {"id": "r1", "created": float("inf"), "end_time": 1, "fitness_discipline": "cycling"}
    run = {"id": "w2", "created": float("nan"), "end_time": 1, "fitness_discipline": "running"}
    with WorkoutStore(tmp_path / "s.sqlite") as store:
        store.save_workouts([ride, run])
        assert store.rides_without_details() == ["r1"]
        assert store.rides_without_details(["r1", "w2"], limit=1) == ["r1"]


def test_what_a_refresh_asks_of_every_workout_is_not_read_again_until_raw_data_change(tmp_path):
    ride = {**WORKOUT, "fitness_discipline": "cycling"}
    run = {**WORKOUT, "id": "b" * 32, "fitness_discipline": "running"}
    with WorkoutStore(tmp_path / "store.sqlite") as store:
        store.save_workouts([ride, run])
        store.save_graphs([(ride["id"], {}), (run["id"], {})], every_n=5)
        store.save_details([(ride["id"], {"ftp_info": None})])
        scans: list[str] = []
        store.db.set_trace_callback(lambda sql: scans.append(sql) if "JOIN" in sql else None)

        def asked() -> tuple[list[str], list[str], list[str]]:
            return store.ids_needing_graph(), store.rides_without_details(limit=200), store.coarser_graphs(5)

        assert asked() == ([], [], [])
        assert len(scans) == 3  # each looked once and found nothing
        assert asked() == ([], [], []) and len(scans) == 3  # nothing changed since: nothing read
        late = {**ride, "id": "c" * 32, "created_at": WORKOUT["created_at"] + 60}
        store.save_workouts([late])  # a new ride, its graph and details still to fetch
        scans.clear()
        assert asked() == ([late["id"]], [late["id"]], [])
        assert len(scans) >= 3
        store.save_graphs([(late["id"], {})], every_n=300)  # fetched coarser than the setting
        assert store.coarser_graphs(5) == [late["id"]] and store.ids_needing_graph() == []
        assert store.coarser_graphs(300) == []


def test_a_store_as_the_last_checked_refresh_closed_it_is_not_checked_again(tmp_path, monkeypatch):
    checks: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(lambda sql: checks.append(sql) if "quick_check" in sql else None)
        return db

    monkeypatch.setattr(store_module.sqlite3, "connect", traced)
    home, user = tmp_path / "home", "d" * 32
    for _ in range(2):
        store, _ = WorkoutStore.open_or_set_aside(home, user)
        store.save_workouts([WORKOUT])  # its own writes, after the check, leave nothing to check again
        store.close()
    assert len(checks) == 1
    with WorkoutStore(WorkoutStore.path_for(home, user)) as other:  # written by something that did not check it
        other.save_workouts([{**WORKOUT, "id": "e" * 32}])
    WorkoutStore.open_or_set_aside(home, user)[0].close()
    assert len(checks) == 2


def test_a_reader_between_refreshes_leaves_the_store_vouched_for(tmp_path, monkeypatch):
    """Excel's functions open the store between refreshes: an opening that changes nothing (not even the
    mode, whose chmod would move the change time) costs the next refresh no integrity check."""
    checks: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(lambda sql: checks.append(sql) if "quick_check" in sql else None)
        return db

    monkeypatch.setattr(store_module.sqlite3, "connect", traced)
    home, user = tmp_path / "home", "d" * 32
    store, _ = WorkoutStore.open_or_set_aside(home, user)
    store.save_workouts([WORKOUT])
    store.close()
    with WorkoutStore(WorkoutStore.path_for(home, user)) as reader:
        assert reader.count() == 1
    WorkoutStore.open_or_set_aside(home, user)[0].close()
    assert len(checks) == 1


def test_a_graph_another_program_removed_is_asked_for_again(tmp_path):
    home, user = tmp_path / "home", "d" * 32
    store, _ = WorkoutStore.open_or_set_aside(home, user)
    store.save_workouts([WORKOUT])
    store.save_graphs([(WORKOUT["id"], {})], every_n=5)
    assert store.ids_needing_graph() == []  # answered: not asked again while the data stay as they are
    store.close()
    with sqlite3.connect(WorkoutStore.path_for(home, user)) as other:
        other.execute("DELETE FROM graphs")
    other.close()
    store, _ = WorkoutStore.open_or_set_aside(home, user)
    assert store.ids_needing_graph() == [WORKOUT["id"]]
    store.close()
