"""One refresh, end to end: sign in → sync the store → build tables → write the workbook.

The CLI and the ribbon both come through here; only the final writer differs.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from pelotonxl.errors import PelotonXLError
from pelotonxl.model.problems import Problems
from pelotonxl.model.workbook import RideSheet, Status, WorkbookContent, Written
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.client import PelotonClient, new_session
from pelotonxl.peloton.signin_routes import WEBSITE
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.peloton.sync import Progress, SyncReport, sync
from pelotonxl.settings import Settings
from pelotonxl.state import StateFolder, record_refresh

log = logging.getLogger(__name__)
# What a refresh keeps of /api/me (the store's note ME_NOTE, with the day it was asked): the FTP fields.
ME_NOTE = "me"
# The stamp (without the day) of the content the stored load figures were computed for: a new day's
# refresh reuses them only while it matches (another workbook's settings may have replaced them).
LOADS_NOTE = "loads"
ME_FIELDS = (
    "cycling_ftp",
    "cycling_workout_ftp",
    "estimated_cycling_ftp",
    "cycling_ftp_source",
    # and what the training load reads of the member's profile
    "weight",
    "customized_max_heart_rate",
    "default_max_heart_rate",
)


class TableWriter(Protocol):
    """Writes a refresh's content somewhere: the file on disk (headless) or the open workbook (xlwings).
    It may say what it did (`Written`); anything else it returns (a test's, a benchmark's) is ignored."""

    def __call__(self, content: WorkbookContent) -> object: ...


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
    notes_dropped: int = 0  # removed workouts whose notes went with them (--full only)

    @property
    def problems(self) -> Problems:
        """What went wrong, the one record the terminal, the ribbon's box and Config each render."""
        return Problems.found(
            failed=self.failed,
            unavailable=self.sync.unavailable,
            unreadable=self.sync.unreadable,
            notes_dropped=self.notes_dropped,
            csv_rows=self.imported.problems if self.imported else (),
            csv_file=self.imported.file if self.imported else "",
        )

    @property
    def exit_code(self) -> int:
        return self.problems.exit_code

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
    shown: Callable[[], str | None] | None = None,
    allow_removals: bool = False,
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

    `shown()` (the headless writer's) tells what the workbook shows: the stamp of its last refresh. When
    it is this refresh's, only the status cells are written; when only the day differs, the figures
    that depend on the date (the Dashboard, the PowerCurve table); otherwise everything. pandas is
    imported only when something is built. A `full` refresh refuses to remove workouts when the list looks
    incomplete (see `sync.check_removals`) unless `allow_removals`.
    """
    # numpy's overflow and invalid-value warnings are about numbers the model already blanks: never the member's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run_refresh(settings, write, full, progress, password_provider, workbook, demo, shown, allow_removals)


def _run_refresh(
    settings: Settings,
    write: TableWriter,
    full: bool,
    progress: Progress | None,
    password_provider: Callable[[], str | None] | None,
    workbook: Path | None,
    demo: bool,
    shown: Callable[[], str | None] | None,
    allow_removals: bool,
) -> RefreshResult:
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
    user_id = client.user_id()  # signs in: the token usually names the member, else /api/me does
    me = client.me_if_asked()  # /api/me carries Peloton's FTP too
    if me is None and full:  # the count a --full checks its list against
        me = _me_or_none(client)
    day = date.today().isoformat()
    store, set_aside = WorkoutStore.open_or_set_aside(home, user_id)
    if set_aside:
        log.warning("%s", set_aside)
    with store:
        # Workouts imported from a CSV before this account was known: its own from now on.
        store.absorb(state.pending_import_file(settings.username))
        # /api/me (Peloton's FTP) once a day, beside the pages and graphs; again when an FTP test arrives.
        noted = store.recalled(ME_NOTE)
        daily = me is None and (noted or {}).get("day") != day
        # Each graph's records are derived as it arrives (model/derived.py); the tables, the curve and
        # the Ride sheet's choice read those, so no stored graph is parsed again.
        report = sync(
            client,
            store,
            user_id,
            full=full,
            progress=progress,
            on_saved=lambda got: _derive(store, got),
            expected_total=_count(me, "total_workouts"),
            allow_removals=allow_removals,
            aside=(lambda: _me_or_none(client)) if daily else None,
        )
        if report.aside is not None:
            me = report.aside.result()
        elif me is None and (daily or _ftp_test_arrived(store, report.new_ids)):
            me = _me_or_none(client)
        if me is not None:
            noted = {"day": day, **{key: me.get(key) for key in ME_FIELDS}}
            store.remember(ME_NOTE, noted)
        ftp = peloton_ftp(noted)
        who = athlete(settings, noted, ftp)
        state.remember_account(user_id)
        stamp = f"{store.identity()}.{store.data_version()}.{settings.every_n}.{_code_version()}.{_load_settings(who)}"
        if full or shown is None or (before := shown()) is None or not before.startswith(stamp + "."):
            content = _everything(store, who, progress, full, stamp)
        elif before != f"{stamp}.{day}":
            content = _dated(store, who, progress, stamp=stamp)
        else:
            content = WorkbookContent()
        content.stamp = f"{stamp}.{day}"
        # The CLI and the ribbon name the workbook; a benchmark's or a test's bare pipeline is not recorded.
        recorded = partial(record_refresh, home, user_id, workbook, demo=demo) if workbook is not None else None
        status = refresh_status(report, settings.every_n)
        rows, write_seconds, written = _write(store, write, content, status, progress, recorded)
    return RefreshResult(
        report,
        rows,
        time.perf_counter() - started,
        write_seconds,
        client.requests_made + auth.requests_made,
        dict(report.failed),
        auth.signed_in_by,
        notes_dropped=written.notes_dropped,
    )


def _derive(store: WorkoutStore, graphs: list[tuple[str, dict]]) -> None:
    from pelotonxl.model import derived

    derived.save_fetched(store, graphs)


def athlete(settings: Settings, me: dict | None, ftp: float | None) -> Any:
    """What the training load knows of the member (`workout_load.Athlete`): Config, else /api/me."""
    from pelotonxl.model.athlete import athlete as member  # no pandas: a nothing-new refresh needs none

    return member(settings, me, ftp)


def _load_settings(who: Any) -> str:
    """The member's load settings in the stamp: changing one (a Config FTP) rewrites the sheets."""
    digits = (who.ftp_override, who.today_ftp, who.weight_kg, who.max_hr, who.resting_hr, who.threshold_hr, who.trimp_k)
    return "-".join("" if v is None else f"{v:g}" for v in digits)


def build_and_write(
    store: WorkoutStore,
    write: TableWriter,
    status: Status,
    ftp: float | None,
    *,
    full: bool = False,
    progress: Progress | None = None,
    recorded: Callable[[], None] | None = None,
) -> tuple[int, float, Written]:
    """The tables, the Dashboard, the power curve, the training load and the Ride sheet from the store,
    handed to `write` with the status cells (then `recorded`, see `_write`); returns the workouts written,
    the seconds the write took and what the writer said."""
    from pelotonxl.model.athlete import Athlete

    content = _everything(store, Athlete(today_ftp=ftp), progress, full)
    return _write(store, write, content, status, progress, recorded)


def _write(
    store: WorkoutStore,
    write: TableWriter,
    content: WorkbookContent,
    status: Status,
    progress: Progress | None,
    recorded: Callable[[], None] | None = None,
) -> tuple[int, float, Written]:
    """Hand `content` to `write` with the status cells, then `recorded` (the refresh's record,
    `state.record_refresh`), then the writer's last step if it returned one (the live writer's
    recalculation, which must find this refresh's store); returns the workouts in the store, the seconds
    and what the writer said."""
    rows = store.count()
    content.status = replace(status, workout_count=rows)
    content.renamed_ids = store.renamed_ids()
    if progress:
        progress("workbook", 0, None)
    write_started = time.perf_counter()
    written = write(content)
    if not isinstance(written, Written):  # a test's or a benchmark's writer: nothing to hear
        written = Written()
    if recorded is not None:
        recorded()
    if written.finish is not None:
        written.finish()
    return rows, time.perf_counter() - write_started, written


def _everything(
    store: WorkoutStore, who: Any, progress: Progress | None, full: bool, stamp: str | None = None
) -> WorkbookContent:
    """Every sheet, from the store's derived records (each graph was parsed once, when it arrived).
    `who`: the member as the training load knows them (`workout_load.Athlete`); `stamp`: what the content
    is made of, without the day (see `_dated`)."""
    from pelotonxl.excel import functions
    from pelotonxl.model import derived, ride_view

    if progress:
        progress("tables", 0, None)
    derived.update(store)  # workouts without a graph, and records of older code
    rows = list(derived.load(store, derived.ROWS))
    content = _dated(store, who, progress, rows, stamp)
    loads = store.loads()  # as _dated computed and kept them
    functions.keep_index(store, rows, loads)  # what the worksheet functions read first
    shown = ride_view.rides_to_read_from_rows(rows)
    view = ride_view.ride_view(store.records_of([wid for wid, _ in rows if wid in shown]), loads=loads)
    content.ride = RideSheet(view)
    content.full = full
    return content


def _dated(
    store: WorkoutStore, who: Any, progress: Progress | None, rows: list | None = None, stamp: str | None = None
) -> WorkbookContent:
    """The figures that depend on the date (the Dashboard, the PowerCurve and Fitness tables), with the
    tables when `rows` (the store's row records) are given; without them the tables are left as the
    workbook has them. The training load comes from the stored records (no sample is read) and is kept
    in the store for the worksheet functions and the export, noted with `stamp` (the content's stamp
    without the day): each workout's load does not depend on the date, so a new day's refresh of the same
    content adds up the stored figures again instead of computing them (only the Fitness table grows)."""
    from pelotonxl.model import dashboard, derived, power_curve, tables, workout_load

    if progress:
        progress("tables", 0, None)
    derived.update(store)
    workouts, metrics = tables.tables_from_rows(
        [row for _, row in (rows if rows is not None else derived.load(store, derived.ROWS))]
    )
    curve = power_curve.curve_from_efforts(derived.load(store, derived.EFFORTS))
    now = datetime.now().replace(microsecond=0)
    kept = _kept_loads(store, stamp, metrics.frame["Workout ID"]) if rows is None else None
    if kept is not None:
        by_workout, fitness = kept, workout_load.fitness_for(metrics.frame, kept, now.date())
    else:
        power = {wid: record for wid, record in derived.load(store, derived.POWER) if record is not None}
        loads = workout_load.compute(workouts, metrics, curve, store.details(), who, now.date(), power)
        store.save_loads(workout_load.stored(loads))
        store.remember(LOADS_NOTE, {"stamp": stamp})
        by_workout, fitness = loads.by_workout, loads.fitness
    metrics = workout_load.with_load_columns(metrics, by_workout)
    ftp = who.today_ftp
    board = dashboard.build_dashboard(workouts, metrics, now, curve, ftp, signed_in=True, fitness=fitness)
    curve_table = power_curve.curve_table(curve, now)
    if rows is None:
        return WorkbookContent(dashboard=board, power_curve=curve_table, fitness=fitness)
    return WorkbookContent(workouts, metrics, board, power_curve=curve_table, fitness=fitness)


def _kept_loads(store: WorkoutStore, stamp: str | None, ids: Any) -> dict[str, dict] | None:
    """The load figures stored for this very content (`stamp`), one for every workout; else None."""
    if stamp is None or (store.recalled(LOADS_NOTE) or {}).get("stamp") != stamp:
        return None
    kept = store.loads()
    return kept if all(wid in kept for wid in ids) else None


def refresh_status(report: SyncReport, every_n: int) -> Status:
    """The Config sheet's status cells for a refresh (Workouts in workbook is added by the write, and
    dropped notes by the writer): its problems, else OK (and the graphs left to refine, while any are)."""
    refining = (
        f"; {report.refined} graphs refined to {every_n}-second samples, {report.coarse_left} left for the next "
        "refreshes"
    )
    return Status(
        last_refresh=datetime.now().replace(microsecond=0),
        last_result="OK" + (refining if report.coarse_left else ""),
        problems=Problems.found(failed=report.failed, unavailable=report.unavailable, unreadable=report.unreadable),
    )


def _ftp_test_arrived(store: WorkoutStore, new_ids: list[str]) -> bool:
    """Did an FTP test class arrive? Then Peloton's FTP may have changed: /api/me is asked again."""
    from pelotonxl.model.ftp import is_ftp_test

    return any(is_ftp_test((w.get("ride") or {}).get("title")) for w in store.workouts_of(new_ids).values())


def _code_version() -> str:
    """What decides the content besides the data: the package and the derived records' code."""
    from pelotonxl import __version__
    from pelotonxl.model import derived

    return "-".join([__version__, *(facet.version for facet in derived.FACETS)])


def _me_or_none(client: PelotonClient) -> dict | None:
    """/api/me for Peloton's FTP; a refresh does not fail for want of it."""
    try:
        return client.me()
    except PelotonXLError as exc:
        log.info("no FTP from /api/me: %s", exc)
        return None


def _count(me: dict | None, key: str) -> int | None:
    value = (me or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9 else None


def peloton_ftp(me: dict | None) -> float | None:
    """The FTP Peloton holds for the member: the one set or tested (`cycling_ftp`), else the one from
    a workout (`cycling_workout_ftp`), else Peloton's estimate (`estimated_cycling_ftp`); 0 means none."""
    for key in ("cycling_ftp", "cycling_workout_ftp", "estimated_cycling_ftp"):
        value = (me or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 3000:  # watts
            return float(value)
    return None
