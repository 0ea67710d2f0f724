"""The refresh run from a terminal: the workbook and its settings, room on disk, the refresh lock,
`refresh_job.run_refresh`, the closing report, then --export and the offer to remove a typed password."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl.commands.report import report
from pelotonxl.commands.targets import check_room, open_target, workbook_path
from pelotonxl.errors import PelotonXLError, WorkbookError
from pelotonxl.progress import TerminalProgress
from pelotonxl.wording import plural

if TYPE_CHECKING:
    from pelotonxl.settings import Settings

STATE_ROOM = 20 * 2**20  # the store grows by a few MB per thousand workouts; SQLite needs some slack

log = logging.getLogger("peloton_xl")


class RunState:
    """What an interruption needs to know: was the workbook replaced, was the closing line printed."""

    def __init__(self) -> None:
        self.workbook: Path | None = None
        self.before: tuple | None = None
        self.exit_code: int | None = None
        self.created: tuple[Path, tuple | None] | None = None  # a workbook this run copied from the template

    def created_from_template(self, workbook: Path) -> None:
        self.created = (workbook, _identity(workbook))

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


class _NoArrowForPandas:
    """An import finder that refuses pyarrow to pandas' own import, and to nothing else.

    pandas (3.x) imports pyarrow whenever it is installed, to back its strings with Arrow: 35 MB of the
    refresh's peak memory and a tenth of a second, for string columns a refresh only reads back cell by cell.
    Refused, pandas keeps its strings in Python objects (its documented way without pyarrow); pyarrow
    still imports for anything asking once pandas is in (--export). Only the terminal's own process
    installs it: Excel's Python is shared with the member's own functions."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pyarrow":
            pandas = sys.modules.get("pandas")
            if pandas is not None and not hasattr(pandas, "DataFrame"):  # pandas/__init__.py still running
                raise ModuleNotFoundError("pyarrow is left out of the refresh's pandas", name=name)
        return None


def _pandas_without_arrow() -> None:
    if "pandas" not in sys.modules and not any(isinstance(f, _NoArrowForPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoArrowForPandas())


def _identity(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def run_from_terminal(
    args: argparse.Namespace, stack: ExitStack, workbook_dir: Path, run: RunState, *, checkout: bool = False
) -> int:
    """`checkout`: run as peloton_xl.py from a checkout, whose default workbook is CHECKOUT_WORKBOOK_NAME."""
    _pandas_without_arrow()
    from pelotonxl.refresh_job import run_refresh
    from pelotonxl.settings import resolve

    if args.allow_removals and not args.full:
        raise WorkbookError("--allow-removals only applies to --full: run with --full --allow-removals.")
    workbook = workbook_path(args, workbook_dir, run.created_from_template, checkout=checkout)
    run.watch(workbook)
    if args.export is not None:  # a bad folder fails before any network
        from pelotonxl.export import check_folder

        args.export = check_folder(args.export)
    target = open_target(workbook)
    config = target.read_config()
    if not config:
        log.warning("%s has no Config sheet: using flags, environment and defaults", workbook.name)
    flags = {
        k: getattr(args, k) for k in ("username", "workers", "every_n", "home", "api_url", "auth_url", "import_csv")
    }
    settings = resolve(flags, config=config, workbook=workbook)
    if args.demo:
        from pelotonxl.commands.demo import demo_settings

        settings = demo_settings(settings, stack)
    if not target.through_excel:  # the save writes a whole copy beside the workbook first
        check_room(
            workbook.parent,
            2 * workbook.stat().st_size + STATE_ROOM,
            "the workbook",
            "give --workbook a path on another disk",
        )
    check_room(settings.home_path, STATE_ROOM, "the state folder", "point PELOTON_XL_HOME (or --home) at another disk")
    progress = TerminalProgress(enabled=not args.quiet and sys.stderr.isatty())
    stack.callback(progress.close)
    from pelotonxl.refresh_lock import refresh_lock

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
        allow_removals=args.allow_removals or args.demo,
        shown=getattr(target, "shown", None),
    )
    progress.close()
    report(result, workbook, target.through_excel, args.verbose > 0)
    if args.export is not None:
        _export(settings, workbook, args.export)
    run.exit_code = result.exit_code  # from here on, Ctrl-C is no failure
    if settings.sources.get("password") == "config" and not args.demo:
        _offer_to_remove_password(workbook, target.through_excel)
    return result.exit_code


def _export(settings: Settings, workbook: Path, folder: Path) -> None:
    """The account just refreshed, from its local store, as Parquet files in `folder`."""
    from pelotonxl.export import export_store
    from pelotonxl.peloton.store import WorkoutStore
    from pelotonxl.state import answering_store

    record, _ = answering_store(workbook, settings.home_path)
    if record is None:  # the refresh just recorded it; only a folder emptied meanwhile lacks it
        raise PelotonXLError(f"Nothing to export: no refresh recorded in {settings.home_path}. Refresh, then export.")
    with WorkoutStore(record.store_file) as store:
        rows = export_store(store.records, folder, store.loads())
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
