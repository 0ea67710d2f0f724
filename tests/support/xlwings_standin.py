"""The STATE behind the xlwings objects the live writer touches. It is NOT Excel, and it is not the
API the code under test sees: tests hand the code `tests/support/xlwings_autospec.py` objects, made
from xlwings' own classes, which keep their state here.

Apps, App, Books, Book, Sheets, Sheet, Range, Names, Name (and, beside this module, Tables and Table in
xlwings_standin_tables.py, Charts, Chart and their series in xlwings_standin_charts.py), backed by an
in-memory grid of cells. Each write is recorded in `book.calls`, so tests can count bulk writes and
see what was cleared or formatted.

Where it is deliberately strict, it mirrors a rule real Excel or xlwings enforces:
- a value written to a cell must be one Excel takes through COM as is (None, bool, int, finite
  float, str, naive datetime/date): numpy scalars, pandas objects, NaN and time zones raise;
- a Table needs a header row and at least one body row, and `resize` keeps its header row where
  it is (Excel's ListObject.Resize rule);
- defined names and sheet names are case-insensitive;
- a leading apostrophe in a written string is Excel's text prefix, not part of the value;
- a table's column names stay unique (any case): a header cell written with a name another column of
  the table holds gets a number appended ("Distance (mi)2"), cell by cell, left to right;
- a formula written (`value` or `formula2`) is calculated at once by the book's `calc`
  (support/standin_calc.py) when it has one; nothing else recalculates it (a non-volatile function);
  a formula cell reads as its result (0.0 where nothing calculated it), its formula through `formula`.
What it does not do: Excel's parsing of typed strings, calculation of anything but the PELOTON_ functions,
styles beyond a table's style name, anything visual. Charts are records of what was asked (name, type,
source range, plot_by, series colours, position); nothing is drawn. Positions in
points assume every row is 15 points high and a character of column width 7.5 points wide.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl.utils import get_column_letter

from support.xlwings_standin_charts import Charts
from support.xlwings_standin_items import NamedItems
from support.xlwings_standin_pivots import ComName, MacName, PivotTables
from support.xlwings_standin_tables import Tables, unique_header

_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
ROW_POINTS, CHAR_POINTS, DEFAULT_WIDTH = 15.0, 7.5, 8.43


@dataclass(frozen=True)
class Call:
    op: str  # e.g. "value=", "value", "number_format=", "clear_contents", "resize"
    sheet: str
    address: str
    detail: Any = None


def _parse_cell(text: str) -> tuple[int, int]:
    m = _CELL.match(text.strip())
    if not m:
        raise ValueError(f"not a cell address: {text!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _check_cell_value(value: Any) -> None:
    if value is None or type(value) in (bool, int, str, date):
        return
    if type(value) is float and math.isfinite(value):
        return
    if type(value) is datetime and value.tzinfo is None:
        return
    kind = f"{type(value).__module__}.{type(value).__name__}"
    raise TypeError(f"Excel cannot take {kind} {value!r} as a cell value")


class Apps(list):
    """xw.apps: the running Excel instances."""


class Books(list):
    """app.books: the open workbooks."""


class App:
    def __init__(self) -> None:
        self.books = Books()
        self._status_bar: str | bool = False  # False: Excel shows its own status text
        self.status_history: list[str | bool] = []
        self.alerts: list[dict[str, Any]] = []

    @property
    def status_bar(self) -> str | bool:
        return self._status_bar

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self._status_bar = value
        self.status_history.append(value)

    def alert(
        self,
        prompt: str,
        title: str | None = None,
        buttons: str = "ok",
        mode: str | None = None,
        callback: str | None = None,
    ) -> str:
        if buttons not in ("ok", "ok_cancel", "yes_no", "yes_no_cancel"):
            raise ValueError(f"xlwings rejects buttons={buttons!r}")
        if mode not in (None, "info", "critical"):
            raise ValueError(f"xlwings rejects mode={mode!r}")
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"


class Book:
    def __init__(self, fullname: str = "Book.xlsm", app: App | None = None) -> None:
        self._fullname = fullname
        # Excel's web address for an AutoSaved OneDrive/SharePoint book whose synced copy xlwings cannot find.
        self.unmapped_address: str | None = None
        self.app = app or App()
        self.app.books.append(self)
        self.calc: Any = None  # support.standin_calc.Calc, when a test wants formulas calculated
        self.calls: list[Call] = []
        self.saved = 0
        self.sheets = Sheets(self)
        self.names = Names(self)
        self._selection: Range | None = None  # xlwings: book.selection, the active cell(s)
        # A chart selected instead of cells: xlwings on a Mac answers None; on Windows it reads the
        # selection's Address, which a chart's COM object lacks (pywin32 raises AttributeError).
        self.chart_selected_on: str | None = None  # None, "mac" or "windows"
        self.native = "windows"  # what `.api` hands over: COM objects ("windows") or appscript's ("mac")

    @property
    def selection(self) -> Range | None:
        if self.chart_selected_on == "windows":
            raise AttributeError("<unknown>.Address")
        return None if self.chart_selected_on == "mac" else self._selection

    @selection.setter
    def selection(self, cells: Range | None) -> None:
        self._selection = cells

    @property
    def fullname(self) -> str:
        if self.unmapped_address:  # xlwings' own error when it cannot map the address to a local file
            import xlwings as xw

            raise xw.XlwingsError("Couldn't find your local OneDrive file, see: xlwings.org/error")
        return self._fullname

    @fullname.setter
    def fullname(self, path: str) -> None:
        self._fullname = path

    @property
    def name(self) -> str:  # Excel's Name: the file name, whatever the address
        return (self.unmapped_address or self._fullname).replace("\\", "/").rsplit("/", 1)[-1]

    def save(self, path: str | None = None) -> None:
        self.saved += 1
        self.calls.append(Call("save", "", self.fullname))

    def calls_of(self, op: str, sheet: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.op == op and (sheet is None or c.sheet == sheet)]


class Sheets(NamedItems):
    def __init__(self, book: Book) -> None:
        super().__init__()
        self.book = book

    def add(self, name: str | None = None, before: Sheet | None = None, after: Sheet | None = None) -> Sheet:
        name = name or f"Sheet{len(self._items) + 1}"
        if any(s.name.casefold() == name.casefold() for s in self._items):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        sheet = Sheet(self.book, name)
        if after is not None:
            self._items.insert(self._items.index(after) + 1, sheet)
        elif before is not None:
            self._items.insert(self._items.index(before), sheet)
        else:
            self._items.insert(0, sheet)  # like Excel: a new sheet goes before the active one
        self.book.calls.append(Call("sheets.add", name, ""))
        return sheet


class Sheet:
    def __init__(self, book: Book, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}  # a formula cell holds its formula ("=...")
        self.text_cells: set[tuple[int, int]] = set()  # written with Excel's text prefix (')
        self.results: dict[tuple[int, int], Any] = {}  # what the book's calc gave each formula
        self.array_cells: set[tuple[int, int]] = set()  # test helper: cells of a legacy (CSE) array formula
        self.protected = False  # test helper: Excel refuses every write
        self.formats: dict[tuple[int, int], str] = {}
        self.widths: dict[int, float] = {}
        self.tables = Tables(self)
        self.charts = Charts(self)
        self.pivot_tables = PivotTables(self)
        self.note_texts: dict[tuple[int, int], str] = {}  # the cells' notes (Excel's legacy comments)
        self.threads: dict[tuple[int, int], str] = {}  # test helper: the cells' threaded comments

    @property
    def notes(self) -> Notes:
        return Notes(self)

    def range(self, cell1: str | tuple[int, int], cell2: str | tuple[int, int] | None = None) -> Range:
        if isinstance(cell1, str) and ":" in cell1 and cell2 is None:
            cell1, cell2 = cell1.split(":")
        r1, c1 = _parse_cell(cell1) if isinstance(cell1, str) else cell1
        r2, c2 = (r1, c1) if cell2 is None else (_parse_cell(cell2) if isinstance(cell2, str) else cell2)
        return Range(self, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    def __getitem__(self, address: str) -> Range:
        return self.range(address)

    @property
    def used_range(self) -> Range:
        if not self.cells:
            return Range(self, 1, 1, 1, 1)
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return Range(self, min(rows), min(cols), max(rows), max(cols))

    # test helpers, not xlwings
    def fill(self, top_left: str, rows: list[list[Any]]) -> None:
        """Put values in place without recording a call (how the test sets up a sheet)."""
        r0, c0 = _parse_cell(top_left)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if value is not None:
                    self.cells[(r0 + i, c0 + j)] = value

    def grid(self, rng: Range) -> list[list[Any]]:
        """What each cell holds: a formula cell its formula."""
        return [
            [self.cells.get((r, c)) for c in range(rng.column, rng.last_column + 1)]
            for r in range(rng.row, rng.last_row + 1)
        ]

    def is_formula(self, cell: tuple[int, int]) -> bool:
        value = self.cells.get(cell)
        return isinstance(value, str) and value.startswith("=") and cell not in self.text_cells

    def values(self, rng: Range) -> list[list[Any]]:
        """What Excel shows: a formula cell its result (0.0 for one the stand-in does not calculate)."""
        return [
            [
                self.results.get((r, c), 0.0) if self.is_formula((r, c)) else self.cells.get((r, c))
                for c in range(rng.column, rng.last_column + 1)
            ]
            for r in range(rng.row, rng.last_row + 1)
        ]


class Range:
    def __init__(self, sheet: Sheet, r1: int, c1: int, r2: int, c2: int, ndim: int | None = None) -> None:
        if r1 < 1 or c1 < 1:
            raise ValueError("Excel rows and columns start at 1")
        self.sheet = sheet
        self.row, self.column, self.last_row, self.last_column = r1, c1, r2, c2
        self._ndim = ndim

    @property
    def shape(self) -> tuple[int, int]:
        return self.last_row - self.row + 1, self.last_column - self.column + 1

    @property
    def address(self) -> str:
        first = f"${get_column_letter(self.column)}${self.row}"
        if self.shape == (1, 1):
            return first
        return f"{first}:${get_column_letter(self.last_column)}${self.last_row}"

    @property
    def left(self) -> float:
        return sum(self.sheet.widths.get(c, DEFAULT_WIDTH) for c in range(1, self.column)) * CHAR_POINTS

    @property
    def top(self) -> float:
        return (self.row - 1) * ROW_POINTS

    @property
    def width(self) -> float:
        return (
            sum(self.sheet.widths.get(c, DEFAULT_WIDTH) for c in range(self.column, self.last_column + 1)) * CHAR_POINTS
        )

    @property
    def height(self) -> float:
        return self.shape[0] * ROW_POINTS

    def options(self, ndim: int | None = None) -> Range:
        return Range(self.sheet, self.row, self.column, self.last_row, self.last_column, ndim=ndim)

    def _record(self, op: str, detail: Any = None) -> None:
        self.sheet.book.calls.append(Call(op, self.sheet.name, self.address, detail))

    @property
    def value(self) -> Any:
        self._record("value")
        grid = self.sheet.values(self)
        if self._ndim == 2:
            return grid
        rows, cols = self.shape
        if rows == 1 and cols == 1:
            return grid[0][0]
        if rows == 1 or cols == 1:  # xlwings' default: a single row or column reads as a flat list
            return [v for row in grid for v in row]
        return grid

    @value.setter
    def value(self, data: Any) -> None:
        self._write(data, "value=")

    def _write(self, data: Any, op: str) -> None:
        if self.sheet.protected:
            raise RuntimeError("The cell or chart you're trying to change is on a protected sheet.")
        if isinstance(data, (list, tuple)):
            rows = [list(r) for r in data] if data and isinstance(data[0], (list, tuple)) else [list(data)]
            width = max((len(r) for r in rows), default=0)
            if any(len(r) != width for r in rows):
                raise ValueError("rows of different lengths")
            self._record(op, (len(rows), width))
            # Like xlwings: a nested list is written from the range's top-left cell at its own size.
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    self._put(self.row + i, self.column + j, v)
        else:
            self._record(op, (1, 1))
            for r in range(self.row, self.last_row + 1):
                for c in range(self.column, self.last_column + 1):
                    self._put(r, c, data)

    @property
    def formula(self) -> Any:
        """A formula cell's formula, any other cell its value (as text in Excel; as stored here).
        Like xlwings: one cell gives a scalar, a range rows."""
        self._record("formula")
        grid = self.sheet.grid(self)
        return grid[0][0] if self.shape == (1, 1) else grid

    @property
    def formula2(self) -> Any:
        self._record("formula2")
        grid = self.sheet.grid(self)
        return grid[0][0] if self.shape == (1, 1) else grid

    @property
    def has_array(self) -> bool:
        return any(cell in self.sheet.array_cells for cell in self._each_cell())

    @formula2.setter
    def formula2(self, data: Any) -> None:
        self._write(data, "formula2=")

    def _put(self, r: int, c: int, value: Any) -> None:
        _check_cell_value(value)
        sheet, cell = self.sheet, (r, c)
        sheet.text_cells.discard(cell)
        sheet.results.pop(cell, None)
        if isinstance(value, str) and value.startswith("'"):  # Excel's text prefix: not part of the value
            value = value[1:]
            sheet.text_cells.add(cell)
        if value is None or value == "":
            sheet.cells.pop(cell, None)
            return
        sheet.cells[cell] = unique_header(sheet, cell, value)
        if sheet.is_formula(cell) and sheet.book.calc is not None:
            sheet.results[cell] = sheet.book.calc.evaluate(sheet, value)

    def _each_cell(self) -> Iterator[tuple[int, int]]:
        for r in range(self.row, self.last_row + 1):
            for c in range(self.column, self.last_column + 1):
                yield r, c

    @property
    def number_format(self) -> str | None:
        formats = {self.sheet.formats.get(cell, "General") for cell in self._each_cell()}
        return formats.pop() if len(formats) == 1 else None  # None when mixed, as in xlwings

    @number_format.setter
    def number_format(self, value: str) -> None:
        self._record("number_format=", value)
        for cell in self._each_cell():
            self.sheet.formats[cell] = value

    @property
    def column_width(self) -> float | None:
        widths = {self.sheet.widths.get(c) for c in range(self.column, self.last_column + 1)}
        return widths.pop() if len(widths) == 1 else None

    @column_width.setter
    def column_width(self, value: float) -> None:
        self._record("column_width=", value)
        for c in range(self.column, self.last_column + 1):
            self.sheet.widths[c] = value

    @property
    def note(self) -> Note | None:
        cell = (self.row, self.column)
        return Note(self.sheet, cell) if cell in self.sheet.note_texts else None

    def add_note(self, text: str) -> Note:
        cell = (self.row, self.column)
        if self.shape != (1, 1) or cell in self.sheet.note_texts:  # xlwings' own checks
            raise ValueError("a note goes on a single cell without one")
        self._record("add_note", text)
        self.sheet.note_texts[cell] = text
        return Note(self.sheet, cell)

    @property
    def comment(self) -> Comment | None:
        if self.shape != (1, 1):
            raise ValueError("A comment location must be a single cell")
        cell = (self.row, self.column)
        return Comment(self.sheet, cell) if cell in self.sheet.threads else None

    def clear_contents(self) -> None:
        self._record("clear_contents")
        for cell in self._each_cell():
            self.sheet.cells.pop(cell, None)
            self.sheet.text_cells.discard(cell)
            self.sheet.results.pop(cell, None)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Range)
            and other.sheet is self.sheet
            and (other.row, other.column, other.last_row, other.last_column)
            == (self.row, self.column, self.last_row, self.last_column)
        )

    def __repr__(self) -> str:
        return f"<Range [{self.sheet.name}]{self.address}>"


class Notes:
    """sheet.notes: each note of the sheet (clear_contents leaves notes where they are, as in Excel)."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    def __iter__(self) -> Iterator[Note]:
        return iter([Note(self.sheet, cell) for cell in sorted(self.sheet.note_texts)])

    def __len__(self) -> int:
        return len(self.sheet.note_texts)


class Note:
    def __init__(self, sheet: Sheet, cell: tuple[int, int]) -> None:
        self.sheet, self.cell = sheet, cell

    @property
    def text(self) -> str:
        return self.sheet.note_texts[self.cell]

    @property
    def location(self) -> Range:
        return Range(self.sheet, *self.cell, *self.cell)

    def delete(self) -> None:
        self.location._record("note.delete")
        del self.sheet.note_texts[self.cell]


class Comment:
    """A threaded comment (read only here: the live writer leaves them alone)."""

    def __init__(self, sheet: Sheet, cell: tuple[int, int]) -> None:
        self.sheet, self.cell = sheet, cell

    @property
    def text(self) -> str:
        return self.sheet.threads[self.cell]


class Names:
    def __init__(self, book: Book) -> None:
        self.book = book
        self._names: dict[str, tuple[str, str]] = {}  # casefolded name -> (sheet name, address)
        self._formulas: dict[str, str] = {}  # casefolded name -> a constant's formula
        self.hidden: set[str] = set()  # casefolded names made invisible through `.api`

    def define(self, name: str, sheet: str, address: str) -> None:
        """Test helper (in xlwings: names.add(name, "=Sheet!$B$3"))."""
        self._names[name.casefold()] = (sheet, address)

    def add(self, name: str, refers_to: str) -> Name:
        """xlwings' names.add, for a constant such as '={"B2:E11"}' (a name of that name is replaced)."""
        self.book.calls.append(Call("names.add", "", name, refers_to))
        self._formulas[name.casefold()] = refers_to
        return self[name]

    def __contains__(self, name: str) -> bool:
        return name.casefold() in self._names or name.casefold() in self._formulas

    def __getitem__(self, name: str) -> Name:
        if name.casefold() in self._formulas:
            return Name(name, None, self._formulas[name.casefold()], self)
        sheet, address = self._names[name.casefold()]
        rng = self.book.sheets[sheet].range(address)
        return Name(name, rng, f"={sheet}!{address}", self)


@dataclass
class Name:
    name: str
    refers_to_range: Range | None
    refers_to: str = ""
    names: Names | None = None

    @property
    def api(self) -> ComName | MacName:
        assert self.names is not None
        native = MacName if self.names.book.native == "mac" else ComName
        return native(self.names.hidden, self.name)
