"""The member's own table columns and the cells beside a table, for the live writer: read once from
the open workbook, then written back with the refresh's rows, each value on its workout's row.

A column of the old table is the member's when the refresh does not write it and could not have
(`xlsx.member_columns.is_refresh_column`). A cell holding a formula is written back as that formula
(Excel's calculated columns use row-relative structured references: `=[@Output]*2` stays right on
any row); any other cell as its value, text kept as text ("50%" typed as text stays text, not 0.5).
Number formats and widths stay with the sheet's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from pelotonxl.errors import WorkbookError
from pelotonxl.excel.cell_values import excel_value, keep_text
from pelotonxl.xlsx.member_columns import ID_COLUMN, is_refresh_column

if TYPE_CHECKING:
    import xlwings as xw


@dataclass
class LiveMemberColumns:
    names: list[str] = field(default_factory=list)
    after: dict[str, str | None] = field(default_factory=dict)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)  # Workout ID -> column -> value/formula
    calculated: dict[str, str] = field(default_factory=dict)  # column -> the one formula of every row

    def order(self, ours: list[str]) -> list[str]:
        final = list(ours)
        folded = [c.casefold() for c in final]
        for name in self.names:
            anchor = self.after[name]
            anchor = anchor.casefold() if anchor else None
            at = 0 if anchor is None else (folded.index(anchor) + 1 if anchor in folded else len(final))
            final.insert(at, name)
            folded.insert(at, name.casefold())
        return final

    def rows(self, header: list[str], body: list[list[Any]], full: bool) -> tuple[list[list[Any]], int]:
        """Header and body with the member's columns filled in by Workout ID; workouts no longer
        written keep their row at the bottom (dropped with `full`). Returns the rows and how many
        workouts' values were dropped."""
        final = self.order(header)
        ours = {name: i for i, name in enumerate(header)}
        id_at = ours.get(ID_COLUMN)
        written = {_text(row[id_at]) for row in body} if id_at is not None else set()
        orphans = [
            wid
            for wid, values in self.by_id.items()
            if wid not in written and any(v not in (None, "") for v in values.values())
        ]
        out: list[list[Any]] = [list(final)]
        for row in body:
            values = self.by_id.get(_text(row[id_at]), {}) if id_at is not None else {}
            out.append([row[ours[n]] if n in ours else values.get(n, self.calculated.get(n)) for n in final])
        if not full:
            for wid in orphans:
                out.append([keep_text(wid) if n == ID_COLUMN else self.by_id[wid].get(n) for n in final])
        return out, (len(orphans) if full else 0)


def read_member_columns(
    sheet: xw.Sheet, xl_table: xw.main.Table | None, table_name: str, ours: list[str]
) -> LiveMemberColumns:
    kept = LiveMemberColumns()
    if xl_table is None:
        return kept
    old = xl_table.range
    values = old.options(ndim=2).value
    header = [str(v) if v is not None else "" for v in values[0]]
    folded = {c.casefold() for c in ours}
    member = [
        i
        for i, name in enumerate(header)
        if name and name.casefold() not in folded and not is_refresh_column(table_name, name)
    ]
    if not member:
        return kept
    formulas = old.options(ndim=2).formula
    id_at = next((i for i, n in enumerate(header) if n.casefold() == ID_COLUMN.casefold()), None)
    for i in member:
        kept.names.append(header[i])
        # Anchored to the nearest column that stays (ours this time, or the member's): not to one of
        # ours the refresh no longer writes, which would send the member's column to the far end.
        stays = [j for j in range(i) if j in member or header[j].casefold() in folded]
        kept.after[header[i]] = header[stays[-1]] if stays else None
    for r, row in enumerate(values[1:], start=1):
        wid = row[id_at] if id_at is not None else None
        if wid in (None, ""):
            continue
        kept.by_id[str(wid)] = {
            header[i]: (formulas[r][i] if _is_formula(formulas[r][i], row[i]) else excel_value(row[i])) for i in member
        }
    for i in member:  # a calculated column: new rows get its formula, as Excel fills them
        column = {formulas[r][i] for r in range(1, len(formulas))}
        first = next(iter(column)) if len(column) == 1 else None
        if first is not None and all(_is_formula(first, values[r][i]) for r in range(1, len(values))):
            kept.calculated[header[i]] = first
    return kept


def refuse_covered_cells(sheet: xw.Sheet, old: tuple[int, int, int, int], new: tuple[int, int, int, int]) -> None:
    """Raise WorkbookError naming the member's cells the grown table would cover (before any write).
    old/new: (top, left, bottom, right) of the table."""
    top, left, old_bottom, old_right = old
    _, _, bottom, right = new
    found = []
    for first_row, first_col, last_row, last_col in (
        (old_bottom + 1, left, bottom, right),
        (top, old_right + 1, min(old_bottom, bottom), right),
    ):
        if last_row < first_row or last_col < first_col:
            continue
        grid = sheet.range((first_row, first_col), (last_row, last_col)).options(ndim=2).value
        found += [
            f"{get_column_letter(first_col + c)}{first_row + r}"
            for r, row in enumerate(grid)
            for c, v in enumerate(row)
            if v not in (None, "")
        ]
    if found:
        raise WorkbookError(
            f"{sheet.name}!{', '.join(found[:8])}{' …' if len(found) > 8 else ''}: the refreshed "
            "table now reaches these cells; move them to your own sheet or into the table, "
            "then refresh again."
        )


def _text(value: Any) -> str:
    """A Workout ID as the cell holds it: the writer's text prefix (an apostrophe) is no part of it."""
    return str(value).removeprefix("'")


def _is_formula(formula: Any, value: Any) -> bool:
    """A formula, not text that starts with "=" (for a text cell Excel gives the text as its formula too)."""
    return isinstance(formula, str) and formula.startswith("=") and formula != value
