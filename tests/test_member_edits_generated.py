"""Member edits, generated (issue 20): whatever a member types on the Workouts sheet — notes in a column of
the table or typed just beside it, formulas, loose cells, a sort (by hand, or one the table records),
frozen panes, a conditional format, comments on any cell, a filter, hidden columns, our columns dragged into
another order — passes through a save by openpyxl (or, sampled, LibreOffice), then a refresh with generated
new and removed workouts. After it, every value the member typed and every comment is beside the same
Workout ID (or in the same cell outside the table), or the refresh refused, the file byte-identical, naming
where; the workouts the filter hid are still hidden (new ones it excludes too), hidden columns still
hidden, our columns in the member's order, and a recorded sort holds over the new rows.

The budget is the profile's (tests/conftest.py); HYPOTHESIS_PROFILE=ci runs at least 500 edit sequences.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.filters import CustomFilter, CustomFilters, FilterColumn, SortCondition, SortState
from openpyxl.worksheet.table import TableColumn
from openpyxl.worksheet.worksheet import Worksheet
from support import libreoffice
from support.workbook_samples import SampleTable, make_workbook, sample_content

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import writer

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
BUDGET = max(hypothesis_settings.default.max_examples, 500) if CI else hypothesis_settings.default.max_examples
OURS = ["Workout ID", "Start", "Output"]
LAST_OURS = len(OURS)  # our columns are the first three, in whatever order the member dragged them


def content(ids: list[str]):
    frame = pd.DataFrame(
        {
            "Workout ID": ids,
            "Start": pd.to_datetime([f"2024-01-{1 + i % 28:02d} 07:00" for i in range(len(ids))]),
            "Output": [float(100 + int(i[1:])) for i in ids],
        }
    )
    return sample_content([SampleTable("Workouts", frame, {}, {})])


_BASE: dict[str, bytes] = {}


def base_workbook(folder: Path) -> Path:
    """The member-like workbook, made once (openpyxl takes a while) and copied for each example."""
    path = folder / "PelotonWorkbook.xlsm"
    if "book" not in _BASE:
        _BASE["book"] = make_workbook(path).read_bytes()
    path.write_bytes(_BASE["book"])
    return path


# --- the member's edits ------------------------------------------------------------------------------
words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=10).filter(lambda s: s.strip() == s and s)
typed = st.one_of(words, st.integers(min_value=-999, max_value=99999))


@st.composite
def column_edit(draw, kind: str) -> tuple:
    """A column of notes ('inside': in the table, as Excel grows it; 'beside': typed next to it)."""
    notes = draw(st.dictionaries(st.integers(0, 11), typed, max_size=6))  # by row index in the body
    return (kind, notes)


edit = st.one_of(
    column_edit("inside"),
    column_edit("beside"),
    st.tuples(st.just("formulas")),  # a column of formulas beside the table: computed, never a note
    st.tuples(st.just("loose"), st.integers(2, 30), st.integers(2, 4), typed),  # (row, columns right of all)
    st.tuples(st.just("below"), st.integers(1, 12), st.integers(1, 3), typed),  # rows under the table
    st.tuples(st.just("sort"), st.randoms(use_true_random=False)),
    st.tuples(st.just("freeze")),
    st.tuples(st.just("conditional")),
    st.tuples(st.just("comment"), st.integers(-1, 11), st.integers(1, 7)),  # (row index, -1: header; column)
    st.tuples(st.just("filter"), st.integers(95, 112)),  # Output above a threshold: the others hidden
    st.tuples(st.just("sorted"), st.sampled_from(OURS), st.booleans()),  # sorted, the table records it
    st.tuples(st.just("hide"), st.integers(1, LAST_OURS)),
    st.tuples(st.just("reorder"), st.permutations(range(LAST_OURS))),  # our columns dragged around
)


@dataclass
class Expected:
    notes: dict[tuple[str, str], object] = field(default_factory=dict)  # (header, Workout ID) -> value
    loose: dict[tuple[int, int], object] = field(default_factory=dict)  # (row, col) -> value
    comments: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (header, ID; None: header row)
    loose_comments: dict[tuple[int, int], str] = field(default_factory=dict)
    order: list[str] = field(default_factory=lambda: list(OURS))  # our columns as the member left them
    hidden_ids: set[str] = field(default_factory=set)
    hidden_columns: set[str] = field(default_factory=set)
    sort: tuple[str, bool] | None = None  # (column, descending) the table records
    over: float | None = None  # the filter's threshold on Output, when the table records one
    ids: set[str] = field(default_factory=set)  # the workouts in the table


def column_of(ws: Worksheet, name: str) -> int:
    return next(c for c in range(1, LAST_OURS + 1) if ws.cell(1, c).value == name)


def apply_edits(path: Path, edits: list[tuple]) -> Expected:
    """The edits, saved by openpyxl; returns what the member left (as `expectations` reads it)."""
    wb = load_workbook(path, keep_vba=True)
    ws = wb["Workouts"]
    table = ws.tables["Workouts"]
    n_rows = ws.max_row  # header + body (nothing typed below yet)
    columns = [c.name for c in table.tableColumns]
    headers = 0
    for op in edits:
        kind = op[0]
        right = len(columns)
        beside_end = right + sum(1 for c in range(right + 1, right + 10) if ws.cell(1, c).value is not None)
        if kind in ("inside", "beside", "formulas"):
            headers += 1
            col = beside_end + 1
            if kind != "beside" and col != right + 1:
                continue  # a table column must adjoin the table
            name = f"Mine {headers}"
            ws.cell(1, col, name)
            if kind == "formulas":
                for r in range(2, n_rows + 1):
                    ws.cell(r, col, f"=C{r}*2")
            else:
                for index, value in op[1].items():
                    if 2 + index <= n_rows:
                        ws.cell(2 + index, col, value)
            if kind == "inside":
                table.tableColumns.append(TableColumn(id=len(columns) + 1, name=name))
                columns.append(name)
                table.ref = table.autoFilter.ref = f"A1:{get_column_letter(col)}{n_rows}"
        elif kind == "loose":
            ws.cell(op[1], beside_end + op[2] + 8, op[3])
        elif kind == "below":
            ws.cell(n_rows + op[1] + 12, op[2], op[3])  # clear of the table's growth up to 12 new rows
        elif kind == "sort":
            last = max(beside_end, right)
            body = [[ws.cell(r, c).value for c in range(1, last + 1)] for r in range(2, n_rows + 1)]
            op[1].shuffle(body)
            for r, values in enumerate(body, start=2):
                for c, value in enumerate(values, start=1):
                    ws.cell(r, c).value = value  # ws.cell(r, c, None) would leave the old value
        elif kind == "freeze":
            ws.freeze_panes = "B2"
        elif kind == "conditional":
            rule = CellIsRule(operator="greaterThan", formula=["150"], fill=PatternFill("solid", fgColor="FFC7CE"))
            ws.conditional_formatting.add(f"C2:C{n_rows}", rule)
        elif kind == "comment" and 2 + op[1] <= n_rows:
            cell = ws.cell(2 + op[1], op[2])
            cell.comment = Comment(f"on {cell.coordinate}", "Member")
        elif kind == "filter":
            output = column_of(ws, "Output")
            over = CustomFilters(customFilter=[CustomFilter(operator="greaterThan", val=str(op[1]))])
            table.autoFilter.filterColumn = [FilterColumn(colId=output - 1, customFilters=over)]
            for r in range(2, n_rows + 1):
                ws.row_dimensions[r].hidden = not (ws.cell(r, output).value or 0) > op[1]
        elif kind == "sorted":
            col, last = column_of(ws, op[1]), max(beside_end, right)
            body = [[ws.cell(r, c).value for c in range(1, last + 1)] for r in range(2, n_rows + 1)]
            body.sort(key=lambda values: values[col - 1], reverse=op[2])
            for r, values in enumerate(body, start=2):
                for c, value in enumerate(values, start=1):
                    ws.cell(r, c).value = value  # ws.cell(r, c, None) would leave the old value
            letter = get_column_letter(col)
            condition = SortCondition(ref=f"{letter}2:{letter}{n_rows}", descending=op[2] or None)
            table.sortState = SortState(ref=f"A2:{get_column_letter(last)}{n_rows}", sortCondition=[condition])
        elif kind == "hide":
            ws.column_dimensions[get_column_letter(op[1])].hidden = True
        elif kind == "reorder":
            values = [[ws.cell(r, c).value for c in range(1, LAST_OURS + 1)] for r in range(1, n_rows + 1)]
            for r, row in enumerate(values, start=1):
                for c, source in enumerate(op[1], start=1):
                    ws.cell(r, c).value = row[source]
            ws.column_dimensions.clear()  # hidden columns and widths do not follow a drag here: start plain
            names = values[0]
            for tc, source in zip(table.tableColumns, op[1], strict=False):
                tc.name = names[source]
            table.sortState = None  # its columns moved; a member sorts again after a drag
            table.autoFilter.filterColumn = []
    wb.save(path)
    return expectations_of(ws)


def expectations(path: Path) -> Expected:
    return expectations_of(load_workbook(path, keep_vba=True)["Workouts"])


def expectations_of(ws: Worksheet) -> Expected:
    """What the member left on the Workouts sheet as it was saved: every typed value (not a formula),
    keyed by its workout in the table's rows and the columns beside them, else by its cell."""
    table = ws.tables["Workouts"]
    n_rows = int(table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    found = Expected(order=[ws.cell(1, c).value for c in range(1, LAST_OURS + 1)])
    id_col = column_of(ws, "Workout ID")
    headers = {c: ws.cell(1, c).value for c in range(LAST_OURS + 1, ws.max_column + 1)}
    run = LAST_OURS
    while headers.get(run + 1):
        run += 1
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None:
                r, c = cell.row, cell.column
                if r <= n_rows and c <= run:
                    header = ws.cell(1, c).value
                    found.comments[(header, None if r == 1 else ws.cell(r, id_col).value)] = cell.comment.text
                else:
                    found.loose_comments[(r, c)] = cell.comment.text
            value = cell.value
            if value is None or (isinstance(value, str) and value.startswith("=")):
                continue
            r, c = cell.row, cell.column
            if r == 1 and c <= run or (2 <= r <= n_rows and c <= LAST_OURS):
                continue  # headers; our own cells
            if 2 <= r <= n_rows and c <= run:
                found.notes[(headers[c], ws.cell(r, id_col).value)] = value
            else:
                found.loose[(r, c)] = value
    found.ids = {ws.cell(r, id_col).value for r in range(2, n_rows + 1)}
    found.hidden_ids = {ws.cell(r, id_col).value for r in range(2, n_rows + 1) if ws.row_dimensions[r].hidden}
    for criterion in table.autoFilter.filterColumn if table.autoFilter else []:
        if ws.cell(1, criterion.colId + 1).value == "Output" and criterion.customFilters:
            found.over = float(criterion.customFilters.customFilter[0].val)
    hidden = {c for dim in ws.column_dimensions.values() if dim.hidden for c in range(dim.min, dim.max + 1)}
    found.hidden_columns = {ws.cell(1, c).value for c in hidden if c <= LAST_OURS}
    if table.sortState is not None and table.sortState.sortCondition:
        condition = table.sortState.sortCondition[0]
        col = column_index_from_string(condition.ref.split(":")[0].rstrip("0123456789"))
        found.sort = (ws.cell(1, col).value, bool(condition.descending))
    return found


def check(path: Path, before: Expected, ids: list[str], full: bool) -> None:
    ws = load_workbook(path, keep_vba=True)["Workouts"]
    rows = [[cell.value for cell in row] for row in ws[ws.tables["Workouts"].ref]]
    header, body = rows[0], rows[1:]
    assert header[:LAST_OURS] == before.order
    id_col = header.index("Workout ID")
    by_id = {row[id_col]: dict(zip(header, row, strict=True)) for row in body}
    row_of = {row[id_col]: r for r, row in enumerate(body, start=2)}
    for (column, wid), value in before.notes.items():
        if full and wid not in ids:
            assert wid not in by_id
            continue
        assert by_id[wid][column] == value, (column, wid)
    for (r, c), value in before.loose.items():
        assert ws.cell(r, c).value == value, (r, c)
    for (column, wid), text in before.comments.items():
        if wid is not None and full and wid not in ids:
            continue
        cell = ws.cell(1 if wid is None else row_of[wid], header.index(column) + 1)
        assert cell.comment is not None and cell.comment.text == text, (column, wid)
    for (r, c), text in before.loose_comments.items():
        assert ws.cell(r, c).comment is not None and ws.cell(r, c).comment.text == text, (r, c)
    hidden = {wid for wid, r in row_of.items() if ws.row_dimensions[r].hidden}
    arrived = {wid for wid in ids if wid not in before.ids}  # hidden when the filter plainly excludes them
    excluded = {wid for wid in arrived if before.over is not None and by_id[wid]["Output"] <= before.over}
    assert hidden == {wid for wid in before.hidden_ids if wid in row_of} | excluded
    hidden_columns = {c for dim in ws.column_dimensions.values() if dim.hidden for c in range(dim.min, dim.max + 1)}
    assert {header[c - 1] for c in hidden_columns if c <= LAST_OURS} == before.hidden_columns
    if before.sort:
        column, descending = before.sort
        written = set(ids)  # the refresh's workouts, in sheet order (kept ones stay below them)
        keys = [by_id[row[id_col]][column] for row in body if row[id_col] in written]
        assert keys == sorted(keys, reverse=descending), before.sort


@dataclass
class Refresh:
    ids: list[str]
    new: int
    removed: list[str]
    full: bool


@st.composite
def refreshes(draw) -> Refresh:
    n = draw(st.integers(1, 10))
    ids = [f"w{i:02d}" for i in range(n, 0, -1)]
    removed = draw(st.lists(st.sampled_from(ids), unique=True, max_size=max(0, n - 1)))
    return Refresh(ids, draw(st.integers(0, 9)), removed, draw(st.booleans()))


def refresh_after_edits(folder: Path, plan: Refresh, edits: list[tuple], save) -> None:
    path = base_workbook(folder)
    writer.write_tables(path, content(plan.ids))
    left = apply_edits(path, edits)
    saved = save(path)
    before_bytes, before = saved.read_bytes(), left if saved == path else expectations(saved)
    path = saved
    new_ids = [f"n{i:02d}" for i in range(plan.new, 0, -1)] + [i for i in plan.ids if i not in plan.removed]
    refreshed = content(new_ids)
    refreshed.full = plan.full
    try:
        writer.write_tables(path, refreshed)
    except WorkbookError as refused:
        assert path.read_bytes() == before_bytes
        assert "Workouts" in str(refused)
        event("refused: " + str(refused).split(": ", 1)[1][:40])  # --hypothesis-show-statistics
        return
    check(path, before, new_ids, plan.full)
    event("refreshed")
    for kind in sorted({op[0] for op in edits}):
        event(f"refreshed after a {kind} edit")


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="member-edits-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@hypothesis_settings(max_examples=BUDGET, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=refreshes(), edits=st.lists(edit, max_size=7))
@example(  # issue 20, case 1: notes typed beside the table, eight new workouts on top
    plan=Refresh([f"w{i:02d}" for i in range(5, 0, -1)], 8, [], False),
    edits=[("beside", {1: "felt strong", 4: "first ride!"})],
)
@example(  # case 3: a formula column is no note of a removed workout
    plan=Refresh(["w03", "w02", "w01"], 0, ["w02"], True), edits=[("inside", {0: "x"}), ("formulas",)]
)
@example(  # found by the CI profile: a sorted formula column moved up past row 1 broke openpyxl's translator
    plan=Refresh(["w06", "w05", "w04", "w03", "w02", "w01"], 0, [], False),
    edits=[("inside", {}), ("formulas",), ("sort", random.Random(3)), ("freeze",)],
)
@example(  # a sort, then notes beside the sorted table
    plan=Refresh(["w03", "w02", "w01"], 2, ["w03"], False),
    edits=[("sort", random.Random(1)), ("beside", {0: "a", 2: 7}), ("loose", 3, 2, "goal")],
)
@example(  # issue 20, item 7: comments, a filter, a recorded sort, a hidden column, our columns dragged around
    plan=Refresh(["w05", "w04", "w03", "w02", "w01"], 4, ["w03", "w02"], False),
    edits=[
        ("reorder", (2, 0, 1)),
        ("inside", {0: "easy", 2: "hard"}),
        ("comment", 2, 3),
        ("comment", 1, 4),
        ("comment", -1, 2),
        ("filter", 102),
        ("sorted", "Start", True),
        ("hide", 1),
    ],
)
def test_what_the_member_typed_stays_beside_its_workout(scratch: Path, plan: Refresh, edits: list[tuple]) -> None:
    refresh_after_edits(scratch, plan, edits, save=lambda path: path)


@pytest.mark.libreoffice
@hypothesis_settings(max_examples=8 if CI else 2, suppress_health_check=[HealthCheck.too_slow])
@given(plan=refreshes(), edits=st.lists(st.one_of(column_edit("beside"), column_edit("inside"), edit), max_size=4))
def test_after_a_libreoffice_save_too(tmp_path_factory: pytest.TempPathFactory, plan: Refresh, edits: list[tuple]):
    folder = tmp_path_factory.mktemp("lo")

    def through_libreoffice(path: Path) -> Path:
        return libreoffice.convert(path, "xlsm:Calc MS Excel 2007 VBA XML", folder / "saved")

    refresh_after_edits(folder, plan, edits, save=through_libreoffice)
