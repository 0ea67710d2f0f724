"""One refresh, end to end: sign in → sync the store → build tables → write the workbook.

The CLI and the ribbon both come through here; only the final writer differs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pelotonxl.errors import PelotonXLError
from pelotonxl.model import dashboard, power_curve, ride_view, tables
from pelotonxl.model.workbook import RideSheet, WorkbookContent
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.client import PelotonClient, new_session
from pelotonxl.peloton.signin_routes import WEBSITE
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.peloton.sync import Progress, SyncReport, sync
from pelotonxl.settings import Settings
from pelotonxl.state import StateFolder, record_refresh
from pelotonxl.wording import plural

log = logging.getLogger(__name__)


class TableWriter(Protocol):
    """Writes a refresh's content somewhere: the file on disk (headless) or the open workbook (xlwings)."""

    def __call__(self, content: WorkbookContent) -> None: ...


@dataclass
class ImportSummary:
    """What an import of the website's CSV did (`import_job.run_import`)."""

    file: str  # its name
    added: int  # workouts the store did not hold before
    rows: int  # data rows in the file
    problems: list[str] = field(default_factory=list)  # "file, line N, column C: why", rows left out or blank


@dataclass
class RefreshResult:
    sync: SyncReport
    rows: int
    seconds: float
    write_seconds: float
    requests: int
    failed: dict[str, str] = field(default_factory=dict)
    signed_in_by: str | None = None  # the route of a password sign-in made by this refresh ("app", "website")
    imported: ImportSummary | None = None  # an import of the website's CSV instead of a refresh

    @property
    def exit_code(self) -> int:
        problems = self.imported.problems if self.imported else ()
        return 3 if self.failed or self.sync.unavailable or self.sync.unreadable or problems else 0

    @property
    def route_note(self) -> str:
        """Said after the closing line when the sign-in was not the usual one (the app's); else empty."""
        return "signed in through the Peloton website's sign-in" if self.signed_in_by == WEBSITE else ""


def run_refresh(
    settings: Settings,
    write: TableWriter,
    *,
    full: bool = False,
    progress: Progress | None = None,
    password_provider: Callable[[], str | None] | None = None,
    workbook: Path | None = None,
    demo: bool = False,
) -> RefreshResult:
    """One refresh, end to end: the pipeline the CLI and the ribbon share.

    Signs in (saved tokens, else the password from settings or `password_provider`), syncs the
    account into its local store (`full`: everything again, see `peloton.sync.sync`), builds the
    tables and the Dashboard from the store, and hands them to `write` as one `WorkbookContent`.
    `progress(stage, done, total)` hears about each stage. Raises a PelotonXLError (one line for a
    person) when nothing could be written; workouts whose details could not be fetched are in the
    result's `failed`, and the rest is written. Once written into `workbook` (the path the CLI and the
    ribbon pass), the refresh is recorded machine-wide (`state.record_refresh`: as that workbook's refresh,
    and as this machine's most recent refresh or, with `demo`, most recent demo refresh) so the worksheet
    functions find its store.
    """
    if settings.import_csv:  # the way in when no sign-in works: no network at all
        from pelotonxl.import_job import run_import

        return run_import(settings, write, Path(settings.import_csv), progress=progress, workbook=workbook)
    started = time.perf_counter()
    home = settings.home_path
    state = StateFolder(home)
    # Blamed on the setting the member typed it in; the default folder on PELOTON_XL_HOME, which would move it.
    source = settings.sources.get("home", "default")
    state.ensure("PELOTON_XL_HOME (or --home)" if source == "default" else settings.named("home"))
    http = new_session(settings.workers)
    auth = Authenticator(settings, TokenStore(home, settings.username), http, password_provider)
    client = PelotonClient(settings, auth, http)
    auth.access_token()  # signs in: the token usually names the member, saving a request
    me: dict | None = None
    user_id = auth.user_id
    if user_id is None:  # /api/me names the member and carries Peloton's FTP
        me = client.get_json("/api/me")
        user_id = str(me["id"])
    with WorkoutStore.for_account(home, user_id) as store:
        # Workouts imported from a CSV before this account was known: its own from now on.
        store.absorb(state.pending_import_file(settings.username))
        report = sync(client, store, user_id, full=full, progress=progress)
        ftp = peloton_ftp(me if me is not None else _me_or_none(client))
        state.remember_account(user_id)
        status = refresh_status(report, settings.every_n)
        rows, write_seconds = build_and_write(store, write, status, ftp, full=full, progress=progress)
    if workbook is not None:  # the CLI and the ribbon; not a benchmark's or a test's bare pipeline
        record_refresh(home, user_id, workbook, demo=demo)
    return RefreshResult(
        report,
        rows,
        time.perf_counter() - started,
        write_seconds,
        client.requests_made + auth.requests_made,
        dict(report.failed),
        auth.signed_in_by,
    )


def refresh_status(report: SyncReport, every_n: int) -> dict[str, object]:
    """The Config sheet's status cells for a refresh (Workouts in workbook is added by the write)."""
    status: dict[str, object] = {
        "last_refresh": datetime.now().replace(microsecond=0),
        "last_result": (
            f"{plural(len(report.failed), 'workout')} without details; refresh again to retry"
            if report.failed
            else "OK"
        ),
    }
    if report.unreadable and not report.failed:  # named until they read, as the CLI and the ribbon do
        status["last_result"] = (
            f"{plural(len(report.unreadable), 'workout')} could not be read: {', '.join(sorted(report.unreadable))}"
        )
    elif report.coarse_left and not report.failed:  # what Excel's members see of a store being upgraded
        status["last_result"] = (
            f"OK; {report.refined} graphs refined to {every_n}-second samples, "
            f"{report.coarse_left} left for the next refreshes"
        )
    return status


def build_and_write(
    store: WorkoutStore,
    write: TableWriter,
    status: dict[str, object],
    ftp: float | None,
    *,
    full: bool = False,
    progress: Progress | None = None,
) -> tuple[int, float]:
    """The tables, the Dashboard, the power curve and the Ride sheet from the store, handed to `write`
    with the status cells; returns the workouts written and the seconds the write took."""
    if progress:
        progress("tables", 0, None)
    summaries = list(store.records(samples=False))  # the tables need no samples
    workouts, metrics = tables.build_tables(summaries)
    # The curve keeps one output array per ride; the Ride sheet reads only its class's rides.
    curve = power_curve.power_curve(power_curve.bike_series(store.records()))
    shown = ride_view.rides_to_read(summaries)
    view = ride_view.ride_view((w, store.graph(w["id"])) for w, _ in summaries if w.get("id") in shown)
    del summaries
    rows = len(workouts.frame)
    status["workout_count"] = rows
    now = status["last_refresh"]
    assert isinstance(now, datetime)
    if progress:
        progress("workbook", 0, None)
    write_started = time.perf_counter()
    board = dashboard.build_dashboard([workouts, metrics], now, curve, ftp, signed_in=True)
    write(
        WorkbookContent(
            workouts,
            metrics,
            board,
            status,
            power_curve.curve_table(curve, now),
            RideSheet(view),
            full=full,
            renamed_ids=store.renamed_ids(),
        )
    )
    return rows, time.perf_counter() - write_started


def _me_or_none(client: PelotonClient) -> dict | None:
    """/api/me for Peloton's FTP; a refresh does not fail for want of it."""
    try:
        return client.get_json("/api/me")
    except PelotonXLError as exc:
        log.info("no FTP from /api/me: %s", exc)
        return None


def peloton_ftp(me: dict | None) -> float | None:
    """The FTP Peloton holds for the member: the one set or tested (`cycling_ftp`), else the one from
    a workout (`cycling_workout_ftp`), else Peloton's estimate (`estimated_cycling_ftp`); 0 means none."""
    for key in ("cycling_ftp", "cycling_workout_ftp", "estimated_cycling_ftp"):
        value = (me or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None
