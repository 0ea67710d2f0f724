"""How the member arranged a table the writer regenerates, read from the old table and sheet parts and
carried into the new ones: the order they dragged the columns into, the filter (each criterion on the
same column, the workouts it hid still hidden), the sort (re-applied to the new rows), hidden columns
and hidden rows.

Filter criteria and sort conditions are copied as the member's program wrote them, only their column
numbers and ranges renewed. The workouts a filter hid stay hidden by Workout ID; a new one is hidden
when a criterion plainly excludes it (`excludes`), else it shows until the member reapplies the filter.
A sort is re-applied when it sorts by values (ours, or a column of typed notes); one by colour, icon or
a custom list, or by a calculated column (its values exist only once the workbook recalculates), is
cleared rather than shown over rows it no longer describes.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pelotonxl.xlsx.cell_edit import column_index_from_string, coordinate_from_string, get_column_letter
from pelotonxl.xlsx.package import attrs_of, main_prefix, start_tag

_FILTER_COLUMN = re.compile(r"<filterColumn\b[^>]*?(?:/>|>.*?</filterColumn>)", re.S)
_SORT_STATE = re.compile(r"<sortState\b[^>]*?(?:/>|>.*?</sortState>)", re.S)


@dataclass
class SortKey:
    column: str
    descending: bool


@dataclass
class TableView:
    columns: list[str] = field(default_factory=list)  # the old table's columns, as they stand
    order: list[str] = field(default_factory=list)  # the same when the member dragged ours around, else []
    filters: list[tuple[str, str]] = field(default_factory=list)  # (column, its <filterColumn> as written)
    sort: list[SortKey] | None = None  # None: no sort, or one that cannot be re-applied
    sort_in_filter: bool = False  # the sortState was inside the autoFilter (a worksheet's habit)
    sort_attrs: str = ""  # the sortState's own attributes (caseSensitive…), its ref renewed
    hidden_columns: set[str] = field(default_factory=set)  # case-folded names of hidden table columns
    outside_cols: list[tuple[int, int, str]] = field(default_factory=list)  # (min, max, attrs) right of it
    hidden_rows: set[int] = field(default_factory=set)  # old row numbers
    filter_mode: bool = False

    @property
    def anything(self) -> bool:
        return bool(self.filters or self.sort or self.hidden_columns or self.hidden_rows or self.outside_cols)


def read(sheet_xml: str | None, table_xml: bytes | None, recorded: Sequence[str] | None = None) -> TableView:
    """The member's arrangement of the old table (nothing when either part is missing or prefixed).
    `recorded`: the columns the last refresh wrote, in its own order: when the old table has them in that
    order, the member dragged none, and the order is the refresh's (a new release may order them anew)."""
    if not sheet_xml or table_xml is None:
        return TableView()
    table = table_xml.decode("utf-8")
    if main_prefix(table) or main_prefix(sheet_xml):
        return TableView()
    view = TableView(columns=[html.unescape(n) for n in re.findall(r'<tableColumn\b[^>]*?\sname="([^"]*)"', table)])
    ordered = view.columns
    if recorded is not None:
        written = [c.casefold() for c in view.columns if c.casefold() in set(recorded)]
        undragged = written == [c for c in recorded if c in set(written)]
        ordered = [] if undragged else view.columns
    view.order = ordered
    root = re.search(r"<table\b[^>]*>", table)
    ref = attrs_of(root[0]).get("ref", "A1:A1") if root else "A1:A1"
    left = column_index_from_string(coordinate_from_string(ref.split(":")[0])[0])
    right = left + len(view.columns) - 1
    for element in _FILTER_COLUMN.findall(table):
        col_id = _int(attrs_of(start_tag(element)).get("colId"), -1)  # unreadable: a criterion on no column
        if 0 <= col_id < len(view.columns):
            view.filters.append((view.columns[col_id], element))
    sort = _SORT_STATE.search(table)
    if sort:
        filter_close = table.find("</autoFilter>")
        view.sort_in_filter = 0 <= sort.start() < filter_close
        view.sort, view.sort_attrs = _sort_keys(sort[0], view.columns, left)
    for col in re.findall(r"<col\b[^>]*>", sheet_xml):
        attrs = attrs_of(col)
        low, high = _int(attrs.get("min"), 1), _int(attrs.get("max"), 1)
        if attrs.get("hidden") in ("1", "true"):
            view.hidden_columns |= {
                view.columns[c - left].casefold() for c in range(max(low, left), min(high, right) + 1)
            }
        if high > right:
            kept = re.sub(r'\s(?:min|max)="[^"]*"', "", col[len("<col") :].rstrip("/>").rstrip())
            view.outside_cols.append((max(low, right + 1), min(high, 16384), kept))
    view.hidden_rows = {int(r) for r in re.findall(r'<row\b(?=[^>]*\shidden="(?:1|true)")[^>]*?\sr="(\d+)"', sheet_xml)}
    pr = re.search(r"<sheetPr\b[^>]*>", sheet_xml)
    view.filter_mode = bool(pr and re.search(r'\sfilterMode="(?:1|true)"', pr[0]))
    return view


def _sort_keys(element: str, columns: list[str], left: int) -> tuple[list[SortKey] | None, str]:
    attrs = attrs_of(start_tag(element))
    own = "".join(f' {k}="{v}"' for k, v in attrs.items() if k not in ("ref", "columnSort"))
    if attrs.get("columnSort") in ("1", "true"):
        return None, own
    keys = []
    for condition in re.findall(r"<sortCondition\b[^>]*>", element):
        c = attrs_of(condition)
        if c.get("sortBy", "value") != "value" or "customList" in c:
            return None, own
        try:
            index = column_index_from_string(coordinate_from_string(c.get("ref", "A1").split(":")[0])[0]) - left
        except ValueError:  # "#REF!", a row 0: a sort that describes no column is cleared
            return None, own
        if not 0 <= index < len(columns):
            return None, own
        keys.append(SortKey(columns[index], c.get("descending") in ("1", "true")))
    return keys or None, own


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def our_order(ours: Sequence[str], old: Sequence[str]) -> list[str]:
    """Our columns in the member's order: those the old table had in their order there, each new one
    right after the column it follows in ours (first when it follows none)."""
    where = {name.casefold(): i for i, name in enumerate(old)}
    final = sorted((c for c in ours if c.casefold() in where), key=lambda c: where[c.casefold()])
    for i, name in enumerate(ours):
        if name.casefold() not in where:
            final.insert(final.index(ours[i - 1]) + 1 if i else 0, name)
    return final


def sorted_positions(keys: Sequence[tuple[Sequence[object], bool]]) -> list[int]:
    """Row positions in the order a spreadsheet's sort puts them: by each (values, descending) key in
    turn, numbers before text (ignoring case) before FALSE and TRUE, blanks last either way; ties keep
    their order."""
    order = list(range(len(keys[0][0]))) if keys else []
    for values, descending in reversed(keys):
        ranked = [(_rank(values[i]), i) for i in order]
        filled = sorted((x for x in ranked if x[0] is not None), key=lambda x: x[0], reverse=descending)  # type: ignore[arg-type,return-value]
        order = [i for _, i in filled] + [i for rank, i in ranked if rank is None]
    return order


def _rank(value: object) -> tuple[int, object] | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value.casefold())
    try:  # timestamps and durations: numbers in a sheet
        if value != value:  # NaT
            return None
        return (0, float(getattr(value, "value", value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, str(value).casefold())


def excludes(element: str, value: object) -> bool:
    """Does a <filterColumn>'s criterion plainly exclude `value`? Judged for numbers compared with a
    number, text against text (Excel's * and ? wildcards, ignoring case) and lists of texts; anything
    else (dates, colours, icons, the top ten, dynamic filters, blanks) is not judged: False."""
    custom = re.search(r"<customFilters\b[^>]*>", element)
    if custom:
        both = attrs_of(custom[0]).get("and") in ("1", "true")
        passes = [_passes(value, attrs_of(tag)) for tag in re.findall(r"<customFilter\b[^>]*>", element)]
        if not passes or None in passes:
            return False
        return not (all(passes) if both else any(passes))
    listed = re.search(r"<filters\b[^>]*>", element)
    if listed and "<dateGroupItem" not in element and isinstance(value, str) and value:
        allowed = {html.unescape(v).casefold() for v in re.findall(r'<filter\b[^>]*?\sval="([^"]*)"', element)}
        return value.casefold() not in allowed
    return False


def _passes(value: object, condition: dict[str, str]) -> bool | None:
    operator, wanted = condition.get("operator", "equal"), html.unescape(condition.get("val", ""))
    if isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value):
        try:
            number = float(wanted)
        except ValueError:
            return None
        return {
            "equal": value == number,
            "notEqual": value != number,
            "greaterThan": value > number,
            "greaterThanOrEqual": value >= number,
            "lessThan": value < number,
            "lessThanOrEqual": value <= number,
        }.get(operator)
    if isinstance(value, str) and value and operator in ("equal", "notEqual"):
        pattern = "".join(
            ".*" if part == "*" else "." if part == "?" else re.escape(part[-1])
            for part in re.findall(r"~.|\*|\?|.", wanted, re.S)
        )
        matched = re.fullmatch(pattern, value, re.I | re.S) is not None
        return matched if operator == "equal" else not matched
    return None


def filter_element(view: TableView, final: list[str], ref: str, sort_state: str) -> str:
    """The new table's <autoFilter>: the member's criteria on their columns' new places (a criterion on a
    column no longer written goes)."""
    where = {name.casefold(): i for i, name in enumerate(final)}
    kept = [
        re.sub(r'(\scolId=")\d+(")', rf"\g<1>{where[name.casefold()]}\2", element, count=1)
        for name, element in view.filters
        if name.casefold() in where
    ]
    inner = "".join(kept) + (sort_state if view.sort_in_filter else "")
    return f'<autoFilter ref="{ref}">{inner}</autoFilter>' if inner else f'<autoFilter ref="{ref}"/>'


def sort_state(view: TableView, final: list[str], last_row: int, applied: bool) -> str:
    """The new <sortState> over the table's body, when the member's sort was re-applied."""
    if not applied or not view.sort:
        return ""
    letters = {name.casefold(): get_column_letter(i) for i, name in enumerate(final, start=1)}
    conditions = ""
    for key in view.sort:
        letter = letters[key.column.casefold()]
        descending = ' descending="1"' if key.descending else ""
        conditions += f'<sortCondition{descending} ref="{letter}2:{letter}{last_row}"/>'

    return f'<sortState{view.sort_attrs} ref="A2:{get_column_letter(len(final))}{last_row}">{conditions}</sortState>'


def cols_beyond(view: TableView, last_col: int) -> str:
    """The member's column settings (width, hidden) right of the new table, where they were."""
    return "".join(
        f'<col min="{max(low, last_col + 1)}" max="{high}"{attrs}/>'
        for low, high, attrs in view.outside_cols
        if high > last_col
    )


def sort_values(
    view: TableView, ours: Callable[[str], Sequence[object] | None], members: Callable[[str], Sequence[object] | None]
) -> list[tuple[Sequence[object], bool]] | None:
    """Each sort key's values by frame row (`ours(name)`, else `members(name)`); None when a key's column
    has no values to sort by (gone, or calculated)."""
    if not view.sort:
        return None
    keys = []
    for key in view.sort:
        values = ours(key.column)
        if values is None:
            values = members(key.column)
        if values is None:
            return None
        keys.append((values, key.descending))
    return keys
