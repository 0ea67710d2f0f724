"""`python peloton_xl.py` and the installed `peloton-xl`: a headless refresh from a terminal or a scheduler.

Exit status: 0 everything written; 1 failed and the workbook untouched; 3 written, but some
workouts' details could not be fetched (each named in the output).

Only the standard library and light modules of the package are imported up front, so that --help
and usage errors answer at once; the refresh's modules (pandas, openpyxl, requests) load in `_run`.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import traceback
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl.errors import PelotonXLError, WorkbookError
from pelotonxl.progress import TerminalProgress
from pelotonxl.settings import Settings, resolve

if TYPE_CHECKING:
    from pelotonxl.refresh_job import RefreshResult

WORKBOOK_NAME = "PelotonWorkbook.xlsm"
DEMO_WORKBOOK_NAME = "PelotonDemo.xlsm"

log = logging.getLogger("peloton_xl")


def build_parser(script: bool = True) -> argparse.ArgumentParser:
    """The options; `script` says which entry it is: `python peloton_xl.py` or the installed `peloton-xl`."""
    where = "beside peloton_xl.py" if script else "in the current folder"
    p = argparse.ArgumentParser(
        prog="python peloton_xl.py" if script else "peloton-xl",
        description="Fetch every Peloton workout into an Excel workbook (Workouts and Metrics tables). "
                    "Settings come from flags, then PELOTON_* environment variables, then the workbook's "
                    "Config sheet.",
        epilog="Exit status: 0 written; 1 failed, workbook untouched; 3 written, but some workouts' "
               "details could not be fetched (they are retried next time).")
    p.add_argument("--workbook", metavar="PATH", type=Path,
                   help=f"the .xlsm to fill (default: {WORKBOOK_NAME} {where}; "
                        f"with --demo, {DEMO_WORKBOOK_NAME}). A missing file is created from the template.")
    p.add_argument("--full", action="store_true",
                   help="refetch every workout and graph, and drop workouts deleted on Peloton")
    p.add_argument("--demo", action="store_true",
                   help="use a built-in demo account served locally: no account, no network")
    p.add_argument("--username", help="Peloton email or username (else PELOTON_USERNAME, else Config)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="performance graphs fetched at once (default 4)")
    p.add_argument("--every-n", type=int, dest="every_n", metavar="SECONDS",
                   help="seconds between samples of each stored graph (default 300)")
    p.add_argument("--home", metavar="DIR",
                   help="state folder for tokens and the local store (else PELOTON_XL_HOME)")
    p.add_argument("--api-url", dest="api_url", metavar="URL",
                   help="Peloton's API (else PELOTON_API_URL; default https://api.onepeloton.com)")
    p.add_argument("--auth-url", dest="auth_url", metavar="URL",
                   help="Peloton's sign-in service (else PELOTON_AUTH_URL; default https://auth.onepeloton.com)")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="count", default=0, help="say more (-vv for HTTP detail)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only errors and the closing line")
    return p


def main(argv: list[str] | None = None, *, workbook_dir: Path | None = None) -> int:
    """Run the command line. `workbook_dir`: where the default workbook lives; peloton_xl.py passes its
    own folder (a checkout), the installed `peloton-xl` passes nothing and means the current folder."""
    args = build_parser(script=workbook_dir is not None).parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    try:
        with ExitStack() as stack:
            return _run(args, stack, workbook_dir or Path.cwd())
    except PelotonXLError as exc:
        print(f"peloton_xl: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("peloton_xl: interrupted; the workbook is unchanged and the next refresh picks up "
              "where this one stopped.", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: one line, details with -v
        if args.verbose:
            traceback.print_exc()
        print(f"peloton_xl: unexpected {type(exc).__name__}: {exc} (run with -v for details and "
              "report it)", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, stack: ExitStack, workbook_dir: Path) -> int:
    from pelotonxl.refresh_job import run_refresh

    workbook = _workbook_path(args, workbook_dir)
    target = _open_target(workbook)
    config = target.read_config()
    if not config:
        log.warning("%s has no Config sheet: using flags, environment and defaults", workbook.name)
    flags = {k: getattr(args, k) for k in ("username", "workers", "every_n", "home", "api_url", "auth_url")}
    settings = resolve(flags, config=config)
    if args.demo:
        settings = _demo_settings(settings, stack)
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    stack.callback(progress.close)
    from pelotonxl.xlsx.refresh_lock import refresh_lock

    stack.enter_context(refresh_lock(workbook, on_wait=lambda: print(
        f"Another refresh of {workbook.name} is running: waiting for it to finish…", file=sys.stderr)))
    result = run_refresh(settings, target.write, full=args.full, progress=progress,
                         password_provider=_prompt_for_password if sys.stdin.isatty() else None)
    progress.close()
    _report(result, workbook, target.through_excel, target.notes_dropped)
    if settings.sources.get("password") == "config" and not args.demo:
        _offer_to_remove_password(workbook, target.through_excel)
    return result.exit_code


class _FileTarget:
    """The workbook file on disk, written headless (Excel is not holding it)."""

    through_excel = False

    def __init__(self, path: Path):
        from pelotonxl.xlsx import writer

        self.path = path
        self.notes_dropped = 0
        writer.check_writable(path)  # before any network: a locked file fails fast

    def read_config(self) -> dict:
        from pelotonxl.xlsx import config_sheet

        return config_sheet.read_config(self.path)

    def write(self, content) -> None:
        from pelotonxl.xlsx import writer

        self.notes_dropped = writer.write_tables(self.path, content).notes_dropped


class _ExcelTarget:
    """The same workbook open in a running Excel: write through Excel instead of fighting it."""

    through_excel = True

    def __init__(self, book):
        self.book = book
        self.notes_dropped = 0

    def read_config(self) -> dict:
        from pelotonxl.excel import workbook_link

        return workbook_link.read_config(self.book)

    def write(self, content) -> None:
        from pelotonxl.excel import live_writer

        self.notes_dropped = live_writer.write_tables_live(self.book, content)


def _open_target(workbook: Path):
    if sys.platform not in ("win32", "darwin"):  # no Excel to ask: skip loading xlwings
        return _FileTarget(workbook)
    from pelotonxl.excel import workbook_link

    book = workbook_link.find_open_book(workbook)
    return _ExcelTarget(book) if book is not None else _FileTarget(workbook)


def _workbook_path(args: argparse.Namespace, workbook_dir: Path) -> Path:
    default = workbook_dir / (DEMO_WORKBOOK_NAME if args.demo else WORKBOOK_NAME)
    path = (args.workbook or default).expanduser().resolve()
    if path.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{path.name} is not a macro-enabled workbook: give a .xlsm path.")
    if path.is_dir():
        raise WorkbookError(f"{path} is a folder, not a workbook: give the path of a .xlsm file.")
    if not path.exists():
        if not path.parent.is_dir():
            raise WorkbookError(f"The folder {path.parent} does not exist.")
        from pelotonxl.template.new_workbook import create_from_template

        if create_from_template(path):  # False: another process created it meanwhile
            print(f"Created {path.name} from the template.", file=sys.stderr)
    return path


def _demo_settings(settings: Settings, stack: ExitStack) -> Settings:
    """Point the very same client at a local server playing a demo account."""
    from pelotonxl.demo.account import make_account
    from pelotonxl.demo.server import DEMO_PASSWORD, DEMO_USERNAME, FakePeloton

    server = stack.enter_context(FakePeloton(make_account(), secret=b"peloton_xl demo"))
    settings.api_url = settings.auth_url = server.url
    settings.username, settings.password = DEMO_USERNAME, DEMO_PASSWORD
    settings.access_token = settings.refresh_token = ""
    settings.sources.update(username="demo", password="demo")
    return settings


def _report(result: RefreshResult, workbook: Path, through_excel: bool, notes_dropped: int = 0) -> None:
    new = result.sync.new
    pruned = f", {result.sync.pruned} removed" if result.sync.pruned else ""
    where = f"the open {workbook.name} in Excel (not saved yet: save it there)" if through_excel \
        else workbook.name
    notes = (f"; your notes on {notes_dropped} removed workout{'s' if notes_dropped != 1 else ''} went with them"
             if notes_dropped else "")
    print(f"{result.rows} workouts ({new} new{pruned}) written to {where} in {result.seconds:.1f} s{notes}")
    log.info("%d Peloton requests, %d pages, %d graphs fetched; workbook written in %.2f s",
             result.requests, result.sync.pages, result.sync.graphs_fetched, result.write_seconds)
    if result.failed:
        print(f"Details of {len(result.failed)} workouts could not be fetched; they will be retried "
              "on the next refresh:", file=sys.stderr)
        for wid, why in sorted(result.failed.items()):
            print(f"  {wid}: {why}", file=sys.stderr)


def _prompt_for_password() -> str | None:
    return getpass.getpass("Peloton password (used once, never saved): ") or None


def _offer_to_remove_password(workbook: Path, through_excel: bool) -> None:
    if sys.stdin.isatty() and not through_excel:
        answer = input("Signed in. Your password is typed into the Config sheet; remove it now? "
                       "The saved sign-in keeps working. [Y/n] ").strip().lower()
        if answer in ("", "y", "yes"):
            from pelotonxl.xlsx import config_sheet

            config_sheet.remove_config_value(workbook, "password")
            print("Password removed from the Config sheet.")
            return
    print("Tip: your password sits in the Config sheet. The saved sign-in works without it: "
          "clear that cell, or use PELOTON_PASSWORD.", file=sys.stderr)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="peloton_xl: %(message)s", stream=sys.stderr)
    if verbose < 2:
        logging.getLogger("urllib3").setLevel(logging.WARNING)
