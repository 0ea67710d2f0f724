"""The member's own table columns and the cells beside a table, for the live writer: read once from
the open workbook, then written back with the refresh's rows, each value on its workout's row.

Which columns are the member's (a column typed just beside the table, under a header in its header
row, is adopted into it), their order, which notes a removed workout takes with it and the refusal of
cells the grown table would cover: `pelotonxl.member.columns`, the rules the headless writer applies
too. A cell holding a formula is written back as that formula (Excel's calculated columns use
row-relative structured references: `=[@Output]*2` stays right on any row); any other cell as its
value, text kept as text ("50%" typed as text stays text, not 0.5). Number formats and widths stay
with the sheet's columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from pelotonxl.excel.cell_values import excel_value, keep_text
from pelotonxl.member import columns as rules

if TYPE_CHECKING:
    import xlwings as xw


@dataclass
class LiveMemberColumns:
    names: list[str] = field(default_factory=list)
    after: dict[str, str | None] = field(default_factory=dict)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)  # Workout ID -> column -> value/formula
    notes: dict[str, bool] = field(default_factory=dict)  # Workout ID -> has a typed value (not a formula)
    calculated: dict[str, str] = field(default_factory=dict)  # column -> the one formula of every row
    adopted: int = 0  # columns typed just beside the table, taken into it

    def order(self, ours: list[str]) -> list[str]:
        return rules.column_order(ours, {name: self.after[name] for name in self.names})

    def rows(
        self, header: list[str], body: list[list[Any]], full: bool, commented: Iterable[str] = ()
    ) -> tuple[list[list[Any]], int]:
        """Header and body with the member's columns filled in by Workout ID; workouts no longer
        written keep their row at the bottom (dropped with `full`) when they hold a typed note or a note
        on a cell (`commented`: their Workout IDs). Returns the rows and how many workouts' notes were
        dropped."""
        final = self.order(header)
        ours = {name: i for i, name in enumerate(header)}
        id_at = ours.get(rules.ID_COLUMN)
        written = {_text(row[id_at]) for row in body} if id_at is not None else set()
        orphans = rules.orphans(written, [*self.notes.items(), *((wid, True) for wid in commented)])
        out: list[list[Any]] = [list(final)]
        for row in body:
            values = self.by_id.get(_text(row[id_at]), {}) if id_at is not None else {}
            out.append([row[ours[n]] if n in ours else values.get(n, self.calculated.get(n)) for n in final])
        if not full:
            for wid in orphans:
                out.append([keep_text(wid) if n == rules.ID_COLUMN else self.by_id.get(wid, {}).get(n) for n in final])
        return out, (len(orphans) if full else 0)


def read_member_columns(
    sheet: xw.Sheet,
    xl_table: xw.main.Table | None,
    table_name: str,
    ours: list[str],
    written_before: set[str] | None = None,
) -> LiveMemberColumns:
    """The member's columns of `xl_table` and those typed just beside it. `written_before`: the
    (case-folded) columns the last refresh recorded, None without a record."""
    kept = LiveMemberColumns()
    if xl_table is None:
        return kept
    old = xl_table.range
    top, left = old.row, old.column
    bottom, right = top + old.shape[0] - 1, left + old.shape[1] - 1
    values = old.options(ndim=2).value
    header = [str(v) if v is not None else "" for v in values[0]]
    members = [rules.is_members(name, ours, written_before) for name in header]
    adopted = rules.adjoining_columns(right, _header_beside(sheet, top, right))
    taken = {n.casefold() for n in (*header, *ours)}
    for _, text in adopted:
        name = rules.unique_header(text, lambda n: n.casefold() in taken)
        taken.add(name.casefold())
        header.append(name)
        members.append(True)
    if not any(members):
        return kept
    kept.adopted = len(adopted)
    whole = sheet.range((top, left), (bottom, right + len(adopted))) if adopted else old
    values = whole.options(ndim=2).value
    formulas = whole.options(ndim=2).formula
    member = [i for i, m in enumerate(members) if m]
    id_at = next((i for i, n in enumerate(header) if n.casefold() == rules.ID_COLUMN.casefold()), None)
    kept.after = rules.anchors(header, members, ours)
    kept.names = [header[i] for i in member]
    noted = [
        (_text(row[id_at]), f"{get_column_letter(left + id_at)}{top + r}")
        for r, row in enumerate(values[1:], start=1)
        if id_at is not None
        and row[id_at] not in (None, "")
        and any(rules.is_note(row[i], _is_formula(formulas[r][i], row[i])) for i in member)
    ]
    rules.refuse_shared_ids(sheet.name, noted)
    for r, row in enumerate(values[1:], start=1):
        wid = row[id_at] if id_at is not None else None
        if wid in (None, ""):
            if not any(rules.is_note(row[i], _is_formula(formulas[r][i], row[i])) for i in member):
                continue
            wid = f"row {top + r}"  # a row the member added, notes and no ID: kept at the bottom, as headless
        key = _text(wid)
        if kept.notes.get(key):  # a second row with this ID (refused above if it has notes too)
            continue
        kept.by_id[key] = {
            header[i]: (formulas[r][i] if _is_formula(formulas[r][i], row[i]) else excel_value(row[i])) for i in member
        }
        kept.notes[key] = any(rules.is_note(row[i], _is_formula(formulas[r][i], row[i])) for i in member)
    for i in member:  # a calculated column: new rows get its formula, as Excel fills them
        column = {formulas[r][i] for r in range(1, len(formulas))}
        first = next(iter(column)) if len(column) == 1 else None
        if first is not None and all(_is_formula(first, values[r][i]) for r in range(1, len(values))):
            kept.calculated[header[i]] = first
    return kept


def _header_beside(sheet: xw.Sheet, top: int, right: int) -> dict[int, str]:
    """The texts of the table's header row right of the table, as far as the sheet's used range goes."""
    used = sheet.used_range
    last = used.column + used.shape[1] - 1
    if last <= right:
        return {}
    row = sheet.range((top, right + 1), (top, last)).options(ndim=2).value[0]
    return {right + 1 + i: str(v) for i, v in enumerate(row) if v not in (None, "")}


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
            (first_row + r, first_col + c)
            for r, row in enumerate(grid)
            for c, v in enumerate(row)
            if v not in (None, "")
        ]
    if found:
        raise rules.covered_error(sheet.name, [f"{get_column_letter(c)}{r}" for r, c in sorted(found)])


def _text(value: Any) -> str:
    """A Workout ID as the cell holds it: the writer's text prefix (an apostrophe) is no part of it."""
    return str(value).removeprefix("'")


def _is_formula(formula: Any, value: Any) -> bool:
    """A formula, not text that starts with "=" (for a text cell Excel gives the text as its formula too)."""
    return isinstance(formula, str) and formula.startswith("=") and formula != value
