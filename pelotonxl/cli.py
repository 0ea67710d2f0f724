"""`python peloton_xl.py` and the installed `peloton-xl`: the options, and the one line a failure ends with.

The jobs live in `pelotonxl.commands`: the refresh run (`refresh`), `--setup-excel` (`setup_excel`), the
demo wiring (`demo`), the closing report (`report`) and the workbook it writes (`targets`).

Exit status: 0 everything written; 1 failed and the workbook untouched; 3 written, but with a problem that
leaves a workout out or incomplete (`RefreshResult.problems`: details not fetched or unavailable, workouts or
CSV rows that could not be read; each named). Notes dropped by a --full alone are 0.

Only argparse and the package's version and file names are imported up front, so that --help, --version
and usage errors answer before anything else loads (not even pathlib or logging); the jobs' modules load
once the arguments are parsed.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from pelotonxl import __version__
from pelotonxl.file_names import CHECKOUT_WORKBOOK_NAME, DEMO_WORKBOOK_NAME, WORKBOOK_NAME

TYPE_CHECKING = False  # typing's own costs --help a few milliseconds; mypy reads this name the same way
if TYPE_CHECKING:
    from pathlib import Path

    from pelotonxl.commands.refresh import RunState

DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _path(text: str) -> Path:
    """argparse's type for a path option: pathlib loads only when one is given."""
    from pathlib import Path

    return Path(text)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter at the width it would pick itself, found without argparse importing shutil."""

    def __init__(self, prog: str, **kwargs: object) -> None:
        kwargs.setdefault("width", _terminal_columns() - 2)
        super().__init__(prog, **kwargs)  # type: ignore[arg-type]


def _terminal_columns() -> int:
    """shutil.get_terminal_size()'s columns: COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(script: bool = True) -> argparse.ArgumentParser:
    """The options; `script` says which entry it is: `python peloton_xl.py` or the installed `peloton-xl`."""
    where = "beside peloton_xl.py" if script else "in the current folder"
    default = CHECKOUT_WORKBOOK_NAME if script else WORKBOOK_NAME
    p = argparse.ArgumentParser(
        formatter_class=_HelpFormatter,
        prog="python peloton_xl.py" if script else "peloton-xl",
        description="Fetch every Peloton workout into an Excel workbook (Workouts and Metrics tables). "
        "Settings come from flags, then PELOTON_* environment variables, then the workbook's "
        "Config sheet.",
        epilog="Exit status: 0 written; 1 failed, workbook untouched; 3 written, but some workouts' "
        "details could not be fetched (they are retried next time) or some workouts or CSV rows could not be read "
        "(each is named).",
    )
    p.add_argument(
        "--workbook",
        metavar="PATH",
        type=_path,
        help=f"the .xlsm to fill (default: {default} {where}; "
        f"with --demo, {DEMO_WORKBOOK_NAME}). A missing file is created from the template.",
    )
    p.add_argument(
        "--full", action="store_true", help="refetch every workout and graph, and drop workouts deleted on Peloton"
    )
    p.add_argument(
        "--allow-removals",
        action="store_true",
        dest="allow_removals",
        help="with --full: remove the stored workouts Peloton's list lacks even when that is more than half of "
        "them, or the list holds fewer than the account's count (a --full refuses that otherwise)",
    )
    p.add_argument(
        "--demo", action="store_true", help="use a built-in demo account served locally: no account, no network"
    )
    p.add_argument(
        "--export",
        metavar="DIR",
        type=_path,
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
        type=_path,
        dest="upgrade_workbook",
        help="instead of a refresh: bring this version's VBA modules, Peloton tab and xlwings.conf keys into a "
        "workbook made by an earlier version, keeping every sheet, note, chart and pivot of yours",
    )
    p.add_argument("--version", action="version", version=f"peloton_xl {__version__}")
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="count", default=0, help="say more (-vv for HTTP detail)")
    noise.add_argument("-q", "--quiet", action="store_true", help="only errors and the closing line")
    return p


def main(argv: list[str] | None = None, *, workbook_dir: Path | str | None = None) -> int:
    """Run the command line. `workbook_dir`: where the default workbook lives; peloton_xl.py passes its
    own folder (a checkout), the installed `peloton-xl` passes nothing and means the current folder."""
    args = build_parser(script=workbook_dir is not None).parse_args(argv)
    from pathlib import Path

    from pelotonxl.commands.refresh import RunState

    if workbook_dir is not None:
        workbook_dir = Path(workbook_dir)
    _setup_logging(args.verbose, args.quiet)
    run = RunState()
    status = _main(args, workbook_dir, run)
    if status == 1:
        run.discard_new_workbook()
    return status


def _main(args: argparse.Namespace, workbook_dir: Path | None, run: RunState) -> int:
    from pelotonxl.errors import PelotonXLError

    try:
        if args.upgrade_workbook is not None:
            from pelotonxl.commands.setup_excel import upgrade_workbook

            return upgrade_workbook(args)
        if args.setup_excel:
            from pelotonxl.commands.setup_excel import setup_excel

            return setup_excel(args, workbook_dir)
        from contextlib import ExitStack
        from pathlib import Path

        from pelotonxl.commands.refresh import run_from_terminal

        with ExitStack() as stack:
            return run_from_terminal(args, stack, workbook_dir or Path.cwd(), run, checkout=workbook_dir is not None)
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


def console_main(workbook_dir: Path | str | None = None) -> int:
    """The terminal's entry (`peloton-xl`, `python peloton_xl.py`): `main`, and once its closing line is
    out, a Ctrl-C while Python shuts down can no longer turn the status into 130 or a traceback."""
    status = main(workbook_dir=workbook_dir)
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return status


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


def _setup_logging(verbose: int, quiet: bool) -> None:
    import logging

    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="peloton_xl: %(message)s", stream=sys.stderr)
    if verbose < 2:
        logging.getLogger("urllib3").setLevel(logging.WARNING)
