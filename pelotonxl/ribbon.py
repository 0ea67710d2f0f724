"""The ribbon's entry points: Peloton -> Refresh / Full refresh run `peloton_xl.refresh()` and
Peloton -> Show ride runs `peloton_xl.show_ride()` through xlwings' RunPython, which land here.
An edge, like cli.py: it drives the whole refresh and writes through the live writer; failures
become one line in a message box, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING

from pelotonxl.errors import PelotonXLError
from pelotonxl.excel.live_writer import write_for_refresh, write_ride_live
from pelotonxl.excel.workbook_link import (
    StatusBarProgress,
    _alert,
    _keep_stderr_quiet,
    _one_line,
    book_file,
    read_config,
)
from pelotonxl.model.workbook import WORKOUT_ID
from pelotonxl.refresh_job import RefreshResult, run_refresh
from pelotonxl.refresh_lock import refresh_lock
from pelotonxl.settings import resolve
from pelotonxl.wording import plural

if TYPE_CHECKING:
    import xlwings as xw

log = logging.getLogger(__name__)


OUTSIDE_EXCEL = {
    "refresh": "refresh() is what the workbook's Peloton → Refresh button runs: click it in Excel, or refresh "
    "from a terminal with `python peloton_xl.py --workbook PATH`.",
    "show_ride": "show_ride() is what the workbook's Peloton → Show ride button runs: click it in Excel with a "
    "workout's row selected (a refresh from a terminal, `python peloton_xl.py`, shows your latest ride).",
}


def _caller_book(entry: str) -> xw.Book | None:
    """The workbook whose button ran us (RunPython). Called from plain Python instead, xlwings can only fail
    with a traceback about itself: say in one line where the function belongs and return None (a script
    ends with status 1)."""
    import xlwings as xw

    try:
        return xw.Book.caller()
    except Exception:
        if _called_from_excel():
            raise  # Excel did call: its failure is worth its traceback (xlwings shows it in Excel)
    print(f"peloton_xl: {OUTSIDE_EXCEL[entry]}", file=sys.stderr)
    if not hasattr(sys, "ps1"):  # a script, not the interactive prompt
        raise SystemExit(1)
    return None


def _called_from_excel() -> bool:
    """What xlwings' Book.caller() goes by: RunPython's `--from_xl=1` argument, a mock caller, or (Windows)
    the optimized connection's book."""
    import xlwings as xw

    if hasattr(xw.Book, "_mock_caller") or "--from_xl=1" in sys.argv:
        return True
    return bool(getattr(getattr(xw, "_xlwindows", None), "BOOK_CALLER", None))


def refresh_caller(full: bool = False, parts: str = "") -> None:
    """Refresh the workbook whose ribbon button (RunPython) called us. `parts`: what its VBA says it is."""
    book = _caller_book("refresh")
    if book is None:
        return
    _keep_stderr_quiet()
    refresh_book(book, full=full, parts=parts)


def refresh_book(
    book: xw.Book, full: bool = False, environ: Mapping[str, str] | None = None, parts: str | None = None
) -> RefreshResult | None:
    """Read Config, refresh, write the tables into the open book; report problems in a message box.

    `parts`: what the workbook's VBA says it is (release and xlwings version; "" before 0.2.0, None: not
    asked); when it is not what this Python runs, the closing box says so in one line, and what to run.
    Returns the result, or None when the refresh failed (the box has said why). Never saves the
    book: the member decides that, as with any edit in Excel.
    """
    app = book.app
    warnings = _Warnings()
    package_log = logging.getLogger("pelotonxl")
    try:
        previous_status = app.status_bar
        package_log.addHandler(warnings)  # off again below: Excel may keep this process for the next click
        try:
            workbook = book_file(book)
            environ = os.environ if environ is None else environ
            settings = resolve(config=read_config(book), environ=environ, workbook=workbook)
            # A second click while a refresh runs (a Mac starts one process per click), or a scheduled
            # run at that moment: this one stops with a line rather than wait with Excel frozen.
            with refresh_lock(workbook, wait=0):
                result = run_refresh(
                    settings,
                    partial(write_for_refresh, book),
                    full=full,
                    progress=StatusBarProgress(app),
                    workbook=workbook,
                )
        finally:
            app.status_bar = previous_status  # before any message box, which is modal
            package_log.removeHandler(warnings)
    except PelotonXLError as exc:
        _alert(app, _one_line(str(exc)), mode="critical")
        return None
    except Exception as exc:  # the last line of defence: one line in a box, never a traceback
        log.debug("live refresh failed", exc_info=True)
        _alert(app, f"Unexpected {type(exc).__name__}: {_one_line(str(exc))} — please report it", mode="critical")
        return None
    if result.route_note:  # not a problem, but the member should know the usual way in was not used
        warnings.lines.append(result.route_note[:1].upper() + result.route_note[1:])
    if parts is not None:
        from pelotonxl.commands.setup_excel import stale_parts_line

        stale = stale_parts_line(parts, book_file(book))
        warnings.lines += [stale] if stale else []
    said = closing_message(result, warnings.lines)
    if said:
        _alert(app, said, mode="info")
    return result


def closing_message(result: RefreshResult, warnings: list[str]) -> str | None:
    """The closing box's text: the refresh's problems in one sentence, then what the CLI would have printed
    on stderr (a sheet whose PELOTON_ formulas could not be recalculated, say): a quiet success would hide
    both. None: nothing to say."""
    problems = result.problems
    if not problems and not warnings:
        return None
    said = f"{plural(result.rows, 'workout')} written" + (f", but {problems.sentence('excel')}" if problems else "")
    return " ".join([said + ".", *(line.rstrip(".") + "." for line in warnings)])


class _Warnings(logging.Handler):
    """The warnings logged during a refresh, one line each, for the closing message box."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = _one_line(record.getMessage())
        self.lines.append(line[:1].upper() + line[1:])


def show_ride_caller() -> None:
    """Show ride: the ride whose Workout ID is in the active cell's row, on the Ride sheet."""
    book = _caller_book("show_ride")
    if book is None:
        return
    _keep_stderr_quiet()
    show_ride_in_book(book)


def _selected_cells(book: xw.Book) -> xw.Range | None:
    """The selected cells, or None when the selection is not cells (a chart, a shape).

    xlwings answers None for a chart on a Mac; on Windows it asks the selection for its Address
    first, and a chart's COM object has none, which pywin32 raises as AttributeError."""
    try:
        return book.selection
    except AttributeError:
        return None


def workout_id_in_row(selection: xw.Range | None) -> str | None:
    """The first Workout ID (32 hex digits) in the row of the selection's first cell (None when no
    cell is selected: a chart or a shape is)."""
    if selection is None:
        return None
    sheet, row = selection.sheet, selection.row
    used = sheet.used_range
    last_col = used.column + used.shape[1] - 1
    values = sheet.range((row, 1), (row, max(last_col, 1))).options(ndim=2).value[0]
    return next((v for v in values if isinstance(v, str) and WORKOUT_ID.fullmatch(v.strip())), None)


def show_ride_in_book(book: xw.Book, environ: Mapping[str, str] | None = None) -> bool:
    """Render the selected row's ride from the local store (never the network); False (after a
    message box saying why) when there is nothing to show."""
    from pelotonxl.model.ride_view import ride_view, rides_to_read
    from pelotonxl.peloton.store import WorkoutStore
    from pelotonxl.state import answering_store

    app = book.app
    try:
        workout_id = workout_id_in_row(_selected_cells(book))
        if workout_id is None:
            _alert(
                app,
                "Select a cell in a row with a Workout ID (the Workouts or Metrics sheet), then Peloton → Show ride.",
                mode="info",
            )
            return False
        # The store this workbook's last refresh filled (a --home or demo refresh included), else the
        # one its settings point at.
        environ = os.environ if environ is None else environ
        settings = resolve(config=read_config(book), environ=environ, workbook=book_file(book))
        record, _ = answering_store(book_file(book), settings.home_path)
        path = record.store_file if record else None
        if path is None or not path.exists():
            _alert(app, "No workouts stored yet: Peloton → Refresh first.", mode="info")
            return False
        with WorkoutStore(path) as store:
            summaries = list(store.records(samples=False))
            shown = rides_to_read(summaries, workout_id)
            view = ride_view(
                ((w, store.graph(w["id"])) for w, _ in summaries if w.get("id") in shown), workout_id, store.loads()
            )
        if view is None:
            _alert(
                app,
                f"Workout {workout_id} is not a Bike ride with a performance graph: pick a ride's row.",
                mode="info",
            )
            return False
        write_ride_live(book, view)
    except PelotonXLError as exc:
        _alert(app, _one_line(str(exc)), mode="critical")
        return False
    except Exception as exc:  # one line in a box, never a traceback
        log.debug("show ride failed", exc_info=True)
        _alert(app, f"Unexpected {type(exc).__name__}: {_one_line(str(exc))} — please report it", mode="critical")
        return False
    return True
