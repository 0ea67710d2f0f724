"""A book laid out like PelotonWorkbook.xlsm in the xlwings stand-in, and checks of what a refresh left in it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pelotonxl.model.tables import (
    METRIC_LEAD_COLUMNS,
    WORKOUT_COLUMNS,
    SheetTable,
    build_tables,
)
from pelotonxl.model.workbook import STATUS_NAMES
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.state import StateFolder
from support import PASSWORD, USERNAME
from support.xlwings_standin import Book

MEMBER_STYLE = "TableStyleLight9"  # a style the member picked: a refresh must keep it
STATUS_ROW = 14


def make_book(
    server, home, *, password: str = PASSWORD, table_sheets=("Workouts", "Metrics"), status_keys=tuple(STATUS_NAMES)
) -> Book:
    """A book laid out like PelotonWorkbook.xlsm: Config, then one sheet per table."""
    # Its own path per test: the refresh lock is per workbook path, and tests run side by side.
    book = Book(fullname=str(Path(home).parent / "PelotonWorkbook.xlsm"))
    config = book.sheets.add("Config")
    config.fill(
        "A1",
        [
            ["Peloton settings"],
            [],
            ["Setting", "Value", "Notes"],
            ["  peloton EMAIL or Username ", USERNAME, "The account to refresh."],  # labels: any case, trimmed
            ["Password (optional)", password],
            ["API URL", server.url],
            ["Sign-in URL", server.url],
            ["State folder", str(home)],
            ["Parallel requests", 4.0],  # Excel hands numbers over as floats
            ["Graph sampling (seconds)", 300.0],
            ["Not a setting", "ignored"],
        ],
    )
    for offset, key in enumerate(STATUS_NAMES):
        defined_name, label = STATUS_NAMES[key]
        config.fill(f"A{STATUS_ROW + offset}", [[label]])
        if key in status_keys:
            book.names.define(defined_name, "Config", f"B{STATUS_ROW + offset}")
    headers = {"Workouts": list(WORKOUT_COLUMNS), "Metrics": list(METRIC_LEAD_COLUMNS)}
    for name in table_sheets:
        add_table(book, name, [headers[name]] + [[None] * len(headers[name])])
    book.app.status_bar = "Ready"
    book.app.status_history.clear()
    book.calls.clear()
    return book


def add_table(book: Book, name: str, rows: list[list]) -> None:
    sheet = book.sheets.add(name, after=book.sheets[-1])
    sheet.fill("A1", rows)
    sheet.tables.add(source=sheet.range((1, 1), (len(rows), len(rows[0]))), name=name, table_style_name=MEMBER_STYLE)


def stored_tables(home) -> list[SheetTable]:
    """The Workouts and Metrics tables as the last refresh wrote them: Metrics with the load figures it stored."""
    from pelotonxl.model.workout_load import with_load_columns

    with WorkoutStore.for_account(home, StateFolder(home).last_account()) as store:
        workouts, metrics = build_tables(store.records())
        return [workouts, with_load_columns(metrics, store.loads())]


def expected_cell(value):
    """What a cell should hold for a DataFrame value, written out independently of excel_live."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.total_seconds() / 86400
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_sheet_holds(book: Book, table: SheetTable) -> None:
    sheet = book.sheets[table.name]
    xl_table = sheet.tables[table.name]
    rows, cols = len(table.frame) + 1, len(table.frame.columns)
    assert xl_table.range.shape == (rows, cols)
    assert sheet.used_range == xl_table.range  # nothing left around the table
    grid = sheet.grid(xl_table.range)
    assert grid[0] == list(table.frame.columns)
    for r, values in enumerate(table.frame.astype(object).itertuples(index=False), start=1):
        for c, value in enumerate(values):
            want, got = expected_cell(value), grid[r][c]
            if isinstance(want, float):
                assert got == pytest.approx(want), (table.name, r, table.frame.columns[c])
            else:  # text is the text itself: Excel's apostrophe prefix is no part of the value
                assert got == want, (table.name, r, table.frame.columns[c])
