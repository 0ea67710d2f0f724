"""What the member put on a table sheet the writer regenerates, read from the old parts and carried
into the new ones: their own table columns (typed values keyed by Workout ID, or a calculated
column's formula), the columns typed just beside the table (adopted into it), and cells typed
outside the table. Which columns are the member's, their order and which notes a removed workout
takes with it are decided by `pelotonxl.member.columns`, the rules the live writer applies too.

A member's column keeps its header cell, its cells (style, type, shared string, formula), its width
and its place beside the column it followed. Cells are carried as elements of the old part and
written back in the default namespace.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string, range_boundaries

from pelotonxl.member import columns as rules
from pelotonxl.xlsx import package as xp

_M = f"{{{xp.MAIN_NS}}}"


@dataclass
class MemberColumn:
    name: str
    after: str | None  # the old column it followed; None: it was first
    header: ET.Element | None  # its header cell as the member left it
    cells: dict[str, ET.Element]  # Workout ID -> cell (typed values; formulas typed per cell)
    formula: str | None = None  # calculatedColumnFormula: the column is a calculated column
    formula_attrs: dict[str, str] = field(default_factory=dict)
    data_dxf: str | None = None
    width: float | None = None
    body_style: str | None = None  # the style of its first body cell, for rows it had no cell in


@dataclass
class KeptContent:
    """Everything of the member's on one table sheet."""

    columns: list[MemberColumn] = field(default_factory=list)
    outside: dict[tuple[int, int], ET.Element] = field(default_factory=dict)  # (row, col) -> cell
    shared_formulas: dict[str, tuple[str, str]] = field(default_factory=dict)  # si -> (formula, ref)
    old_refs: dict[int, str] = field(default_factory=dict)  # id(cell) -> old ref
    # The old table, read when a comment needs its place: its box (left, top, right, bottom, the adopted
    # columns included), each column's name and each body row's Workout ID ("row N" without one).
    box: tuple[int, int, int, int] | None = None
    column_names: dict[int, str] = field(default_factory=dict)
    row_ids: dict[int, str] = field(default_factory=dict)
    shared_strings: Callable[[], list[str]] | None = None

    def order(self, ours: list[str]) -> list[str]:
        """Our columns with each member column after the column it followed before."""
        return rules.column_order(ours, {c.name: c.after for c in self.columns})

    def sort_values(self, name: str, ids: list[str]) -> list[object] | None:
        """The typed values of the member's column `name` by workout, for a sort; None for a calculated
        column (its values exist only after the workbook recalculates) or no such column."""
        column = next((c for c in self.columns if c.name.casefold() == name.casefold()), None)
        if column is None or column.formula:
            return None
        return [_value(column.cells.get(wid), self.shared_strings or list) for wid in ids]

    def orphans(self, ids: set[str], commented: Iterable[str] = ()) -> list[str]:
        """Workout IDs with a member's note (a typed value, or a comment: `commented`) whose workout the
        refresh no longer writes, first seen first."""
        notes = [(wid, _is_note(cell)) for c in self.columns for wid, cell in c.cells.items()]
        return rules.orphans(ids, notes + [(wid, True) for wid in commented])


def read_kept(
    sheet_xml: str | None,
    table_xml: bytes | None,
    table_name: str,
    new_columns: list[str],
    shared_strings: Callable[[], list[str]],
    written_before: set[str] | None = None,
    rows_wanted: bool = False,
    sheet_name: str = "",
) -> KeptContent:
    """The member's columns and outside cells of the old sheet (`shared_strings()` gives the text list).
    `written_before`: the (case-folded) columns the last refresh wrote, when the workbook records them;
    `rows_wanted`: the sheet has comments or hidden rows, so the old table's rows and columns (`box`,
    `column_names`, `row_ids`) are wanted whatever else."""
    kept = KeptContent(shared_strings=shared_strings)
    if not sheet_xml or (
        table_xml is not None
        and not rows_wanted
        and not _anything_of_the_members(sheet_xml, table_xml, new_columns, written_before)
    ):
        return kept  # the common case, decided without parsing a sheet of thousands of rows
    root = ET.fromstring(sheet_xml)
    cells: dict[tuple[int, int], ET.Element] = {}
    for row in root.iter(_M + "row"):
        r = int(row.get("r", "0"))
        for position, c in enumerate(row.iter(_M + "c"), start=1):
            ref = c.get("r")
            col = column_index_from_string(coordinate_from_string(ref)[0]) if ref else position
            cells[(r, col)] = c
            kept.old_refs[id(c)] = f"{get_column_letter(col)}{r}"
            f = c.find(_M + "f")
            if f is not None and f.get("t") == "shared" and f.get("ref") and f.text:
                kept.shared_formulas[f.get("si", "")] = (f.text, kept.old_refs[id(c)])
    if table_xml is None:
        kept.outside = {k: c for k, c in cells.items() if _has_value(c)}
        return kept
    table = ET.fromstring(table_xml)
    left, top, right, bottom = _bounds(table.get("ref", "A1:A2"))
    columns = list(table.iter(_M + "tableColumn"))
    names = [tc.get("name", "") for tc in columns]
    members = [rules.is_members(n, new_columns, written_before) for n in names]
    header_row = {c: text for (r, c), el in cells.items() if r == top and (text := _text(el, shared_strings))}
    taken = {n.casefold() for n in (*names, *new_columns)}
    for col, text in rules.adjoining_columns(right, header_row):  # typed beside the table: adopted
        name = rules.unique_header(text, lambda n: n.casefold() in taken)
        taken.add(name.casefold())
        names.append(name)
        members.append(True)
        right = col
    widths = _widths(root)
    id_col = next((left + i for i, n in enumerate(names) if n.casefold() == rules.ID_COLUMN.casefold()), None)
    keys = {
        r: (_text(cells.get((r, id_col)), shared_strings) if id_col else None) or f"row {r}"
        for r in range(top + 1, bottom + 1)
    }
    kept.box = (left, top, right, bottom)
    kept.column_names = {left + i: name for i, name in enumerate(names)}
    kept.row_ids = keys
    after = rules.anchors(names, members, new_columns)
    rules.refuse_shared_ids(
        sheet_name,
        (
            (keys[r], f"{get_column_letter(id_col)}{r}")
            for r in range(top + 1, bottom + 1)
            if id_col
            and any(members[i] and _is_note(cells[(r, left + i)]) for i in range(len(names)) if (r, left + i) in cells)
        ),
    )
    for i, name in enumerate(names):
        if not members[i]:
            continue
        col = left + i
        tc = columns[i] if i < len(columns) else None
        formula = tc.find(_M + "calculatedColumnFormula") if tc is not None else None
        body = [cells[(r, col)] for r in range(top + 1, bottom + 1) if (r, col) in cells]
        header = cells.get((top, col))
        kept.columns.append(
            MemberColumn(
                name=name,
                after=after[name],
                header=header if tc is not None or _text(header, shared_strings) == name else None,
                cells=_by_id(keys, {r: cells[(r, col)] for r in range(top + 1, bottom + 1) if (r, col) in cells}),
                formula=formula.text if formula is not None else None,
                formula_attrs=dict(formula.attrib) if formula is not None else {},
                data_dxf=tc.get("dataDxfId") if tc is not None else None,
                width=widths.get(col),
                body_style=body[0].get("s") if body else None,
            )
        )
    kept.outside = {
        (r, c): el for (r, c), el in cells.items() if not (top <= r <= bottom and left <= c <= right) and _has_value(el)
    }
    return kept


def _anything_of_the_members(
    sheet_xml: str, table_xml: bytes, new_columns: list[str], written_before: set[str] | None
) -> bool:
    """A quick look: does the old table have a column that is not ours, or the sheet a cell outside
    the table (every cell written with its r, as Excel, LibreOffice, openpyxl and we do)?"""
    table = ET.fromstring(table_xml)
    if any(rules.is_members(tc.get("name", ""), new_columns, written_before) for tc in table.iter(_M + "tableColumn")):
        return True
    left, top, right, bottom = _bounds(table.get("ref", "A1:A2"))
    refs = re.findall(r'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]+)(\d+)"', sheet_xml)
    # A cell is outside when its row or its column is: check each distinct row and column once.
    if any(not left <= column_index_from_string(c) <= right for c in {c for c, _ in refs}):
        return True
    if any(not top <= int(r) <= bottom for r in {r for _, r in refs}):
        return True
    return "<c>" in sheet_xml or re.search(r"<(?:\w+:)?c(?:\s+s=\S+)?\s*>", sheet_xml) is not None


def cell_tail(kept: KeptContent, cell: ET.Element | None, new_ref: str, style: str | None = None) -> str | None:
    """The XML after r="..." that puts `cell` (from the old sheet) at new_ref, formulas moved with it."""
    if cell is None:
        return f' s="{style}"/>' if style else None
    attrs = "".join(f' {k}="{xp.escape_attr(v)}"' for k, v in cell.attrib.items() if k in ("s", "t"))
    inner = ""
    f = cell.find(_M + "f")
    if f is not None:
        text, origin = f.text, kept.old_refs.get(id(cell), new_ref)
        if f.get("t") == "shared" and not text:
            text, origin = kept.shared_formulas.get(f.get("si", ""), (None, origin))
        if text:
            array = f' t="array" ref="{new_ref}"' if f.get("t") == "array" else ""
            inner += f"<f{array}>{escape(_moved(text, origin, new_ref))}</f>"
    v = cell.find(_M + "v")
    if v is not None and v.text is not None:
        inner += f"<v>{escape(v.text)}</v>"
    inline = cell.find(_M + "is")
    if inline is not None:
        text = "".join(t.text or "" for t in inline.iter(_M + "t"))
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        inner += f"<is><t{space}>{escape(text)}</t></is>"
    return f"{attrs}>{inner}</c>" if inner else f"{attrs}/>"


def formula_tail(formula: str, style: str | None) -> str:
    s_attr = f' s="{style}"' if style else ""
    return f"{s_attr}><f>{escape(formula)}</f></c>"


def table_column_xml(column: MemberColumn, column_id: int) -> str:
    dxf = f' dataDxfId="{column.data_dxf}"' if column.data_dxf else ""
    inner = ""
    if column.formula:
        attrs = "".join(f' {k}="{xp.escape_attr(v)}"' for k, v in column.formula_attrs.items() if k == "array")
        inner = f"<calculatedColumnFormula{attrs}>{escape(column.formula)}</calculatedColumnFormula>"
    name = xp.escape_attr(column.name)
    return (
        f'<tableColumn id="{column_id}" name="{name}"{dxf}>{inner}</tableColumn>'
        if inner
        else f'<tableColumn id="{column_id}" name="{name}"{dxf}/>'
    )


def outside_conflicts(kept: KeptContent, last_row: int, last_col: int) -> list[str]:
    """Addresses of the member's outside cells that the new table would cover."""
    return [
        f"{get_column_letter(c)}{r}"
        for (r, c) in sorted(kept.outside, key=lambda k: (k[0], k[1]))
        if r <= last_row and c <= last_col
    ]


def _moved(formula: str, origin: str, target: str) -> str:
    # Structured references ([@Col], Table[[#This Row],...]) mean the same wherever the cell goes.
    if origin == target or "[" in formula:
        return formula
    try:
        return Translator("=" + formula, origin).translate_formula(target)[1:]
    except (TokenizerError, TranslatorError, ValueError, IndexError):  # openpyxl cannot move it: keep it as typed
        return formula


def _bounds(ref: str) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a table's ref (always a range of two corners)."""
    left, top, right, bottom = range_boundaries(ref)
    return left or 1, top or 1, right or left or 1, bottom or top or 1


def _widths(root: ET.Element) -> dict[int, float]:
    widths = {}
    for col in root.iter(_M + "col"):
        if width := col.get("width"):
            for c in range(int(col.get("min", "1")), min(int(col.get("max", "1")), 16384) + 1):
                widths[c] = float(width)
    return widths


def _has_value(cell: ET.Element) -> bool:
    return any(child.tag in (_M + "v", _M + "f", _M + "is") for child in cell)


def _value(cell: ET.Element | None, shared_strings: Callable[[], list[str]]) -> object:
    """A cell's value as a sort compares it: a number, text, a truth value, or None."""
    if cell is None or cell.find(_M + "f") is not None:
        return None
    kind = cell.get("t")
    if kind in ("s", "str", "inlineStr"):
        return _text(cell, shared_strings)
    v = cell.findtext(_M + "v")
    if v is None or kind == "e":
        return None
    if kind == "b":
        return v in ("1", "true")
    try:
        return float(v)
    except ValueError:
        return v


def _by_id(keys: dict[int, str], column: dict[int, ET.Element]) -> dict[str, ET.Element]:
    """A column's cells by Workout ID; of two rows with one ID (refused when both hold notes) the one with
    a value, so an empty cell never takes a note's place."""
    found: dict[str, ET.Element] = {}
    for r, cell in column.items():
        if keys[r] not in found or not _has_value(found[keys[r]]):
            found[keys[r]] = cell
    return found


def _is_note(cell: ET.Element) -> bool:
    """Typed by the member: a value with no formula behind it."""
    return rules.is_note(True if _has_value(cell) else None, cell.find(_M + "f") is not None)


def _text(cell: ET.Element | None, shared_strings: Callable[[], list[str]]) -> str | None:
    if cell is None:
        return None
    if cell.get("t") == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(_M + "t")) or None
    v = cell.findtext(_M + "v")
    if v is None:
        return None
    if cell.get("t") == "s":
        strings = shared_strings()
        return strings[int(v)] if int(v) < len(strings) else None
    return v


# --- which columns the refresh wrote last time: a hidden workbook name per table (member.columns) ----


def recorded_columns(pkg: xp.Package, table: str) -> set[str] | None:
    return rules.recorded(xp.defined_names(pkg).get(rules.record_name(table)))


def recorded_order(pkg: xp.Package, table: str) -> list[str] | None:
    """The columns the last refresh wrote, case-folded, in its own order (not the member's)."""
    return rules.recorded_order(xp.defined_names(pkg).get(rules.record_name(table)))


def record_columns(pkg: xp.Package, table: str, columns: list[str]) -> None:
    """Set (or replace) the hidden name listing the columns this refresh wrote to `table`."""
    xp.set_hidden_name(pkg, rules.record_name(table), rules.record_value(columns))
