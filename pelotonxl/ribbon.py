"""The ribbon's entry point: Peloton -> Refresh / Full refresh run `peloton_xl.refresh()` through
xlwings' RunPython, which lands here. An edge, like cli.py: it drives the whole refresh and writes
through the live writer; failures become one line in a message box, never a traceback.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Mapping

from pelotonxl.errors import PelotonXLError
from pelotonxl.excel.live_writer import write_tables_live
from pelotonxl.excel.workbook_link import (
    StatusBarProgress,
    _alert,
    _keep_stderr_quiet,
    _one_line,
    read_config,
)
from pelotonxl.refresh_job import RefreshResult, run_refresh
from pelotonxl.settings import resolve

if TYPE_CHECKING:
    import xlwings as xw

log = logging.getLogger(__name__)




def refresh_caller(full: bool = False) -> None:
    """Refresh the workbook whose ribbon button (RunPython) called us."""
    import xlwings as xw

    _keep_stderr_quiet()
    book = xw.Book.caller()
    refresh_book(book, full=full)


def refresh_book(book: "xw.Book", full: bool = False,
                 environ: Mapping[str, str] | None = None) -> RefreshResult | None:
    """Read Config, refresh, write the tables into the open book; report problems in a message box.

    Returns the result, or None when the refresh failed (the box has said why). Never saves the
    book: the member decides that, as with any edit in Excel.
    """
    app = book.app
    try:
        previous_status = app.status_bar
        try:
            settings = resolve(config=read_config(book),
                               environ=os.environ if environ is None else environ)
            result = run_refresh(settings, lambda content: write_tables_live(book, content),
                                 full=full, progress=StatusBarProgress(app))
        finally:
            app.status_bar = previous_status  # before any message box, which is modal
    except PelotonXLError as exc:
        _alert(app, _one_line(str(exc)), mode="critical")
        return None
    except Exception as exc:  # the last line of defence: one line in a box, never a traceback
        log.debug("live refresh failed", exc_info=True)
        _alert(app, f"Unexpected {type(exc).__name__}: {_one_line(str(exc))} — please report it",
               mode="critical")
        return None
    problems = [f"the details of {_workouts(len(result.failed))} could not be fetched (the next refresh "
                "retries them)" if result.failed else "",
                f"{_workouts(len(result.sync.unavailable))} seem unavailable on Peloton (Full refresh tries "
                "again)" if result.sync.unavailable else "",
                f"{_workouts(len(result.sync.unreadable))} came with fields that cannot be read"
                if result.sync.unreadable else ""]
    problems = [p for p in problems if p]
    if problems:
        _alert(app, f"{result.rows} workouts written, but {'; '.join(problems)}.", mode="info")
    return result


def _workouts(count: int) -> str:
    return f"{count} workout{'s' if count != 1 else ''}"
