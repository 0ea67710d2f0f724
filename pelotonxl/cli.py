"""`python peloton_xl.py` and the installed `peloton-xl`: a headless refresh from a terminal or a scheduler.

Exit status: 0 everything written; 1 failed and the workbook untouched; 3 written, but some
workouts' details could not be fetched (each named in the output).

Only the standard library and light modules of the package are imported up front, so that --help
and usage errors answer at once; the refresh's modules (pandas, openpyxl, requests) load in `_run`.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import shutil
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl import __version__
from pelotonxl.errors import PelotonXLError, WorkbookError
from pelotonxl.progress import TerminalProgress
from pelotonxl.wording import plural

if TYPE_CHECKING:
    import xlwings as xw

    from pelotonxl.model.workbook import WorkbookContent
    from pelotonxl.refresh_job import RefreshResult
    from pelotonxl.settings import Settings

WORKBOOK_NAME = "PelotonWorkbook.xlsm"  # the installed command's default, in the current folder
# A checkout's default, beside peloton_xl.py (so Excel finds it) and never the git-tracked template of the
# same folder: a refresh there would make every `git pull` abort. .gitignore lists it.
CHECKOUT_WORKBOOK_NAME = "MyPelotonWorkbook.xlsm"
LISTED = 10  # failures listed one by one; the rest as a count (all with -v)
STATE_ROOM = 20 * 2**20  # the store grows by a few MB per thousand workouts; SQLite needs some slack
DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
DEMO_WORKBOOK_NAME = "PelotonDemo.xlsm"

log = logging.getLogger("peloton_xl")


def build_parser(script: bool = True) -> argparse.ArgumentParser:
    """The options; `script` says which entry it is: `python peloton_xl.py` or the installed `peloton-xl`."""
    where = "beside peloton_xl.py" if script else "in the current folder"
    default = CHECKOUT_WORKBOOK_NAME if script else WORKBOOK_NAME
    p = argparse.ArgumentParser(
        prog="python peloton_xl.py" if script else "peloton-xl",
        description="Fetch every Peloton workout into an Excel workbook (Workouts and Metrics tables). "
        "Settings come from flags, then PELOTON_* environment variables, then the workbook's "
        "Config sheet.",
        epilog="Exit status: 0 written; 1 failed, workbook untouched; 3 written, but some workouts' "
        "details could not be fetched (they are retried next time).",
    )
    p.add_argument(
        "--workbook",
        metavar="PATH",
        type=Path,
        help=f"the .xlsm to fill (default: {default} {where}; "
        f"with --demo, {DEMO_WORKBOOK_NAME}). A missing file is created from the template.",
    )
    p.add_argument(
        "--full", action="store_true", help="refetch every workout and graph, and drop workouts deleted on Peloton"
    )
    p.add_argument(
        "--demo", action="store_true", help="use a built-in demo account served locally: no account, no network"
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        type=Path,
        help="after the refresh, also write workouts.parquet, metrics.parquet and series.parquet "
        "(every sample of every graph) into DIR, for pandas, DuckDB, Power BI or Tableau",
    )
    p.add_argument("--username", help="Peloton email or username (else PELOTON_USERNAME, else Config)")
    p.add_argument("--workers", type=int, metavar="N", help="performance graphs fetched at once (default 4)")
    p.add_argument(
        "--every-n",
        type=int,
        dest="every_n",
        metavar="SECONDS",
        help="seconds between samples of each stored graph (default 5)",
    )
    p.add_argument("--home", metavar="DIR", help="state folder for tokens and the local store (else PELOTON_XL_HOME)")
    p.add_argument(
        "--api-url",
        dest="api_url",
        metavar="URL",
        help="Peloton's API (else PELOTON_API_URL; default https://api.onepeloton.com)",
    )
    p.add_argument(
        "--auth-url",
        dest="auth_url",
        metavar="URL",
        help="Peloton's sign-in service (else PELOTON_AUTH_URL; default https://auth.onepeloton.com)",
    )
    p.add_argument(
        "--import-csv",
        dest="import_csv",
        metavar="FILE",
        help="instead of signing in: import the workout CSV downloaded from the Peloton website (Workouts → "
        "Download Workouts) into the workbook; the next refresh that signs in replaces each of its rows with "
        "Peloton's own record, your notes kept (else PELOTON_IMPORT_CSV, else Config)",
    )
    p.add_argument(
        "--setup-excel",
        action="store_true",
        dest="setup_excel",
        help="instead of a refresh: write into the workbook's xlwings.conf sheet the Python running "
        "this command (Interpreter_Win or Interpreter_Mac) and this project's folder "
        "(PYTHONPATH), so Excel's buttons and worksheet functions run this very environment, and say "
        "what else Excel needs; a workbook (.xlsm or .xlsx) without the Peloton tab gets it first",
    )
    p.add_argument(
        "--upgrade-workbook",
        metavar="PATH",
        type=Path,
        dest="upgrade_workbook",
        help="instead of a refresh: bring this version's VBA modules, Peloton tab and xlwings.conf keys into a "
        "workbook made by an earlier version, keeping every sheet, note, chart and pivot of yours",
    )
    p.add_argument("--version", action="version", version=f"peloton_xl {__version__}")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="count", default=0, help="say more (-vv for HTTP detail)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only errors and the closing line")
    return p


def main(argv: list[str] | None = None, *, workbook_dir: Path | None = None) -> int:
    """Run the command line. `workbook_dir`: where the default workbook lives; peloton_xl.py passes its
    own folder (a checkout), the installed `peloton-xl` passes nothing and means the current folder."""
    args = build_parser(script=workbook_dir is not None).parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    run = _RunState()
    status = _main(args, workbook_dir, run)
    if status == 1:
        run.discard_new_workbook()
    return status


def _main(args: argparse.Namespace, workbook_dir: Path | None, run: _RunState) -> int:
    try:
        if args.upgrade_workbook is not None:
            return _upgrade_workbook(args)
        if args.setup_excel:
            return _setup_excel(args, workbook_dir)
        with ExitStack() as stack:
            return _run(args, stack, workbook_dir or Path.cwd(), run, checkout=workbook_dir is not None)
    except PelotonXLError as exc:
        print(f"peloton_xl: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if run.exit_code is not None:  # the closing line was printed: the refresh is done
            return run.exit_code
        if run.workbook_replaced():
            print(
                "peloton_xl: interrupted after the workbook was written; the next refresh picks up "
                "anything still missing.",
                file=sys.stderr,
            )
        else:
            print(
                "peloton_xl: interrupted; the workbook is unchanged and the next refresh picks up "
                "where this one stopped.",
                file=sys.stderr,
            )
        return 1
    except ModuleNotFoundError as exc:  # a requirement missing from this Python: say which, and how to add it
        if args.verbose:
            import traceback

            traceback.print_exc()
        from pelotonxl.install_hints import missing_module_line

        print(f"peloton_xl: {missing_module_line(exc, workbook_dir)}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: one line, details with -v
        if args.verbose:
            import traceback

            traceback.print_exc()
        line = _fault_line(exc) or (f"unexpected {type(exc).__name__}: {exc} (run with -v for details and report it)")
        print(f"peloton_xl: {line}", file=sys.stderr)
        return 1


class _RunState:
    """What an interruption needs to know: was the workbook replaced, was the closing line printed."""

    def __init__(self) -> None:
        self.workbook: Path | None = None
        self.before: tuple | None = None
        self.exit_code: int | None = None
        self.created: tuple[Path, tuple | None] | None = None  # a workbook this run copied from the template

    def watch(self, workbook: Path) -> None:
        self.workbook, self.before = workbook, _identity(workbook)

    def workbook_replaced(self) -> bool:
        # The atomic save ends in os.replace: a new inode (or size/time) means it happened.
        return self.workbook is not None and _identity(self.workbook) != self.before

    def discard_new_workbook(self) -> None:
        """A failed run leaves no new file behind: the copy of the template it made, never written since, goes."""
        if self.created is not None and _identity(self.created[0]) == self.created[1]:
            try:
                self.created[0].unlink()
            except OSError:
                log.debug("could not remove %s", self.created[0], exc_info=True)


def console_main(workbook_dir: Path | None = None) -> int:
    """The terminal's entry (`peloton-xl`, `python peloton_xl.py`): `main`, and once its closing line is
    out, a Ctrl-C while Python shuts down can no longer turn the status into 130 or a traceback."""
    status = main(workbook_dir=workbook_dir)
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status


def _identity(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _fault_line(exc: Exception) -> str | None:
    """One line for the machine failing under us (a full disk, a folder that refuses writes); None
    for anything else. Raised mid-refresh, so the workbook was not replaced."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError) and ("full" in str(exc) or "readonly" in str(exc)):
        return (
            f"the local store could not be written ({exc}): free some space or check the state "
            "folder's permissions, then refresh again (the workbook is unchanged)."
        )
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    where = f" writing {exc.filename}" if exc.filename else ""
    if exc.errno in DISK_FULL:
        return f"the disk is full{where}: free some space, then refresh again (the workbook is unchanged)."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied{where}: check that folder's permissions, then refresh again."
    return None


def _check_room(folder: Path, needed: int, what: str, fix: str) -> None:
    """Refuse up front when the disk is nearly full: failing later means after every download."""
    while not folder.exists() and folder.parent != folder:  # a state folder not made yet
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: the write itself will say
    if free < needed:
        raise WorkbookError(
            f"The disk holding {what} ({folder}) is full ({free // 2**20} MB free, "
            f"{needed // 2**20 + 1} MB needed): free some space, or {fix}."
        )


def _run(args: argparse.Namespace, stack: ExitStack, workbook_dir: Path, run: _RunState, checkout: bool) -> int:
    from pelotonxl.refresh_job import run_refresh
    from pelotonxl.settings import resolve

    workbook = _workbook_path(args, workbook_dir, run, checkout=checkout)
    run.watch(workbook)
    if args.export is not None:  # a bad folder fails before any network
        from pelotonxl.export import check_folder

        args.export = check_folder(args.export)
    target = _open_target(workbook)
    config = target.read_config()
    if not config:
        log.warning("%s has no Config sheet: using flags, environment and defaults", workbook.name)
    flags = {
        k: getattr(args, k) for k in ("username", "workers", "every_n", "home", "api_url", "auth_url", "import_csv")
    }
    settings = resolve(flags, config=config, workbook=workbook)
    if args.demo:
        settings = _demo_settings(settings, stack)
    if not target.through_excel:  # the save writes a whole copy beside the workbook first
        _check_room(
            workbook.parent,
            2 * workbook.stat().st_size + STATE_ROOM,
            "the workbook",
            "give --workbook a path on another disk",
        )
    _check_room(settings.home_path, STATE_ROOM, "the state folder", "point PELOTON_XL_HOME (or --home) at another disk")
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    stack.callback(progress.close)
    from pelotonxl.xlsx.refresh_lock import refresh_lock

    stack.enter_context(
        refresh_lock(
            workbook,
            on_wait=lambda: print(
                f"Another refresh of {workbook.name} is running: waiting for it to finish…", file=sys.stderr
            ),
        )
    )
    # The demo account moves with the calendar (its workouts keep their ids, their dates shift): a demo
    # refresh takes it whole, so yesterday's copy in the store never mixes with today's.
    result = run_refresh(
        settings,
        target.write,
        full=args.full or args.demo,
        progress=progress,
        password_provider=_prompt_for_password if sys.stdin.isatty() else None,
        workbook=workbook,
        demo=args.demo,
        shown=getattr(target, "shown", None),
    )
    progress.close()
    _report(result, workbook, target.through_excel, args.verbose > 0, target.notes_dropped)
    if args.export is not None:
        _export(settings, args.export)
    run.exit_code = result.exit_code  # from here on, Ctrl-C is no failure
    if settings.sources.get("password") == "config" and not args.demo:
        _offer_to_remove_password(workbook, target.through_excel)
    return result.exit_code


class _FileTarget:
    """The workbook file on disk, written headless (Excel is not holding it)."""

    through_excel = False

    def __init__(self, path: Path):
        from pelotonxl.xlsx import status_cells

        self.path = path
        self.notes_dropped = 0
        status_cells.check_writable(path)  # before any network: a locked file fails fast

    def shown(self) -> str | None:
        """The stamp of what the file shows (refresh_job writes only what changed since)."""
        from pelotonxl.xlsx import status_cells

        return status_cells.written_stamp(self.path)

    def read_config(self) -> dict:
        from pelotonxl.xlsx import config_sheet

        return config_sheet.read_config(self.path)

    def write(self, content: WorkbookContent) -> None:
        if content.status_only:  # nothing new today: the writer and pandas are not even loaded
            from pelotonxl.xlsx import status_cells

            status_cells.write_status_only(self.path, content.status, content.stamp)
            return
        from pelotonxl.xlsx import writer

        self.notes_dropped = writer.write_tables(self.path, content).notes_dropped


class _ExcelTarget:
    """The same workbook open in a running Excel: write through Excel instead of fighting it."""

    through_excel = True

    def __init__(self, book: xw.Book) -> None:
        self.book = book
        self.notes_dropped = 0

    def read_config(self) -> dict:
        from pelotonxl.excel import workbook_link

        return workbook_link.read_config(self.book)

    def write(self, content: WorkbookContent) -> Callable[[], None]:
        from pelotonxl.excel import live_writer

        self.notes_dropped = live_writer.write_tables_live(self.book, content, recalculate=False)
        return lambda: live_writer.recalculate_after(self.book, content)  # once the refresh is recorded


def _open_target(workbook: Path) -> _FileTarget | _ExcelTarget:
    if sys.platform not in ("win32", "darwin"):  # no Excel to ask: skip loading xlwings
        return _FileTarget(workbook)
    from pelotonxl.excel import workbook_link

    book = workbook_link.find_open_book(workbook)
    return _ExcelTarget(book) if book is not None else _FileTarget(workbook)


def _open_in_excel(workbook: Path) -> bool:
    if sys.platform not in ("win32", "darwin"):
        return False  # no Excel here; a ~$ lock file beside the workbook is still refused by the writer
    from pelotonxl.excel import workbook_link

    return workbook_link.find_open_book(workbook) is not None


def _workbook_path(
    args: argparse.Namespace, workbook_dir: Path, run: _RunState | None = None, *, checkout: bool = False
) -> Path:
    name = CHECKOUT_WORKBOOK_NAME if checkout else WORKBOOK_NAME
    default = workbook_dir / (DEMO_WORKBOOK_NAME if args.demo else name)
    path = (args.workbook or default).expanduser().resolve()
    if path.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{path.name} is not a macro-enabled workbook: give a .xlsm path.")
    if path.is_dir():
        raise WorkbookError(f"{path} is a folder, not a workbook: give the path of a .xlsm file.")
    if not path.exists():
        if not path.parent.is_dir():
            raise WorkbookError(f"The folder {path.parent} does not exist.")
        if not os.access(path.parent, os.W_OK):
            raise WorkbookError(
                f"The folder {path.parent} is read-only: a new {path.name} cannot be "
                "created there; give --workbook a path in a folder you can write to."
            )
        from pelotonxl.template.new_workbook import create_from_template

        if create_from_template(path):  # False: another process created it meanwhile
            if run is not None:
                run.created = (path, _identity(path))
            if not args.quiet:
                print(f"Created {path.name} from the template.", file=sys.stderr)
    return path


def _setup_excel(args: argparse.Namespace, workbook_dir: Path | None) -> int:
    """--setup-excel: our Excel parts into the workbook when it lacks them, this Python and this project into
    its xlwings.conf sheet, and what Excel will need said (pelotonxl/excel_setup.py)."""
    from pelotonxl.excel_setup import setup_excel

    if args.demo or args.full or args.export is not None:
        raise WorkbookError("--setup-excel only sets up the workbook: run it without --demo, --full or --export.")
    given = args.workbook.expanduser().resolve() if args.workbook is not None else None
    if given is not None and given.suffix.lower() == ".xlsx":  # made into an .xlsm beside it
        if not given.is_file():
            raise WorkbookError(f"Workbook not found: {given}.")
        workbook = given
    else:
        workbook = _workbook_path(args, workbook_dir or Path.cwd(), checkout=workbook_dir is not None)
    # peloton_xl.py is what Excel imports; an installed `peloton-xl` has none (workbook_dir is None).
    project = workbook_dir.resolve() if workbook_dir and (workbook_dir / "peloton_xl.py").is_file() else None
    return setup_excel(workbook, project, open_in_excel=_open_in_excel)


def _upgrade_workbook(args: argparse.Namespace) -> int:
    from pelotonxl.excel_setup import upgrade_workbook

    if args.demo or args.full or args.export is not None or args.setup_excel or args.workbook is not None:
        raise WorkbookError("--upgrade-workbook only upgrades the workbook it names: run it on its own.")
    return upgrade_workbook(args.upgrade_workbook.expanduser().resolve(), open_in_excel=_open_in_excel)


def _demo_settings(settings: Settings, stack: ExitStack) -> Settings:
    """Point the very same client at a local server playing a demo account, with its own state folder
    (`demo` inside the member's), so the demo never becomes the account the member's functions answer for."""
    from pelotonxl.demo.account import demo_end, make_account
    from pelotonxl.demo.server import DEMO_PASSWORD, DEMO_USERNAME, FakePeloton
    from pelotonxl.state import StateFolder

    settings.home = str(StateFolder(settings.home_path).demo().root)

    server = stack.enter_context(FakePeloton(make_account(end=demo_end()), secret=b"peloton_xl demo"))
    settings.api_url = settings.auth_url = server.url
    settings.username, settings.password = DEMO_USERNAME, DEMO_PASSWORD
    settings.access_token = settings.refresh_token = ""
    settings.sources.update(username="demo", password="demo")
    return settings


def _report(
    result: RefreshResult, workbook: Path, through_excel: bool, verbose: bool = False, notes_dropped: int = 0
) -> None:
    new = result.sync.new
    pruned = f", {result.sync.pruned} removed" if result.sync.pruned else ""
    where = f"the open {workbook.name} in Excel (not saved yet: save it there)" if through_excel else workbook.name
    if result.imported is not None:
        _report_import(result, where, verbose)
        return
    notes = f"; your notes on {plural(notes_dropped, 'removed workout')} went with them" if notes_dropped else ""
    route = f"; {result.route_note}" if result.route_note else ""
    print(
        f"{plural(result.rows, 'workout')} ({new} new{pruned}) written to {where} in {result.seconds:.1f} s"
        f"{notes}{route}"
    )
    log.info(
        "%s, %s, %s fetched; workbook written in %.2f s",
        plural(result.requests, "Peloton request"),
        plural(result.sync.pages, "page"),
        plural(result.sync.graphs_fetched, "graph"),
        result.write_seconds,
    )
    if result.sync.refined or result.sync.coarse_left:
        log.warning(
            "%d stored graphs refined to the Graph sampling setting; %d to go, refined by the next refreshes",
            result.sync.refined,
            result.sync.coarse_left,
        )
    _list_problems(
        f"Details of {plural(len(result.failed), 'workout')} could not be fetched; "
        "they will be retried on the next refresh:",
        result.failed,
        verbose,
    )
    _list_problems(
        f"Details of {plural(len(result.sync.unavailable), 'workout')} have failed on several "
        "refreshes and seem unavailable on Peloton; they are tried quietly from now on "
        "(--full tries properly):",
        result.sync.unavailable,
        verbose,
    )
    _list_problems(
        f"{plural(len(result.sync.unreadable), 'workout')} came from Peloton with fields that cannot be read:",
        result.sync.unreadable,
        verbose,
    )


def _report_import(result: RefreshResult, where: str, verbose: bool) -> None:
    """The closing line of a CSV import, then each row that could not be read as it is."""
    imported = result.imported
    assert imported is not None
    print(
        f"{plural(result.rows, 'workout')} ({imported.added} new from {imported.file}) written to {where} in "
        f"{result.seconds:.1f} s"
    )
    if imported.problems:
        print(
            f"{plural(len(imported.problems), 'row')} of {imported.file} could not be read as written:", file=sys.stderr
        )
        for line in imported.problems if verbose else imported.problems[:LISTED]:
            print(f"  {line}", file=sys.stderr)
        if not verbose and len(imported.problems) > LISTED:
            print(f"  … and {len(imported.problems) - LISTED} more (run with -v to list them all)", file=sys.stderr)


def _list_problems(heading: str, problems: dict[str, str], verbose: bool) -> None:
    """A heading and one line per workout: the first LISTED of them, and a count of the rest unless -v."""
    if not problems:
        return
    print(heading, file=sys.stderr)
    items = sorted(problems.items())
    for wid, why in items if verbose else items[:LISTED]:
        print(f"  {wid}: {why}", file=sys.stderr)
    if not verbose and len(items) > LISTED:
        print(f"  … and {len(items) - LISTED} more (run with -v to list them all)", file=sys.stderr)


def _export(settings: Settings, folder: Path) -> None:
    """The account just refreshed, from its local store, as Parquet files in `folder`."""
    from pelotonxl.export import export_store
    from pelotonxl.peloton.store import WorkoutStore
    from pelotonxl.state import StateFolder

    state = StateFolder(settings.home_path)
    account = state.last_account()
    if account is None:  # the refresh just made records it; only a folder emptied meanwhile lacks it
        raise PelotonXLError(f"Nothing to export: no account in {state.root}. Refresh, then export again.")
    with WorkoutStore(state.store_file(account)) as store:
        rows = export_store(store.records, folder)
    print(f"Exported {plural(rows['workouts.parquet'], 'workout')} and {rows['series.parquet']:,} samples to {folder}")


def _prompt_for_password() -> str | None:
    import getpass

    return getpass.getpass("Peloton password (used once, never saved): ") or None


def _offer_to_remove_password(workbook: Path, through_excel: bool) -> None:
    if sys.stdin.isatty() and not through_excel:
        answer = (
            input(
                "Signed in. Your password is typed into the Config sheet; remove it now? "
                "The saved sign-in keeps working. [Y/n] "
            )
            .strip()
            .lower()
        )
        if answer in ("", "y", "yes"):
            from pelotonxl.xlsx import config_sheet

            config_sheet.remove_config_value(workbook, "password")
            print("Password removed from the Config sheet.")
            return
    print(
        "Tip: your password sits in the Config sheet. The saved sign-in works without it: "
        "clear that cell, or use PELOTON_PASSWORD.",
        file=sys.stderr,
    )


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="peloton_xl: %(message)s", stream=sys.stderr)
    if verbose < 2:
        logging.getLogger("urllib3").setLevel(logging.WARNING)
