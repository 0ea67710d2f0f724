"""The store's layout is versioned (PRAGMA user_version) and upgraded in place, one step at a time."""

from __future__ import annotations

import sqlite3

import pytest

from pelotonxl.errors import ConfigError
from pelotonxl.peloton import store as store_module
from pelotonxl.peloton.store import SCHEMA_VERSION, WorkoutStore
from pelotonxl.state import StateFolder

WORKOUT = {"id": "a" * 32, "created_at": 1_700_000_000, "start_time": 1_700_000_000, "status": "COMPLETE",
           "end_time": 1_700_001_800}


def user_version(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_store_carries_the_current_version(tmp_path):
    path = tmp_path / "store.sqlite"
    WorkoutStore(path).close()
    assert SCHEMA_VERSION >= 1
    assert user_version(path) == SCHEMA_VERSION


def test_a_store_from_before_versioning_keeps_its_data_and_is_numbered(tmp_path):
    path = tmp_path / "store.sqlite"
    with WorkoutStore(path) as store:
        store.save_workouts([WORKOUT])
        store.save_graphs([(WORKOUT["id"], {"summaries": []})], every_n=300)
    with sqlite3.connect(path) as db:   # what every store written before versioning looks like
        db.execute("PRAGMA user_version = 0")
    with WorkoutStore(path) as store:
        assert [w["id"] for w, g in store.records()] == [WORKOUT["id"]]
        assert store.count() == 1
    assert user_version(path) == SCHEMA_VERSION


def test_a_migration_step_runs_once_and_a_failing_one_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    with WorkoutStore(path) as store:
        store.save_workouts([WORKOUT])
    next_version = SCHEMA_VERSION + 1

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", next_version)
    monkeypatch.setitem(store_module.MIGRATIONS, next_version,
                        ("ALTER TABLE graphs ADD COLUMN samples BLOB", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        WorkoutStore(path)
    assert user_version(path) == SCHEMA_VERSION            # the half-done step was rolled back
    with sqlite3.connect(path) as db:
        assert "samples" not in [row[1] for row in db.execute("PRAGMA table_info(graphs)")]

    monkeypatch.setitem(store_module.MIGRATIONS, next_version, ("ALTER TABLE graphs ADD COLUMN samples BLOB",))
    with WorkoutStore(path) as store:
        assert store.count() == 1
    with WorkoutStore(path):                               # already there: the step does not run again
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
