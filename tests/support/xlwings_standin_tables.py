"""The stand-in's Excel Tables. Part of tests/support/xlwings_standin.py, kept apart for size.

Rules of Excel it models: a table needs a header row and a body row; `resize` keeps the header row where
it is and must overlap the old range (ListObject.Resize); table names are unique in the workbook, any
case; a table's column names stay unique (`unique_header`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support.xlwings_standin_items import NamedItems

if TYPE_CHECKING:
    from support.xlwings_standin import Range, Sheet


def unique_header(sheet: Any, cell: tuple[int, int], value: Any) -> Any:
    """Excel keeps a table's column names unique: a clash gets a number appended."""
    r, c = cell
    for table in sheet.tables:
        rng = table.range
        if r == rng.row and rng.column <= c <= rng.last_column and isinstance(value, str):
            others = {
                str(sheet.cells.get((r, col), "")).casefold()
                for col in range(rng.column, rng.last_column + 1)
                if col != c
            }
            name, n = value, 1
            while name.casefold() in others:
                n += 1
                name = f"{value}{n}"
            return name
    return value


class Tables(NamedItems):
    def __init__(self, sheet: Any) -> None:
        super().__init__()
        self.sheet = sheet

    def add(
        self,
        source: Any = None,
        name: str | None = None,
        source_type: str | None = None,
        link_source: bool | None = None,
        has_headers: bool = True,
        destination: Any = None,
        table_style_name: str = "TableStyleMedium2",
    ) -> Table:
        if source is None or source.sheet is not self.sheet or source.shape[0] < 2:
            raise ValueError("the stand-in makes tables only from a header row plus body rows on this sheet")
        taken = {t.name.casefold() for s in self.sheet.book.sheets for t in s.tables}
        name = name or f"Table{len(taken) + 1}"
        if name.casefold() in taken:
            raise ValueError(f"a table named {name} already exists in the workbook")
        table = Table(self.sheet, name, source, table_style_name)
        self._items.append(table)
        from support.xlwings_standin import Call

        self.sheet.book.calls.append(Call("tables.add", self.sheet.name, source.address, name))
        return table


class Table:
    def __init__(self, sheet: Sheet, name: str, rng: Range, table_style: str) -> None:
        self.parent = sheet
        self.name = name
        self.table_style = table_style
        self._range = rng

    @property
    def range(self) -> Range:
        return self._range

    @property
    def header_row_range(self) -> Range:
        from support.xlwings_standin import Range

        r = self._range
        return Range(r.sheet, r.row, r.column, r.row, r.last_column)

    @property
    def data_body_range(self) -> Range:
        from support.xlwings_standin import Range

        r = self._range
        return Range(r.sheet, r.row + 1, r.column, r.last_row, r.last_column)

    def resize(self, rng: Range) -> None:
        old = self._range
        if rng.sheet is not old.sheet or rng.row != old.row or rng.shape[0] < 2:
            raise ValueError("Excel: the header must stay in the same row and the table needs a body row")
        if rng.column > old.last_column or rng.last_column < old.column:
            raise ValueError("Excel: the resized table must overlap the original")
        self._range = rng
        from support.xlwings_standin import Call

        self.parent.book.calls.append(Call("resize", old.sheet.name, rng.address, self.name))

    @property
    def header(self) -> list[Any]:
        """Test helper: the header row's values."""
        return self.parent.grid(self.header_row_range)[0]
