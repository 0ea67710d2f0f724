"""WorkoutStore: the raw JSON of every workout and performance graph, one SQLite file per account.

Keeping Peloton's own JSON means the tables can change shape and be rebuilt without a request.
A finished workout's graph is fetched once, ever; a workout without a graph is what the next
sync still owes. Sync bookkeeping (the frontier) is written in the same transaction as the data
it vouches for, so a killed process never leaves a checkpoint that claims too much.

Derived records (the `derived` table, store version 3): what the model computes from one workout's
raw JSON and graph, kept so a refresh never parses an old graph again. The contract:
- One row per (workout, facet). A facet is a named JSON object computed from that workout's
  `(workout, graph)` alone (`model/derived.py` registers them: "rows", the workout's Workouts and
  Metrics cells; "efforts", a ride's best outputs); `version` names the code that computed it.
- The store never computes one. It drops a workout's derived rows, in the same transaction, whenever
  that workout's raw data changes (its JSON differs, its graph is saved, it is pruned), so a derived
  row present at the current version is always current. A facet that reads another raw source must
  call `invalidate_derived` in the transaction that saves it.
- `stale_derived(facet, version)` names the workouts lacking one; `save_derived` and `derived` write
  and read them (newest first, as `records`). `data_version()` counts the changes of raw data: equal
  counts mean equal data, which is how a refresh knows the workbook already shows it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import ConfigError, PelotonXLError
from pelotonxl.peloton.csv_import import CSV_ID_PREFIX, is_imported, match_key
from pelotonxl.peloton.fields import checked_graph, checked_workout, epoch
from pelotonxl.state import StateFolder, checked_store_record

# The store's layout, as PRAGMA user_version numbers it. A change of layout adds a step to MIGRATIONS
# that takes a store from the version before to this one; opening a store runs the steps it lacks.
SCHEMA_VERSION = 4
# A graph is Peloton's JSON, zlib-compressed: a one-second graph of a half-hour ride is ~40 kB of
# JSON and ~12 kB stored. every_n is the sampling it was fetched at, so a finer setting refetches it.
SCHEMA = """
CREATE TABLE IF NOT EXISTS workouts (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    start_time INTEGER,
    status TEXT,
    json TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS workouts_created ON workouts (created_at DESC);
CREATE TABLE IF NOT EXISTS graphs (
    workout_id TEXT PRIMARY KEY,
    every_n INTEGER,
    data BLOB NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS graph_failures (
    workout_id TEXT PRIMARY KEY,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_tried REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workout_details (workout_id TEXT PRIMARY KEY, json TEXT NOT NULL, fetched_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS workout_loads (workout_id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS derived (
    workout_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    version TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (workout_id, facet)
);
"""


# version -> the statements that bring a store of version - 1 up to it (one execute() each:
# executescript() would commit half-way). Version 1 is the first layout, which stores made before
# versioning (user_version 0) already have; version 2 compresses the graphs (json TEXT -> data BLOB);
# version 3 adds the derived records (empty: the next refresh computes them, parsing each graph once).
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (),
    2: (
        "ALTER TABLE graphs RENAME TO graphs_v1",
        "CREATE TABLE graphs (workout_id TEXT PRIMARY KEY, every_n INTEGER, data BLOB NOT NULL, "
        "fetched_at REAL NOT NULL)",
        "INSERT INTO graphs (workout_id, every_n, data, fetched_at) "
        "SELECT workout_id, every_n, compress_json(json), fetched_at FROM graphs_v1",
        "DROP TABLE graphs_v1",
    ),
    3: (
        "CREATE TABLE derived (workout_id TEXT NOT NULL, facet TEXT NOT NULL, version TEXT NOT NULL, "
        "data TEXT NOT NULL, PRIMARY KEY (workout_id, facet))",
    ),
    # What GET /api/workout/{id} adds for a ride (its ftp_info), fetched once; and each workout's load
    # figures as the last refresh computed them (what the worksheet functions and the export answer).
    4: (
        "CREATE TABLE workout_details (workout_id TEXT PRIMARY KEY, json TEXT NOT NULL, fetched_at REAL NOT NULL)",
        "CREATE TABLE workout_loads (workout_id TEXT PRIMARY KEY, json TEXT NOT NULL)",
    ),
}
# Finished rides whose ftp_info is missing get it fetched, newest first, this many per refresh when
# they are not new (a store from before details were kept upgrades over a few refreshes).
DETAILS_PER_REFRESH = 200


# Workouts imported from the website's CSV whose API record has replaced them: CSV id -> API id (JSON),
# so the member's notes typed on a CSV row follow its workout into the workbook (model.workbook.follow_renamed).
RENAMED_IDS = "renamed_ids"
# CSV ids sort between these: a range on the primary key, never a scan.
_CSV_RANGE = (CSV_ID_PREFIX, CSV_ID_PREFIX[:-1] + chr(ord(CSV_ID_PREFIX[-1]) + 1))
# A CSV workout's graph holds summaries only: stored as the finest sampling, so it is never "refined".
_CSV_EVERY_N = 1


def pack_graph(graph: dict) -> bytes:
    return zlib.compress(json.dumps(graph, separators=(",", ":")).encode(), 6)


def unpack_graph(data: bytes) -> dict:
    return json.loads(zlib.decompress(data))


def _drop_samples(graph: dict) -> None:
    graph.pop("seconds_since_pedaling_start", None)
    metrics = graph.get("metrics")
    for entry in metrics if isinstance(metrics, list) else []:
        if isinstance(entry, dict):
            entry.pop("values", None)
            alternatives = entry.get("alternatives")
            for alternative in alternatives if isinstance(alternatives, list) else []:
                if isinstance(alternative, dict):
                    alternative.pop("values", None)


def _compress_json(text: str | bytes) -> bytes:
    """SQL function for the version-2 step: a stored JSON text as the compressed blob."""
    return zlib.compress(text.encode() if isinstance(text, str) else text, 6)


def _is_ride(workout: dict[str, Any]) -> bool:
    """A Bike workout (the ones scored against an FTP)."""
    joined = workout.get("ride")
    ride: dict[str, Any] = joined if isinstance(joined, dict) else {}
    discipline = workout.get("fitness_discipline") or ride.get("fitness_discipline")
    return isinstance(discipline, str) and discipline.lower() == "cycling"


def is_finished(workout: dict) -> bool:
    """A workout still under way has no end time; its summary is not final."""
    return workout.get("status") != "IN_PROGRESS" and workout.get("end_time") is not None


class WorkoutStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte. SQLite gives the -wal and -shm files it creates the store's
        # own mode, so they are owner-only too (a store made 0644 and chmod-ed later left them 0644).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        _owner_only(self.path)
        # check_same_thread off: the UDF index may be built on a different thread than it was opened on;
        # every write still comes from the sync's main thread.
        self._checked = False  # passed its integrity check on opening (open_or_set_aside)
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers (the UDFs) never block a refresh
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.create_function("compress_json", 1, _compress_json, deterministic=True)
        self._create_or_migrate()
        for companion in watched_files(self.path)[1:] + (str(self.path) + "-shm",):
            if os.path.exists(companion):  # left by an older version with the wider mode
                _owner_only(companion)

    def _create_or_migrate(self) -> None:
        """A new store gets the current layout and version in one transaction; an old one is migrated."""
        try:
            with self._transaction():
                if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'workouts'").fetchone() is None:
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            self.db.close()
            raise
        self._migrate()

    def _migrate(self) -> None:
        """Bring the store's layout up to SCHEMA_VERSION, one step per version, each in one transaction."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            raise ConfigError(
                f"The local store {self.path} was written by a newer peloton_xl (layout "
                f"{version}, this one knows {SCHEMA_VERSION}): update peloton_xl."
            )
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                with self._transaction():
                    for statement in MIGRATIONS[step]:
                        self.db.execute(statement)
                    self.db.execute(f"PRAGMA user_version = {step}")
        except BaseException:
            self.db.close()
            raise

    @staticmethod
    def path_for(home: Path, user_id: str) -> Path:
        return StateFolder(home).store_file(user_id)

    @classmethod
    def for_account(cls, home: Path, user_id: str) -> WorkoutStore:
        return cls(cls.path_for(home, user_id))

    @classmethod
    def open_or_set_aside(cls, home: Path, user_id: str, today: str | None = None) -> tuple[WorkoutStore, str | None]:
        """The account's store for a refresh; a damaged one (truncated, overwritten, not SQLite) is renamed
        beside itself with the date and a new one started, which the refresh fills from Peloton again.
        Returns the store and, when one was set aside, the line that says so."""
        path = cls.path_for(home, user_id)
        try:
            identity = _file_identity(path)
            unchanged = identity is not None and identity == _checked_identity(path)
            store = cls(path)
            try:
                # Read whole, a check costs as much as the history is long: a file as the last checked
                # refresh closed it (nothing but SQLite's own writes since that check) is not read again.
                if not unchanged and store.db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    raise sqlite3.DatabaseError("its integrity check failed")
                if not unchanged:  # another program may have removed a graph or details: ask again
                    with store._transaction():
                        store.db.execute("DELETE FROM meta WHERE key LIKE 'none_since:%'")
            except BaseException:
                store.close()
                raise
            store._checked = True
            return store, None
        except sqlite3.DatabaseError as exc:
            if not _damage(exc):
                raise  # locked, full, read-only: the machine's trouble, said as such
            why = str(exc)
        stamp = today or time.strftime("%Y-%m-%d")
        aside = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
        os.replace(path, aside)
        for companion in ("-wal", "-shm"):
            if os.path.exists(str(path) + companion):
                os.replace(str(path) + companion, str(aside) + companion)
        note = (
            f"The local store {path} was damaged ({why}): set aside as {aside.name} and rebuilt from Peloton "
            "(every workout and graph fetched again)."
        )
        return cls(path), note

    def close(self) -> None:
        self.db.close()
        if self._checked:  # closed: the write-ahead log folded in (unless a reader holds it), the file as it stays
            self._checked = False
            try:
                with replacing(checked_store_record(self.path)) as temp:
                    temp.write_text(json.dumps(_file_identity(self.path)), encoding="utf-8")
            except OSError:
                pass  # the next refresh checks the store again, that is all

    def __enter__(self) -> WorkoutStore:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if _damage(exc):
            # Damage the skipped check could not see (a disk's bad sector changes no stamp): this file is not
            # vouched for, so the next refresh checks it, sets it aside and rebuilds it from Peloton.
            self._checked = False
            self.close()
            try:
                checked_store_record(self.path).unlink(missing_ok=True)
            except OSError:
                pass
            raise PelotonXLError(
                f"The local store {self.path} is damaged ({exc}): refresh again to set it aside and rebuild it "
                "from Peloton."
            ) from None
        self.close()

    # -- writes (each one transaction) ---------------------------------------------------------------
    def save_workouts(self, workouts: Iterable[dict]) -> int:
        """Store the workouts whose JSON is new or changed (their derived records dropped); returns how many."""
        workouts = list(workouts)
        now = time.time()
        rows = {
            w["id"]: (
                w["id"],
                epoch(w.get("created_at")) or epoch(w.get("start_time")) or 0,
                epoch(w.get("start_time")),
                w.get("status") if isinstance(w.get("status"), str) else None,
                json.dumps(w, separators=(",", ":")),
                now,
            )
            for w in workouts
        }
        with self._transaction():
            for chunk in _chunks(list(rows)):
                marks = ",".join("?" * len(chunk))
                for wid, stored in self.db.execute(f"SELECT id, json FROM workouts WHERE id IN ({marks})", chunk):
                    if rows[wid][4] == stored:  # unchanged: its derived records stay valid
                        del rows[wid]
            self.db.executemany(
                "INSERT INTO workouts (id, created_at, start_time, status, json, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET created_at=excluded.created_at, "
                "start_time=excluded.start_time, status=excluded.status, json=excluded.json, "
                "fetched_at=excluded.fetched_at",
                list(rows.values()),
            )
            self._changed(list(rows))
            self._replace_imported([w for w in workouts if not is_imported(w["id"])])
        return len(rows)

    def _replace_imported(self, workouts: list[dict]) -> None:
        """The CSV rows of workouts the API now lists give way to the API's records (same start minute,
        discipline and class title); their ids are remembered as renamed."""
        rows = self.db.execute("SELECT id, json FROM workouts WHERE id >= ? AND id < ?", _CSV_RANGE).fetchall()
        if not rows or not workouts:
            return
        by_key = {match_key(json.loads(raw)): wid for wid, raw in rows}
        renamed = {by_key[key]: w["id"] for w in workouts if (key := match_key(w)) in by_key}
        if not renamed:
            return
        for table, column in (("workouts", "id"), ("graphs", "workout_id"), ("graph_failures", "workout_id")):
            self.db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(old,) for old in renamed])
        self._changed(list(renamed))
        self._set_meta(RENAMED_IDS, json.dumps(self.renamed_ids() | renamed))

    def import_records(self, records: Iterable[tuple[dict, dict | None]]) -> int:
        """Workouts read from the website's CSV, with their summary-only graphs. One the store already
        holds from the API (or held, before the API's record replaced it) is left out; one imported
        before is written again as it reads now. Returns how many the store did not hold."""
        records = list(records)
        api_keys = {
            match_key(json.loads(raw))
            for wid, raw in self.db.execute("SELECT id, json FROM workouts")
            if not is_imported(wid)
        }
        replaced = self.renamed_ids()
        fresh = [(w, g) for w, g in records if w["id"] not in replaced and match_key(w) not in api_keys]
        held = set(self.statuses(w["id"] for w, _ in fresh))
        now = time.time()
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO workouts (id, created_at, start_time, status, json, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(w["id"], int(w["created_at"]), w["start_time"], w["status"], json.dumps(w), now) for w, _ in fresh],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO graphs (workout_id, every_n, data, fetched_at) VALUES (?, ?, ?, ?)",
                [(w["id"], _CSV_EVERY_N, pack_graph(g or {}), now) for w, g in fresh],
            )
            self._changed([w["id"] for w, _ in fresh])
        return sum(1 for w, _ in fresh if w["id"] not in held)

    def absorb(self, other: Path) -> int:
        """The CSV workouts of another store file (imported before the account was known) into this
        one; that file is removed. Returns how many were new here."""
        if not other.exists():
            return 0
        with WorkoutStore(other) as earlier:
            added = self.import_records(earlier.records())
        for name in (other, Path(f"{other}-wal"), Path(f"{other}-shm")):
            name.unlink(missing_ok=True)
        try:
            other.parent.rmdir()  # its own folder under imports/, empty now
        except OSError:
            pass
        return added

    def save_graphs(self, graphs: Iterable[tuple[str, dict | bytes]], every_n: int) -> None:
        """Graphs as Peloton sent them, or already compressed by `pack_graph`."""
        now = time.time()
        rows = [(wid, every_n, g if isinstance(g, bytes) else pack_graph(g), now) for wid, g in graphs]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO graphs (workout_id, every_n, data, fetched_at) VALUES (?, ?, ?, ?)", rows
            )
            self.db.executemany("DELETE FROM graph_failures WHERE workout_id = ?", [(r[0],) for r in rows])
            self._changed([r[0] for r in rows])

    def record_failures(self, failures: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        with self._transaction():
            self.db.executemany(
                "INSERT INTO graph_failures (workout_id, error, attempts, last_tried) VALUES (?, ?, 1, ?) "
                "ON CONFLICT(workout_id) DO UPDATE SET error=excluded.error, "
                "attempts=attempts+1, last_tried=excluded.last_tried",
                [(wid, err, now) for wid, err in failures],
            )

    def finish_full_sync(self, seen_ids: set[str], frontier: int | None) -> int:
        """After a complete walk of every page: drop what Peloton no longer has. Returns how many."""
        with self._transaction():
            # A workout imported from the CSV was never in Peloton's list: it stays until the API's replaces it.
            gone = [
                r[0]
                for r in self.db.execute("SELECT id FROM workouts")
                if r[0] not in seen_ids and not is_imported(r[0])
            ]
            for table, column in (
                ("workouts", "id"),
                ("graphs", "workout_id"),
                ("graph_failures", "workout_id"),
                ("workout_details", "workout_id"),
                ("workout_loads", "workout_id"),
            ):
                self.db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(g,) for g in gone])
            self._changed(gone)
            self._set_meta("frontier", str(frontier or 0))
        return len(gone)

    def save_details(self, details: Iterable[tuple[str, dict]]) -> None:
        """What GET /api/workout/{id} says that the list does not (ftp_info), kept once and for all."""
        now = time.time()
        rows = [(wid, json.dumps(d, separators=(",", ":")), now) for wid, d in details]
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO workout_details (workout_id, json, fetched_at) VALUES (?, ?, ?)", rows
            )
            if rows:  # a ride's FTP is new: its load changes (its derived records do not depend on it)
                self._set_meta("data_version", str(self.data_version() + 1))

    def save_loads(self, loads: dict[str, dict], keep_only: bool = True) -> None:
        """Each workout's load figures as this refresh computed them; `keep_only` drops the others."""
        with self._transaction():
            if keep_only:
                self.db.execute("DELETE FROM workout_loads")
            self.db.executemany(
                "INSERT OR REPLACE INTO workout_loads (workout_id, json) VALUES (?, ?)",
                [(wid, json.dumps(v, separators=(",", ":"))) for wid, v in loads.items()],
            )

    def set_frontier(self, created_at: int) -> None:
        with self._transaction():
            self._set_meta("frontier", str(created_at))

    def save_derived(self, facet: str, version: str, rows: Iterable[tuple[str, str]]) -> None:
        """(workout id, JSON text) records of one facet, computed by `version` of its code."""
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO derived (workout_id, facet, version, data) "
                "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workouts WHERE id = ?)",
                [(wid, facet, version, data, wid) for wid, data in rows],
            )

    def invalidate_derived(self, ids: Iterable[str]) -> None:
        """Drop these workouts' derived records (call inside the transaction that changes their raw data)."""
        self.db.executemany("DELETE FROM derived WHERE workout_id = ?", [(wid,) for wid in ids])

    def remember(self, key: str, value: dict) -> None:
        """A small JSON note kept beside the data (what a refresh needs next time, say /api/me's FTP)."""
        with self._transaction():
            self._set_meta(f"note:{key}", json.dumps(value, separators=(",", ":")))

    # -- reads --------------------------------------------------------------------------------------
    def frontier(self) -> int | None:
        """created_at up to which every workout is known and finished (set by a completed sync)."""
        value = self._meta("frontier")
        return int(value) if value is not None else None

    def statuses(self, ids: Iterable[str]) -> dict[str, str | None]:
        """id -> stored status, for those of `ids` the store holds."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, status FROM workouts WHERE id IN ({marks})", ids))

    def without_graph(self, ids: Iterable[str]) -> list[str]:
        """Those of `ids` whose graph the store does not hold, in the given order."""
        ids = list(ids)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        have = {r[0] for r in self.db.execute(f"SELECT workout_id FROM graphs WHERE workout_id IN ({marks})", ids)}
        return [wid for wid in ids if wid not in have]

    def ids_needing_graph(self) -> list[str]:
        """Finished workouts whose graph is missing: new ones, failed ones, ones a killed run left."""

        def find() -> list[str]:
            rows = self.db.execute(
                "SELECT w.id, w.json FROM workouts w LEFT JOIN graphs g ON g.workout_id = w.id "
                "WHERE g.workout_id IS NULL ORDER BY w.created_at DESC"
            )
            return [wid for wid, raw in rows if is_finished(json.loads(raw))]

        return self._none_since_last_time("graphs", find)

    def graph_failure_attempts(self) -> dict[str, int]:
        """id -> on how many refreshes its graph has failed so far (a fetched graph clears it)."""
        return dict(self.db.execute("SELECT workout_id, attempts FROM graph_failures"))

    def coarser_graphs(self, every_n: int, limit: int | None = None) -> list[str]:
        """Workouts whose stored graph is sampled coarser than `every_n` seconds, newest first.

        Stores filled before a finer setting (the old default was 300 s) are refined from these,
        a few per refresh."""

        def find() -> list[str]:
            rows = self.db.execute(
                "SELECT g.workout_id FROM graphs g JOIN workouts w ON w.id = g.workout_id "
                "WHERE g.every_n IS NULL OR g.every_n > ? ORDER BY w.created_at DESC, w.id LIMIT ?",
                (every_n, -1 if limit is None else limit),
            )
            return [r[0] for r in rows]

        return self._none_since_last_time(f"coarser:{every_n}", find)

    def details(self) -> dict[str, dict]:
        """workout id -> its stored details (`{"ftp_info": ...}`; `{}` when Peloton had none)."""
        return {wid: json.loads(raw) for wid, raw in self.db.execute("SELECT workout_id, json FROM workout_details")}

    def loads(self) -> dict[str, dict]:
        """workout id -> the load figures the last refresh stored, in the order it computed them (the Fitness
        table's daily sums, made again from these on a new day, add them up in that order)."""
        rows = self.db.execute("SELECT workout_id, json FROM workout_loads ORDER BY rowid")
        return {wid: json.loads(raw) for wid, raw in rows}

    def rides_without_details(self, ids: Iterable[str] | None = None, limit: int | None = None) -> list[str]:
        """Finished Bike workouts (of `ids`, else all) whose details are not stored, newest first."""
        query = (
            "SELECT w.id, w.json FROM workouts w LEFT JOIN workout_details d ON d.workout_id = w.id "
            # A cheap superset in SQL (LIKE ignores ASCII case), the exact test in Python: SQLite's JSON
            # functions refuse the Infinity and NaN a hostile field may have stored.
            "WHERE d.workout_id IS NULL AND w.json LIKE '%cycling%'"
        )
        args: list[str] = []
        if ids is not None:
            args = list(ids)
            if not args:
                return []
            query += f" AND w.id IN ({','.join('?' * len(args))})"

        def find() -> list[str]:
            found = []
            for wid, raw in self.db.execute(query + " ORDER BY w.created_at DESC, w.id", args):
                workout = json.loads(raw)
                if is_finished(workout) and _is_ride(workout):
                    found.append(wid)
                    if limit is not None and len(found) >= limit:
                        break
            return found

        return find() if ids is not None else self._none_since_last_time("details", find)

    def graph(self, workout_id: str) -> dict | None:
        """One workout's stored graph, or None."""
        row = self.db.execute("SELECT data FROM graphs WHERE workout_id = ?", (workout_id,)).fetchone()
        return checked_graph(unpack_graph(row[0])) if row else None

    def unreadable(self) -> dict[str, str]:
        """The workouts the last sync could not read (label -> what), reported until they read."""
        value = self._meta("unreadable")
        return dict(json.loads(value)) if value else {}

    def set_unreadable(self, unreadable: dict[str, str]) -> None:
        with self._transaction():
            self._set_meta("unreadable", json.dumps(unreadable, sort_keys=True))

    def renamed_ids(self) -> dict[str, str]:
        """CSV id -> the API id of the workout that replaced it."""
        value = self._meta(RENAMED_IDS)
        return json.loads(value) if value else {}

    def failures(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT workout_id, error FROM graph_failures"))

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM workouts").fetchone()[0]

    def count_of(self, ids: Iterable[str]) -> int:
        """How many of `ids` the store holds."""
        wanted = set(ids)
        return sum(1 for (wid,) in self.db.execute("SELECT id FROM workouts") if wid in wanted)

    def identity(self) -> str:
        """A name for this store, made once: two stores never share one (nor their data versions)."""
        value = self._meta("store_id")
        if value is None:
            with self._transaction():
                value = self._meta("store_id") or uuid.uuid4().hex
                self._set_meta("store_id", value)
        return value

    def data_version(self) -> int:
        """Counts every change of raw data (workouts, graphs, pruning): unchanged means nothing new."""
        return int(self._meta("data_version") or 0)

    def recalled(self, key: str) -> dict | None:
        """What `remember` kept under key, or None."""
        value = self._meta(f"note:{key}")
        return json.loads(value) if value is not None else None

    def stale_derived(self, facet: str, version: str) -> list[str]:
        """Workouts without a `facet` record computed by `version`, newest first."""
        rows = self.db.execute(
            "SELECT w.id FROM workouts w LEFT JOIN derived d ON d.workout_id = w.id AND d.facet = ? "
            "AND d.version = ? WHERE d.workout_id IS NULL ORDER BY w.created_at DESC, w.id",
            (facet, version),
        )
        return [r[0] for r in rows]

    def derived(self, facet: str, version: str) -> Iterator[tuple[str, str]]:
        """(workout id, JSON text) of every current `facet` record, newest first (the order of `records`)."""
        return iter(
            self.db.execute(
                "SELECT w.id, d.data FROM workouts w JOIN derived d ON d.workout_id = w.id "
                "WHERE d.facet = ? AND d.version = ? ORDER BY w.created_at DESC, w.id",
                (facet, version),
            )
        )

    def ids(self) -> list[str]:
        """Every workout's id, newest first (the order of `records`)."""
        return [r[0] for r in self.db.execute("SELECT id FROM workouts ORDER BY created_at DESC, id")]

    def workouts_of(self, ids: list[str]) -> dict[str, dict]:
        """id -> stored workout JSON, for those of `ids` the store holds."""
        found: dict[str, dict] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for wid, raw in self.db.execute(f"SELECT id, json FROM workouts WHERE id IN ({marks})", chunk):
                found[wid] = checked_workout(json.loads(raw))
        return found

    def records_of(self, ids: list[str], samples: bool = True) -> Iterator[tuple[dict, dict | None]]:
        """(workout, graph or None) of these workouts, in the given order (`records`, for a few)."""
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            found = {
                wid: (workout, graph)
                for wid, workout, graph in self.db.execute(
                    f"SELECT w.id, w.json, g.data FROM workouts w LEFT JOIN graphs g ON g.workout_id = w.id "
                    f"WHERE w.id IN ({marks})",
                    chunk,
                )
            }
            for wid in chunk:
                if wid in found:
                    yield _record(*found[wid], samples)

    def records(self, samples: bool = True) -> Iterator[tuple[dict, dict | None]]:
        """Every (workout, graph or None), newest first: the input of tables.build_tables, each field
        checked as `fields` says (a field of the wrong type or an absurd number reads as blank).

        `samples=False` leaves out each graph's samples (`metrics[].values`, the time axis): the
        summaries are all the tables need, and thousands of fine graphs' samples are hundreds of MB
        as Python objects."""
        rows = self.db.execute(
            "SELECT w.json, g.data FROM workouts w LEFT JOIN graphs g ON g.workout_id = w.id "
            "ORDER BY w.created_at DESC, w.id"
        )
        for workout, graph in rows:
            yield _record(workout, graph, samples)

    # -- internals ----------------------------------------------------------------------------------
    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _none_since_last_time(self, question: str, find: Callable[[], list[str]]) -> list[str]:
        """`find()` over every workout, skipped while the raw data are as they were when it last found nothing:
        what these questions look for (a graph, a ride's details, a finer graph missing) can appear only with
        a change of raw data (a workout new or changed, pruned), which moves `data_version`; answering them
        from the data is what a nothing-new refresh must not pay for as the history grows."""
        key = f"none_since:{question}"
        version = str(self.data_version())
        if self._meta(key) == version:
            return []
        found = find()
        if not found:
            with self._transaction():
                self._set_meta(key, version)
        return found

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _changed(self, ids: list[str]) -> None:
        """Inside a write: these workouts' raw data changed (their derived records go, the count moves)."""
        if ids:
            self.invalidate_derived(ids)
            self._set_meta("data_version", str(self.data_version() + 1))


def _record(workout: str, graph: bytes | None, samples: bool) -> tuple[dict, dict | None]:
    """A stored pair as the model reads it: each field checked as `fields` says (a field of the wrong type
    or an absurd number reads as blank)."""
    unpacked = checked_graph(unpack_graph(graph)) if graph is not None else None
    if unpacked is not None and not samples:
        _drop_samples(unpacked)
    return checked_workout(json.loads(workout)), unpacked


def _owner_only(path: Path | str) -> None:
    """Mode 0600, changed only when it is not: a chmod moves the change time, which says whether anything
    but a checked refresh touched the store (`_file_identity`), so a mere reader (Excel's functions) must not."""
    if os.stat(path).st_mode & 0o777 != 0o600:
        os.chmod(path, 0o600)


def _damage(exc: BaseException | None) -> bool:
    """A SQLite error saying the file is damaged, not that the machine refuses (locked, full, read-only)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    return not isinstance(exc, sqlite3.OperationalError) or "malformed" in str(exc)


def _file_identity(path: Path) -> list[list[int] | None] | None:
    """The store file and its write-ahead log as they are (None: no store yet). The change time too: no
    program can set it back, so a write that keeps the size and puts the modification time back is seen.
    A reader leaves it as it was: its opening changes no mode that is right already (`_owner_only`)."""
    found: list[list[int] | None] = []
    for name in watched_files(path):
        try:
            st = os.stat(name)
        except OSError:
            found.append(None)
            continue
        found.append([st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns])
    return found if found[0] is not None else None


def _checked_identity(path: Path) -> list | None:
    try:
        return json.loads(checked_store_record(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    """SQLite caps the parameters of one statement: IN lists go in chunks."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def watched_files(store_path: Path) -> tuple[str, str]:
    """The files whose stamps change when a write lands: the store and its write-ahead log."""
    return str(store_path), str(store_path) + "-wal"


def file_version(names: tuple[str, ...]) -> tuple[tuple[int, int] | None, ...]:
    """Changes whenever one of the files changes: cheap enough to check on every UDF call."""
    stamps: list[tuple[int, int] | None] = []
    for name in names:
        try:
            st = os.stat(name)
            stamps.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
