"""The stand-in's pivot tables and the native objects behind `.api` (Excel's object model, which xlwings
hands over as it is). Part of tests/support/xlwings_standin.py, kept apart for size.

Rules of Excel it models:
- a pivot shows its cache: the rows of its source as they were at its last refresh, nothing newer
  (`shown`); the source is a table's name or a range, as Excel states it ("Workouts!R1C1:R251C18");
- the source is read and set through the native object: `SourceData` on Windows (COM), the `source data`
  property's get()/set() on a Mac (appscript); neither exists on the other's object;
- a refresh Excel refuses (a pivot that would grow over cells, say) raises, as COM raises com_error;
- a name's visibility, likewise: `Visible` (COM) or `visible.set()` (appscript).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from openpyxl.utils.cell import range_boundaries

from support.xlwings_standin_items import NamedItems

if TYPE_CHECKING:
    from support.xlwings_standin import Sheet


class PivotTables(NamedItems):
    def __init__(self, sheet: Sheet) -> None:
        super().__init__()
        self.sheet = sheet

    def made(self, name: str, source: str, *, refuses: bool = False) -> PivotTable:
        """Test helper: a pivot the member made, refreshed once (its cache holds its source now)."""
        pivot = PivotTable(self.sheet, name, source, refuses=refuses)
        pivot.shown = pivot.rows_of_source()
        self._items.append(pivot)
        return pivot


class PivotTable:
    def __init__(self, sheet: Sheet, name: str, source: str, *, refuses: bool = False) -> None:
        self.parent = sheet
        self.name = name
        self.source = source
        self.refuses = refuses
        self.shown = 0  # how many data rows its cache holds

    @property
    def api(self) -> Any:
        return MacPivot(self) if self.parent.book.native == "mac" else ComPivot(self)

    def refresh(self) -> None:
        from support.xlwings_standin import Call

        if self.refuses:
            raise RuntimeError("A PivotTable report cannot overlap another PivotTable report.")
        self.shown = self.rows_of_source()
        self.parent.book.calls.append(Call("pivot.refresh", self.parent.name, self.name, self.source))

    def rows_of_source(self) -> int:
        """The data rows its source covers in the book now (a table's body, or a range less its header)."""
        book, text = self.parent.book, self.source
        if "!" not in text:
            table = next(t for s in book.sheets for t in s.tables if t.name.casefold() == text.split("[")[0].casefold())
            return table.range.shape[0] - 1
        ref = text.rsplit("!", 1)[1]
        r1c1 = re.fullmatch(r"R(\d+)C\d+:R(\d+)C\d+", ref)
        if r1c1:
            return int(r1c1.group(2)) - int(r1c1.group(1))
        _, top, _, bottom = range_boundaries(ref.replace("$", ""))
        assert top is not None and bottom is not None
        return bottom - top

    def set_source(self, text: str) -> None:
        from support.xlwings_standin import Call

        self.parent.book.calls.append(Call("pivot.source=", self.parent.name, self.name, text))
        self.source = text


class ComPivot:
    """Windows: the PivotTable's COM object."""

    def __init__(self, pivot: PivotTable) -> None:
        self._pivot = pivot

    @property
    def SourceData(self) -> str:  # noqa: N802 - COM's name
        return self._pivot.source

    @SourceData.setter
    def SourceData(self, text: str) -> None:  # noqa: N802
        self._pivot.set_source(text)


class AppscriptProperty:
    def __init__(self, read: Any, write: Any) -> None:
        self._read, self._write = read, write

    def get(self) -> Any:
        return self._read()

    def set(self, value: Any) -> None:
        self._write(value)


class MacPivot:
    """A Mac: the pivot table's appscript reference."""

    def __init__(self, pivot: PivotTable) -> None:
        self.source_data = AppscriptProperty(lambda: pivot.source, pivot.set_source)


class ComName:
    """Windows: a workbook Name's COM object."""

    def __init__(self, hidden: set[str], name: str) -> None:
        self._hidden, self._key = hidden, name.casefold()

    @property
    def Visible(self) -> bool:  # noqa: N802 - COM's name
        return self._key not in self._hidden

    @Visible.setter
    def Visible(self, value: bool) -> None:  # noqa: N802
        (self._hidden.discard if value else self._hidden.add)(self._key)


class MacName:
    """A Mac: a name's appscript reference."""

    def __init__(self, hidden: set[str], name: str) -> None:
        key = name.casefold()
        self.visible = AppscriptProperty(
            lambda: key not in hidden, lambda value: hidden.discard(key) if value else hidden.add(key)
        )
