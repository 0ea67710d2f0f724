"""Bring the local store up to date with Peloton.

Incremental by default: pages come newest first, and the walk stops on the page that reaches the
frontier (the newest point up to which the store already holds every workout, finished). Only
finished workouts without a graph get one fetched, in a bounded pool that starts while the pages
are still being listed. `full=True` walks every page, refetches every graph and drops workouts
Peloton no longer has. Graphs stored coarser than the every_n setting (a store filled under the old
300-second default) are refetched, REFINE_PER_REFRESH per refresh, newest first, so a store upgrades
itself over a few normal refreshes.
"""

from __future__ import annotations

import functools
import logging
import queue
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pelotonxl.errors import ApiError, shown_text
from pelotonxl.peloton.client import PelotonClient
from pelotonxl.peloton.fields import checked_graph, epoch, number
from pelotonxl.peloton.store import WorkoutStore, is_finished, pack_graph, unpack_graph

log = logging.getLogger(__name__)
GRAPH_BATCH = 50  # graphs per store transaction: few commits, little lost if killed
# A graph that failed on this many refreshes is reported once as unavailable, then tried quietly.
UNAVAILABLE_AFTER = 3

# Coarse graphs refetched per refresh: about 3 s more at 4 workers and 50 ms a request, and a store
# of 1,000 coarse graphs is fine-grained after five refreshes.
REFINE_PER_REFRESH = 200

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)
# Told each batch of graphs just saved, (workout id, graph) while they are still in memory: the
# refresh derives its per-workout records from them there (model/derived.py), overlapping the wait.
Saved = Callable[[list[tuple[str, dict]]], None]


@dataclass
class SyncReport:
    total: int = 0  # workouts in the store afterwards
    new: int = 0  # workouts the store did not hold before
    new_ids: list[str] = field(default_factory=list)  # which
    graphs_fetched: int = 0
    pruned: int = 0
    pages: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # workout id -> why its graph is missing
    # Graphs that failed on UNAVAILABLE_AFTER refreshes: reported on that one run, quiet afterwards.
    unavailable: dict[str, str] = field(default_factory=dict)
    # Workouts with fields that cannot be read: skipped, or kept without those fields (label -> what).
    unreadable: dict[str, str] = field(default_factory=dict)
    # The `aside` request, asked in the pool once the first page was in; None if it never was.
    aside: Future | None = field(default=None, repr=False)
    refined: int = 0  # coarse graphs refetched at the finer setting
    coarse_left: int = 0  # graphs still coarser than the setting (refined by later refreshes)


def sync(
    client: PelotonClient,
    store: WorkoutStore,
    user_id: str,
    *,
    full: bool = False,
    progress: Progress | None = None,
    expected_total: int | None = None,
    allow_removals: bool = False,
    on_saved: Saved | None = None,
    aside: Callable[[], Any] | None = None,
) -> SyncReport:
    """Bring the store up to date with the account, and say what changed.

    Incremental (the default): pages newest first and stops at the first page it already knows;
    fetches graphs only for new workouts, for ones that were still in progress, and for those an
    earlier run could not fetch. `full`: walks every page, refetches every graph and drops workouts
    no longer on Peloton. Graph failures do not stop the sync: they are in `SyncReport.failed`, and
    the next sync retries each once, cheaply, after the rest (reported as `unavailable` on the
    UNAVAILABLE_AFTER-th refresh, quiet after that). A workout that cannot be read is skipped or
    kept without the unreadable field, and named in `unreadable`. `progress(stage, done, total)` is
    told as pages and graphs arrive.

    A `full` sync refuses to drop anything (RemovalRefused, nothing removed) when it would drop more
    than half of the stored workouts, or when the list held fewer workouts than `expected_total`
    (`/api/me`'s count): one empty answer must not wipe a history. `allow_removals` drops them anyway.
    `on_saved(batch)` after each batch of graphs is stored. `aside()`
    (another request, /api/me) runs in the pool once the first page is in, beside the other pages and
    the graphs; its Future is `SyncReport.aside`.
    """
    progress = progress or (lambda stage, done, total: None)
    report = SyncReport()
    # Graphs download while later pages are still being listed.
    with _GraphFetcher(client, store, report, progress, full, on_saved) as graphs:
        if not full:
            graphs.fetch(store.ids_needing_graph())  # what earlier runs left unfinished
        walk = _walk_pages(client, store, user_id, full, report, progress, graphs, aside)
        if full:
            if not allow_removals:
                check_removals(store, walk.listed_ids, expected_total)
            report.pruned = store.finish_full_sync(walk.listed_ids, walk.frontier())
        else:  # after what is new, so refining never delays it
            graphs.refine(store.coarser_graphs(client.settings.every_n, REFINE_PER_REFRESH))
        graphs.finish()
    if not full:
        # Only now is everything up to the new frontier in the store.
        store.set_frontier(walk.frontier() or store.frontier() or 0)
    report.unreadable = _still_unreadable(store.unreadable(), report.unreadable, walk, full)
    store.set_unreadable(report.unreadable)
    report.total = store.count()
    report.coarse_left = len(store.coarser_graphs(client.settings.every_n))
    return report


class RemovalRefused(ApiError):
    """A --full whose list looks incomplete: removing what it lacks would lose the member's history."""


ALLOW_REMOVALS_FLAG = "--allow-removals"


def check_removals(store: WorkoutStore, listed: set[str], expected_total: int | None) -> None:
    """Refuse a full sync's removals when they look like Peloton's mistake rather than the member's deletions."""
    stored = store.count()
    gone = stored - store.count_of(listed)
    short = expected_total is not None and len(listed) < expected_total
    if gone == 0 or (gone * 2 <= stored and not short):
        return
    why = (
        f"Peloton's list held {len(listed)} of the {expected_total} workouts its account page counts"
        if short
        else f"Peloton's list held {len(listed)} workouts"
    )
    raise RemovalRefused(
        f"--full would remove {gone} of the {stored} stored workouts ({why}); nothing was removed or written. "
        f"If they really were deleted on Peloton, run again with --full {ALLOW_REMOVALS_FLAG}."
    )


class _Walk:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.listed_ids: set[str] = set()  # with the skipped ones: a --full must not drop those
        self.newest = 0
        self.oldest_unfinished: int | None = None

    def frontier(self) -> int | None:
        if self.oldest_unfinished is not None:
            return self.oldest_unfinished - 1  # keep re-reading anything still under way
        return self.newest or None


def _walk_pages(
    client: PelotonClient,
    store: WorkoutStore,
    user_id: str,
    full: bool,
    report: SyncReport,
    progress: Progress,
    graphs: _GraphFetcher,
    aside: Callable[[], Any] | None = None,
) -> _Walk:
    walk = _Walk()
    frontier = None if full else store.frontier()
    # A walk that reads every page asks for them all at once, in the graphs' pool, once the first
    # tells how many there are; an incremental one stops at the frontier, so it asks one at a time.
    pages = client.workout_pages(user_id, submit=graphs.pool.submit, idle=graphs.idle) if frontier is None else None
    for listed in pages or client.workout_pages(user_id):
        report.pages += 1
        if aside is not None and report.aside is None:
            report.aside = graphs.pool.submit(aside)
        page = _readable_workouts(listed, report.unreadable)
        walk.listed_ids.update(w["id"] for w in listed if isinstance(w.get("id"), str))
        # Pages shift while workouts arrive, and a server may repeat an item: each id counts once.
        fresh = list({w["id"]: w for w in page if w["id"] not in walk.ids}.values())
        stored = store.statuses(w["id"] for w in fresh)
        known = {wid for wid, status in stored.items() if status != "IN_PROGRESS"}
        report.new_ids += [w["id"] for w in fresh if w["id"] not in stored]
        report.new = len(report.new_ids)
        for w in fresh:
            walk.ids.add(w["id"])
            created = epoch(w.get("created_at")) or 0
            walk.newest = max(walk.newest, created)
            if not is_finished(w):
                walk.oldest_unfinished = min(walk.oldest_unfinished or created, created)
        store.save_workouts(fresh)
        finished = [w["id"] for w in fresh if is_finished(w)]
        graphs.fetch(finished if full else store.without_graph(finished))
        graphs.collect()
        progress("workouts", len(walk.ids), None)
        if frontier is not None and any(
            (epoch(w.get("created_at")) or 0) <= frontier and w["id"] in known for w in fresh
        ):
            break
    return walk


def _still_unreadable(before: dict[str, str], now: dict[str, str], walk: _Walk, full: bool) -> dict[str, str]:
    """What this refresh reports as unreadable: what it could not read, and what an earlier one could not
    that this one did not list again readable (an incremental refresh reads only the newest pages).
    A --full lists every workout: what it did not list is gone from Peloton, and no longer reported."""
    readable = walk.ids - set(now)
    kept = {label: why for label, why in before.items() if label not in readable and (not full or label in now)}
    return {**kept, **now}


# Peloton's ids are 32 hex digits; an id goes into request paths, so nothing else gets through.
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _unreadable_fields(w: dict) -> list[str]:
    """Fields the tables will show blank: times that are not times, a total_work that is not a number."""
    odd = [key for key in ("start_time", "end_time") if w.get(key) is not None and epoch(w.get(key)) is None]
    if w.get("total_work") is not None and number(w.get("total_work")) is None:
        odd.append("total_work")
    return odd


def _readable_workouts(page: list[dict], unreadable: dict[str, str]) -> list[dict]:
    """The workouts of a page that can be stored; the others are named in `unreadable`, so that one
    odd workout is reported instead of sinking the refresh. A field the tables cannot read is left
    blank there: the workout is kept and named too."""
    kept = []
    for w in page:
        wid = w.get("id")
        if not isinstance(wid, str) or not wid.strip():
            unreadable[_shown(wid)] = f"skipped: its id {_shown(wid)} is not text"
            continue
        if not _ID.fullmatch(wid):
            unreadable[_shown(wid)] = f"skipped: its id {_shown(wid)} is not a Peloton id"
            continue
        if epoch(w.get("created_at")) is None:
            unreadable[wid] = f"skipped: its created_at {_shown(w.get('created_at'))} is not a time"
            continue
        odd = _unreadable_fields(w)
        if odd:
            unreadable[wid] = (
                "kept, but "
                + ", ".join(f"{key} {_shown(w[key])}" for key in odd)
                + f" {'is' if len(odd) == 1 else 'are'} not a number: left blank"
            )
        kept.append(w)
    return kept


def _shown(value: object, limit: int = 40) -> str:
    """A value from the server as a problem line quotes it: its repr, one line, no control characters."""
    return shown_text(repr(value), limit)


class _GraphFetcher:
    """Performance graphs fetched by a bounded pool; results saved by the caller's thread in batches.

    Each finished request lands in a queue, so collecting costs nothing per pending request.
    Leaving the `with` block early (an error, Ctrl+C) cancels what has not started and still saves
    what arrived, so the next refresh only fetches the rest.
    """

    def __init__(
        self,
        client: PelotonClient,
        store: WorkoutStore,
        report: SyncReport,
        progress: Progress,
        full: bool = False,
        on_saved: Saved | None = None,
    ):
        self.client, self.store, self.report, self.progress = client, store, report, progress
        self.full = full
        self.on_saved = on_saved
        self.failed_before = store.graph_failure_attempts()  # id -> refreshes it has failed on
        self.deferred: dict[str, None] = {}  # failed before: tried once, at the end (ordered set)
        self.pool = ThreadPoolExecutor(max_workers=max(1, client.settings.workers), thread_name_prefix="graph")
        self.arrived: queue.Queue[tuple[str, Future]] = queue.Queue()
        self.submitted: set[str] = set()
        self.refining: set[str] = set()  # already have a (coarse) graph: a failure loses nothing
        self.done = 0
        self.batch: list[tuple[str, bytes]] = []  # compressed as they arrive: a batch never holds parsed graphs
        self.failures: list[tuple[str, str]] = []

    def __enter__(self) -> _GraphFetcher:
        return self

    def fetch(self, workout_ids: Iterable[str]) -> None:
        for wid in workout_ids:
            if wid in self.failed_before and not self.full:
                self.deferred.setdefault(wid, None)
            else:
                self._submit(wid, cheap=False)

    def _submit(self, wid: str, cheap: bool) -> None:
        if wid not in self.submitted:
            self.submitted.add(wid)
            future = self.pool.submit(self._fetch_packed, wid, cheap)
            future.add_done_callback(functools.partial(self._arrived, wid))

    def _fetch_packed(self, wid: str, cheap: bool) -> bytes:
        """One graph, compressed in the worker thread: what waits to be saved is a few kB, not a parsed graph."""
        return pack_graph(self.client.performance_graph(wid, cheap=cheap))

    def _arrived(self, wid: str, future: Future[bytes]) -> None:
        self.arrived.put((wid, future))

    def refine(self, workout_ids: Iterable[str]) -> None:
        """Refetch graphs the store holds at a coarser sampling; the coarse one stays if this fails."""
        fresh = [wid for wid in workout_ids if wid not in self.submitted]
        self.refining.update(fresh)
        self.fetch(fresh)

    def idle(self) -> None:
        """The walk waits for a page still queued behind graphs: save the graphs arriving meanwhile."""
        self.collect(patience=0.05)

    def collect(self, wait: bool = False, patience: float = 0.0) -> None:
        """Save what has arrived; with `wait`, everything submitted so far; with `patience`, first wait
        that long for something to arrive."""
        while self.done < len(self.submitted):
            try:
                wid, future = self.arrived.get(block=wait or patience > 0, timeout=None if wait else patience or None)
            except queue.Empty:
                return
            patience = 0.0
            try:
                self.batch.append((wid, future.result()))
                self.report.refined += wid in self.refining
            except ApiError as exc:
                log.info("workout %s: %s", wid, exc)  # the CLI lists every failure once, at the end
                if wid not in self.refining:  # a refinement is simply tried again next time
                    self.failures.append((wid, str(exc)))
            self.done += 1
            if len(self.batch) >= GRAPH_BATCH:
                self._flush()
            if wait:  # while pages are still listed, their count is the progress shown
                self.progress("graphs", self.done, len(self.submitted))

    def finish(self) -> None:
        # Graphs that failed on earlier refreshes get one cheap try, after everything else: a
        # permanently broken one must not cost every refresh a full backoff (--full tries properly).
        for wid in self.deferred:
            self._submit(wid, cheap=True)
        if self.submitted:
            self.progress("graphs", self.done, len(self.submitted))
        self.collect(wait=True)

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self._flush()  # keep what arrived, even when aborting
        if self.failures:
            self.store.record_failures(self.failures)
            self._report_failures()

    def _report_failures(self) -> None:
        """Every failure on a --full or its first few refreshes; then once as unavailable; then quiet."""
        for wid, why in self.failures:
            refreshes = self.failed_before.get(wid, 0) + 1
            if self.full or refreshes < UNAVAILABLE_AFTER:
                self.report.failed[wid] = why
            elif refreshes == UNAVAILABLE_AFTER:
                self.report.unavailable[wid] = why
            else:
                log.info("workout %s: details still unavailable (%d refreshes)", wid, refreshes)

    def _flush(self) -> None:
        if self.batch:
            batch, self.batch = self.batch, []
            self.store.save_graphs(batch, self.client.settings.every_n)
            self.report.graphs_fetched += len(batch)
            if self.on_saved is not None:  # parsed again a few at a time, checked as the model reads them
                for start in range(0, len(batch), 10):
                    graphs = [(wid, checked_graph(unpack_graph(packed))) for wid, packed in batch[start : start + 10]]
                    self.on_saved([(wid, g) for wid, g in graphs if g is not None])
