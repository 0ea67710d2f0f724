"""Bring the local store up to date with Peloton.

Incremental by default: pages come newest first, and the walk stops on the page that reaches the
frontier (the newest point up to which the store already holds every workout, finished). Only
finished workouts without a graph get one fetched, in a bounded pool. `full=True` walks every page,
refetches every graph and drops workouts Peloton no longer has.
"""

from __future__ import annotations

import logging
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import Callable

from .api import PelotonClient
from .errors import ApiError
from .store import WorkoutStore, is_finished

log = logging.getLogger(__name__)
GRAPH_BATCH = 50  # graphs per store transaction: few commits, little lost if killed

Progress = Callable[[str, int, int | None], None]  # (stage, done, total or None)


@dataclass
class SyncReport:
    total: int = 0                # workouts in the store afterwards
    new: int = 0                  # workouts the store did not hold before
    graphs_fetched: int = 0
    pruned: int = 0
    pages: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # workout id -> why its graph is missing


def sync(client: PelotonClient, store: WorkoutStore, user_id: str, *, full: bool = False,
         progress: Progress | None = None) -> SyncReport:
    progress = progress or (lambda stage, done, total: None)
    report = SyncReport()
    seen = _walk_pages(client, store, user_id, full, report, progress)
    if full:
        report.pruned = store.finish_full_sync(seen.ids, seen.frontier())
        wanted = [wid for wid in seen.finished]
    else:
        wanted = store.ids_needing_graph()
    _fetch_graphs(client, store, wanted, report, progress)
    if not full:
        # Only now is everything up to the new frontier in the store.
        store.set_frontier(seen.frontier() or store.frontier() or 0)
    report.total = store.count()
    return report


class _Walk:
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.finished: list[str] = []
        self.newest = 0
        self.oldest_unfinished: int | None = None

    def frontier(self) -> int | None:
        if self.oldest_unfinished is not None:
            return self.oldest_unfinished - 1  # keep re-reading anything still under way
        return self.newest or None


def _walk_pages(client: PelotonClient, store: WorkoutStore, user_id: str, full: bool,
                report: SyncReport, progress: Progress) -> _Walk:
    walk = _Walk()
    frontier = None if full else store.frontier()
    for page in client.workout_pages(user_id):
        report.pages += 1
        fresh = [w for w in page if w["id"] not in walk.ids]  # pages shift while workouts arrive
        stored = store.statuses(w["id"] for w in fresh)
        known = {wid for wid, status in stored.items() if status != "IN_PROGRESS"}
        report.new += sum(1 for w in fresh if w["id"] not in stored)
        for w in fresh:
            walk.ids.add(w["id"])
            created = int(w.get("created_at") or 0)
            walk.newest = max(walk.newest, created)
            if is_finished(w):
                walk.finished.append(w["id"])
            else:
                walk.oldest_unfinished = min(walk.oldest_unfinished or created, created)
        store.save_workouts(fresh)
        progress("workouts", len(walk.ids), None)
        if frontier is not None and any(int(w.get("created_at") or 0) <= frontier and w["id"] in known
                                        for w in fresh):
            break
    return walk


def _fetch_graphs(client: PelotonClient, store: WorkoutStore, wanted: list[str],
                  report: SyncReport, progress: Progress) -> None:
    if not wanted:
        return
    total = len(wanted)
    done_count = 0
    batch: list[tuple[str, dict]] = []
    failures: list[tuple[str, str]] = []
    progress("graphs", 0, total)
    workers = max(1, client.settings.workers)
    todo = iter(wanted)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graph")
    try:
        pending: dict[Future, str] = {}
        while True:
            # A few requests in flight per worker, not all of them: wait() scans what is pending,
            # and an abort then has little queued work to cancel.
            for wid in islice(todo, 2 * workers - len(pending)):
                pending[pool.submit(client.performance_graph, wid)] = wid
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                wid = pending.pop(future)
                try:
                    batch.append((wid, future.result()))
                except ApiError as exc:
                    log.info("workout %s: %s", wid, exc)  # the CLI lists every failure once, at the end
                    failures.append((wid, str(exc)))
                done_count += 1
            if len(batch) >= GRAPH_BATCH:
                _flush(store, client, batch, report)
            progress("graphs", done_count, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _flush(store, client, batch, report)  # keep what arrived, even when aborting
        if failures:
            store.record_failures(failures)
            report.failed.update(failures)


def _flush(store: WorkoutStore, client: PelotonClient, batch: list, report: SyncReport) -> None:
    if batch:
        store.save_graphs(batch, client.settings.every_n)
        report.graphs_fetched += len(batch)
        batch.clear()
