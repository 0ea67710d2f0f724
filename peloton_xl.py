"""peloton_xl: every Peloton workout in PelotonWorkbook.xlsm.

This file is the edge that Excel and the terminal talk to:
- `python peloton_xl.py [--workbook PATH] [--full] [--demo]`: a headless refresh (see --help);
- `refresh()`: what the workbook's Peloton → Refresh button runs through xlwings' RunPython;
- `show_ride()`: what Peloton → Show ride runs (the ride in the active cell's row, on the Ride sheet);
- the worksheet functions (UDFs) such as `=PELOTON_METRIC(A2, "avg_output")`,
  `=PELOTON_SERIES(A2, "output")` and `=PELOTON_FITNESS(TODAY(), "form")`.
Everything else lives in the `pelotonxl` package (its Excel side is pelotonxl/excel/).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # The command line first: the imports below (xlwings) are for Excel, and --help answers at once.
    try:
        from pelotonxl.cli import console_main
    except KeyboardInterrupt:  # Ctrl-C while Python loads the package: nothing has started yet
        print("peloton_xl: interrupted before the refresh started; nothing was changed.", file=sys.stderr)
        sys.exit(130)
    sys.exit(console_main(workbook_dir=os.path.dirname(os.path.realpath(__file__))))

import xlwings as xw

from pelotonxl.excel import functions as metric_lookup


def refresh(full: bool = False, parts: str = "") -> None:
    """Refresh the workbook that called us (ribbon / macro). Excel must be running. `parts`: the release and
    xlwings version of the workbook's VBA ("0.2.0 0.37.8"); a workbook from before 0.2.0 passes none."""
    from pelotonxl import ribbon

    ribbon.refresh_caller(full=full, parts=parts)


def show_ride() -> None:
    """Peloton → Show ride: the ride in the active cell's row, on the Ride sheet (from the store)."""
    from pelotonxl import ribbon

    ribbon.show_ride_caller()


# Called from a workbook, xlwings passes the calling cell as `caller` (not an argument in Excel):
# the functions answer for that workbook's own refresh. From plain Python (tests, benchmarks) there
# is no caller, and they answer for this machine's most recent refresh.
CATEGORY = "Peloton"  # the Function Wizard's category (registered by the workbook's VBA)
WORKOUT_DOC = (
    'A Workout ID, a date or date-time, "latest", or the latest of one kind: '
    '"latest ride", "latest run", "latest row", "latest walk".'
)


def _book(caller: xw.Range | None) -> str | None:
    """The calling workbook's path, or None (plain Python, or a caller Excel cannot place)."""
    if caller is None:
        return None
    try:
        return caller.sheet.book.fullname
    except AttributeError:  # our mistake, never Excel's: let it show
        raise
    except Exception:  # a call from VBA rather than a cell, an Excel busy elsewhere: answer as plain Python
        return None


@xw.func(category=CATEGORY)
@xw.arg("workout", doc=WORKOUT_DOC)
@xw.arg("metric", doc='A metric slug such as "avg_output" or a name such as "Avg Output".')
def PELOTON_METRIC(workout, metric, caller=None):
    """One workout's metric (a number), from the local store of this workbook's last refresh;
    a pace is a time (format the cell [m]:ss)."""
    try:
        return metric_lookup.lookup_metric(workout, metric, _book(caller))
    except metric_lookup.MetricLookupError as exc:
        return metric_lookup.as_excel_error(exc)


@xw.func(category=CATEGORY)
@xw.arg("workout", doc=WORKOUT_DOC)
@xw.arg("metric", doc='A sampled metric: "output", "cadence", "resistance", "speed", "heart_rate" or its name.')
@xw.ret(transpose=True)  # a list is a row to xlwings: a column spills down (Excel 365)
def PELOTON_SERIES(workout, metric, caller=None):
    """One workout's samples of one metric, a column that spills down, from the local store;
    paces are times ([m]:ss)."""
    try:
        return metric_lookup.series(workout, metric, _book(caller))
    except metric_lookup.MetricLookupError as exc:
        return metric_lookup.as_excel_error(exc)


@xw.func(category=CATEGORY)
@xw.arg("day", doc="A date.")
@xw.arg("figure", doc='"fitness" (CTL), "fatigue" (ATL), "form" (TSB), "load" or "ramp".')
def PELOTON_FITNESS(day, figure, caller=None):
    """A day's training figure from the Fitness table: fitness, fatigue, form, load or ramp."""
    try:
        return metric_lookup.fitness_on(day, figure, _book(caller))
    except metric_lookup.MetricLookupError as exc:
        return metric_lookup.as_excel_error(exc)


# No @xw.ret(expand=...): a 2-D list is an array Excel 365 spills natively; `expand` would rewrite
# it as a legacy array a moment later and overwrite the neighbouring cells without asking.
@xw.func(category=CATEGORY)
def PELOTON_METRIC_NAMES(caller=None):
    """The metrics PELOTON_METRIC knows for this account: slug, name and unit, one per row (spills)."""
    try:
        return metric_lookup.metric_names(_book(caller))
    except metric_lookup.MetricLookupError as exc:
        return metric_lookup.as_excel_error(exc)


@xw.func(category=CATEGORY)
@xw.arg("day", doc="A date.")
def PELOTON_WORKOUTS_ON(day, caller=None):
    """The Workout IDs that started on a day, newest first, one per row (spills)."""
    try:
        return metric_lookup.workouts_on(day, _book(caller))
    except metric_lookup.MetricLookupError as exc:
        return metric_lookup.as_excel_error(exc)
