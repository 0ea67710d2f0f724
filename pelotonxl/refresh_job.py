"""One refresh, end to end: sign in → sync the store → build tables → write the workbook.

The CLI and the ribbon both come through here; only the final writer differs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Protocol

from pelotonxl.model import dashboard, tables
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.client import PelotonClient, new_session
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.peloton.sync import Progress, SyncReport, sync
from pelotonxl.settings import Settings
from pelotonxl.state import StateFolder

log = logging.getLogger(__name__)


class TableWriter(Protocol):
    """Writes a refresh's content somewhere: the file on disk (headless) or the open workbook (xlwings)."""

    def __call__(self, content: WorkbookContent) -> None: ...


@dataclass
class RefreshResult:
    sync: SyncReport
    rows: int
    seconds: float
    write_seconds: float
    requests: int
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 3 if self.failed else 0


def run_refresh(settings: Settings, write: TableWriter, *, full: bool = False,
                progress: Progress | None = None,
                password_provider: Callable[[], str | None] | None = None) -> RefreshResult:
    """One refresh, end to end: the pipeline the CLI and the ribbon share.

    Signs in (saved tokens, else the password from settings or `password_provider`), syncs the
    account into its local store (`full`: everything again, see `peloton.sync.sync`), builds the
    tables and the Dashboard from the store, and hands them to `write` as one `WorkbookContent`.
    `progress(stage, done, total)` hears about each stage. Raises a PelotonXLError (one line for a
    person) when nothing could be written; workouts whose details could not be fetched are in the
    result's `failed`, and the rest is written.
    """
    started = time.perf_counter()
    home = settings.home_path
    state = StateFolder(home)
    state.ensure()
    http = new_session(settings.workers)
    auth = Authenticator(settings, TokenStore(home, settings.username), http, password_provider)
    client = PelotonClient(settings, auth, http)
    user_id = client.user_id()
    with WorkoutStore.for_account(home, user_id) as store:
        report = sync(client, store, user_id, full=full, progress=progress)
        if progress:
            progress("tables", 0, None)
        workouts, metrics = tables.build_tables(store.records())
    state.remember_account(user_id)
    rows = len(workouts.frame)
    now = datetime.now().replace(microsecond=0)
    status = {
        "last_refresh": now,
        "workout_count": rows,
        "last_result": (f"{len(report.failed)} workouts without details; refresh again to retry"
                        if report.failed else "OK"),
    }
    if progress:
        progress("workbook", 0, None)
    write_started = time.perf_counter()
    write(WorkbookContent(workouts, metrics, dashboard.build_dashboard([workouts, metrics], now), status, full=full))
    write_seconds = time.perf_counter() - write_started
    return RefreshResult(report, rows, time.perf_counter() - started, write_seconds,
                         client.requests_made + auth.requests_made, dict(report.failed))

