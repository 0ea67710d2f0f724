"""What the worksheet functions answer from: the local store of the last refresh, never the network.

Which refresh: the calling workbook's own (wherever its state folder was), else this machine's most
recent one; see _Cache.

An in-memory index (workout id → metric values, start times, metric names) is built once and rebuilt
only when the store file changes, so 10,000 =PELOTON_METRIC calls cost a dictionary lookup each.
PELOTON_SERIES reads the one graph it needs from the store (one row by key): the samples of every
workout are too many to keep in memory for a function called once per ride.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pelotonxl.model import tables
from pelotonxl.model.samples import sampled_metrics
from pelotonxl.peloton.store import WorkoutStore, file_version, watched_files
from pelotonxl.settings import FIELD_BY_NAME
from pelotonxl.state import StateFolder, last_refresh, refresh_of, refreshes_file

EXCEL_EPOCH = datetime(1899, 12, 30)
_WORKOUT_ID = re.compile(r"^[0-9a-f]{32}$")
HOME_ENV = FIELD_BY_NAME["home"].env


class MetricLookupError(LookupError):
    """The workout or metric asked for is not in the store; the message says which."""

    excel_error = "#N/A"


class BadArgumentError(MetricLookupError):
    """The argument is not a Workout ID, a date, "latest" or a metric name at all."""

    excel_error = "#VALUE!"


def as_excel_error(exc: MetricLookupError) -> str:
    """The text the workbook's VBA wrapper turns into a real error value (#N/A, #VALUE!)."""
    return f"{exc.excel_error} {exc}"


@functools.lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """'Avg Output', 'avg_output' and 'AVG-OUTPUT' all become 'avgoutput'."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass
class MetricIndex:
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # id -> slug -> value
    starts: list[tuple[datetime, str]] = field(default_factory=list)  # newest first
    slugs: dict[str, str] = field(default_factory=dict)  # _key(name or slug) -> slug
    catalog: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @classmethod
    def build(cls, records: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> MetricIndex:
        records = list(records)
        index = cls(catalog=tables.metric_catalog(records))
        for slug, (name, unit) in index.catalog.items():
            for alias in (slug, name, f"{name} ({unit})" if unit else name):
                index.slugs.setdefault(_key(alias), slug)
        for workout, graph in records:
            wid = workout["id"]
            index.values[wid] = tables.metric_values(workout, graph)
            start = tables.local_start(workout)
            if start is not None:
                index.starts.append((start, wid))
        index.starts.sort(reverse=True)
        return index

    def resolve_workout(self, workout: object) -> str:
        if isinstance(workout, str):
            text = workout.strip()
            if text.lower() == "latest":
                if not self.starts:
                    raise MetricLookupError("no workouts in the store yet: refresh first")
                return self.starts[0][1]
            if _WORKOUT_ID.match(text.lower()):
                if text.lower() not in self.values:
                    raise MetricLookupError(f"no workout {text} in the last refresh")
                return text.lower()
            try:
                workout = datetime.fromisoformat(text)
            except ValueError:
                raise BadArgumentError(f'{text!r} is not a Workout ID, a date or "latest"') from None
        when = _as_datetime(workout)
        if when is None:
            raise BadArgumentError(f'{workout!r} is not a Workout ID, a date or "latest"')
        same_minute = [wid for start, wid in self.starts if abs((start - when).total_seconds()) < 60]
        if same_minute:
            return same_minute[0]
        if when.time() == datetime.min.time():  # a bare date: the latest workout that day
            for start, wid in self.starts:
                if start.date() == when.date():
                    return wid
            raise MetricLookupError(f"no workout on {when.date().isoformat()}")
        raise MetricLookupError(f"no workout started at {when:%Y-%m-%d %H:%M}")

    def value(self, workout: object, metric: object) -> float:
        wid = self.resolve_workout(workout)
        if not isinstance(metric, str):
            raise BadArgumentError(f"{metric!r} is not a metric name")
        slug = self.slugs.get(_key(metric))
        if slug is None:
            raise MetricLookupError(f"unknown metric {metric!r}; see =PELOTON_METRIC_NAMES()")
        value = self.values[wid].get(slug)
        if value is None:
            raise MetricLookupError(f"workout {wid} has no {self.catalog[slug][0]}")
        return value


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
        return (EXCEL_EPOCH + timedelta(days=float(value))).replace(microsecond=0)  # an Excel serial
    return None


class _Cache:
    """Which store a call answers from, and that store's index, rebuilt when the store changes.

    `book` is the calling workbook's path (None from plain Python). A workbook answers from the store
    its last refresh filled (state.refresh_of), wherever that was; plain Python from PELOTON_XL_HOME's
    last account when that is set, else this machine's most recent refresh (state.last_refresh), else
    the default state folder's last account. Both lookups are memoised against the stamps of the files
    they read, so a call that finds nothing changed costs a few stat() calls: this runs once per cell
    on every recalculation.
    """

    KEPT = 4  # stores indexed at once (a member's workbook and the demo's, say)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._where: dict[tuple, tuple[tuple[str, ...], tuple, Path]] = {}  # key -> files, version, store
        self._indexes: dict[Path, tuple[tuple[str, ...], tuple, MetricIndex]] = {}  # store -> files, version, index

    def store(self, book: str | None) -> Path:
        """The store file a call from `book` answers from, or MetricLookupError."""
        # Keyed without the user data folder (platformdirs costs more than the rest of a call): it
        # does not move while a process runs; the tests give each test a fresh _Cache.
        key = (book, os.environ.get(HOME_ENV) or "")
        hit = self._where.get(key)
        if hit is not None and file_version(hit[0]) == hit[1]:
            return hit[2]
        files, store = _locate(book, key[1], refreshes_file())
        with self._lock:
            if len(self._where) >= 64:
                self._where.clear()
            self._where[key] = (files, file_version(files), store)
        return store

    def index(self, book: str | None = None) -> MetricIndex:
        path = self.store(book)
        hit = self._indexes.get(path)
        if hit is not None and file_version(hit[0]) == hit[1]:
            return hit[2]
        with self._lock:
            files = watched_files(path)
            version = file_version(files)
            if not path.exists():
                raise MetricLookupError(f"the local store {path} is missing: refresh first")
            with WorkoutStore(path) as store:
                index = MetricIndex.build(store.records(samples=False))
            self._indexes.pop(path, None)
            while len(self._indexes) >= self.KEPT:
                self._indexes.pop(next(iter(self._indexes)))
            self._indexes[path] = (files, version, index)
            return index

    def graph(self, workout_id: str, book: str | None = None) -> dict | None:
        """One workout's stored graph, from the store a call from `book` answers from."""
        with WorkoutStore(self.store(book)) as store:
            return store.graph(workout_id)


def _locate(book: str | None, home_env: str, refreshes: Path) -> tuple[tuple[str, ...], Path]:
    """(the files read to decide, whose change means "look again"; the store file) for a call from `book`."""
    record = refresh_of(book) if book else None
    if record is None and not home_env:
        record = last_refresh()
    if record is not None:
        return (str(refreshes),), record.store_file
    state = StateFolder(home_env or None)
    user_id = state.last_account()
    if not user_id:
        raise MetricLookupError(f"no refresh has run yet (state folder {state.root}): refresh first")
    # With PELOTON_XL_HOME set, plain Python never reads the record; otherwise a later refresh is found there.
    files = (str(refreshes),) if book or not home_env else ()
    return (*files, str(state.last_account_file)), state.store_file(user_id)


_cache = _Cache()


def lookup_metric(workout: object, metric: object, book: str | None = None) -> float:
    """`book`: the calling workbook's path (None from plain Python): which refresh's store answers."""
    return _cache.index(book).value(workout, metric)


def series(workout: object, metric: object, book: str | None = None) -> list[float | None]:
    """The samples of one metric of one workout's stored performance graph, oldest first.

    `workout` as for lookup_metric; `metric` a graph metric's slug or name ("output", "Heart Rate",
    "Speed (mph)"). Samples are `every_n` seconds apart (the Graph sampling setting); a gap is None.
    """
    if not isinstance(metric, str) or not metric.strip():
        raise BadArgumentError(f"{metric!r} is not a metric name")
    wid = _cache.index(book).resolve_workout(workout)
    graph = _cache.graph(wid, book)
    if graph is None:
        raise MetricLookupError(f"workout {wid} has no performance graph in the store")
    wanted = _key(metric)
    for entry in sampled_metrics(graph):
        name, unit = entry.get("display_name") or "", entry.get("display_unit")
        if wanted in {_key(entry.get("slug") or ""), _key(name), _key(f"{name} ({unit})")}:
            return list(entry.get("values") or [])
    raise MetricLookupError(f"workout {wid} has no {metric.strip()} samples")


def metric_names(book: str | None = None) -> list[list[str]]:
    catalog = _cache.index(book).catalog
    return [["Metric", "Name", "Unit"]] + [[slug, name, unit or ""] for slug, (name, unit) in catalog.items()]


def workouts_on(day: object, book: str | None = None) -> list[list[str]]:
    try:
        when = _as_datetime(datetime.fromisoformat(day.strip()) if isinstance(day, str) else day)
    except ValueError:
        when = None
    if when is None:
        raise BadArgumentError(f"{day!r} is not a date")
    ids = [[wid] for start, wid in _cache.index(book).starts if start.date() == when.date()]
    return ids or [["no workouts that day"]]
