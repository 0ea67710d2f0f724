"""After a live refresh, every PELOTON_* formula in the workbook answered again from the new data.

Excel recalculates a formula when a cell it refers to changes. `=PELOTON_METRIC("latest", "Avg Output")`
refers to no cell the refresh writes, and the functions are not volatile (a volatile one would rerun on
every edit anywhere), so Excel would show last week's answer until Ctrl+Alt+F9. Entering a formula makes
Excel calculate it, and the cells that depend on it follow: so each cell whose formula names a PELOTON_
function gets its own formula again, through `formula2` (Excel 365's dynamic-array form, so a spilling
function keeps spilling). That needs nothing beyond xlwings, works the same on Windows and macOS, and
touches only those cells; the alternative, a full recalculation of the book (`Application.CalculateFull`,
not in xlwings), reruns every formula of every open workbook. benchmarks/bench_recalc.py measures both.

The sheets the refresh draws whole are skipped (nothing of the member's lives there). A legacy array
formula (Ctrl+Shift+Enter, or an old xlwings `expand=` result) cannot be re-entered one cell at a time:
it is left for the member's Ctrl+Alt+F9. A sheet Excel will not let us write (a protected one), or whose
used range is too large to read in one go, is passed over with a warning: the refresh itself has
succeeded by then.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xlwings as xw

log = logging.getLogger(__name__)

MARK = "PELOTON_"
MAX_CELLS = 2_000_000  # a sheet's used range read in one go; 5,000 workouts' Metrics is about 200,000


def recalculate_functions(book: xw.Book, skip: Iterable[str] = ()) -> int:
    """Re-enter each PELOTON_ formula of the book (one read per sheet, one write per column run);
    returns how many cells were recalculated."""
    skipped = {name.casefold() for name in skip}
    count = 0
    for sheet in book.sheets:
        if sheet.name.casefold() in skipped:
            continue
        try:
            count += _recalculate_sheet(sheet)
        except Exception as exc:  # noqa: BLE001 - a protected sheet, say: the data is written, only this sheet's answers lag
            log.warning(
                "%s: its PELOTON_ formulas could not be recalculated (%s); press Ctrl+Alt+F9",
                sheet.name,
                " ".join(str(exc).split()) or type(exc).__name__,
            )
    log.debug("%d PELOTON_ formulas recalculated", count)
    return count


def _recalculate_sheet(sheet: xw.Sheet) -> int:
    count = 0
    used = sheet.used_range
    rows, cols = used.shape
    if rows * cols > MAX_CELLS:  # formats down to row 1,048,576, say: reading it would stall Excel
        log.warning(
            "%s: its used range (%d cells) is too large to look for PELOTON_ formulas; press "
            "Ctrl+Alt+F9 to recalculate them",
            sheet.name,
            rows * cols,
        )
        return 0
    grid = _as_grid(used.formula2)
    for col, first, last in _runs(grid):
        cells = sheet.range((used.row + first, used.column + col), (used.row + last, used.column + col))
        in_array = cells.has_array  # None: partly in one
        if in_array or in_array is None:
            log.info("%s: a legacy array formula is not recalculated (Ctrl+Alt+F9 does it)", sheet.name)
            continue
        cells.formula2 = [[grid[r][col]] for r in range(first, last + 1)]
        count += last - first + 1
    return count


def _as_grid(formulas: Any) -> list[list[Any]]:
    """xlwings gives one cell's formula as a string, a range's as rows."""
    if not isinstance(formulas, (list, tuple)):
        return [[formulas]]
    return [list(row) if isinstance(row, (list, tuple)) else [row] for row in formulas]


def _runs(grid: list[list[Any]]) -> Iterator[tuple[int, int, int]]:
    """(column, first row, last row) of each vertical run of PELOTON_ formulas, offsets in the grid."""
    for col in range(max((len(row) for row in grid), default=0)):
        first = None
        for r, row in enumerate(grid + [[]]):
            hit = col < len(row) and _is_peloton_formula(row[col])
            if hit and first is None:
                first = r
            elif not hit and first is not None:
                yield col, first, r - 1
                first = None


def _is_peloton_formula(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("=") and MARK in text.upper()
