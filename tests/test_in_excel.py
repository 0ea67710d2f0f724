"""In real Excel (Windows or macOS): the live refresh on the real workbook through real xlwings.

Skipped where there is no Excel (every Linux machine, CI included): run it by hand with
`python -m pytest -m excel` on a machine with Excel, next to docs/manual-test.md, which covers what a
test cannot (the ribbon click, RunPython, the worksheet functions).
"""

from __future__ import annotations

import shutil

import pytest
from support import PASSWORD, REPO, USERNAME

from pelotonxl import ribbon
from pelotonxl.model.tables import build_tables
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.state import StateFolder

pytestmark = pytest.mark.excel


def test_live_refresh_fills_the_real_workbook_in_excel(server, home, tmp_path):
    import xlwings as xw

    path = tmp_path / "PelotonWorkbook.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", path)
    environ = {"PELOTON_API_URL": server.url, "PELOTON_AUTH_URL": server.url, "PELOTON_USERNAME": USERNAME,
               "PELOTON_PASSWORD": PASSWORD, "PELOTON_XL_HOME": str(home)}
    with xw.App(visible=False, add_book=False) as app:
        book = app.books.open(str(path))
        status_before = app.status_bar
        result = ribbon.refresh_book(book, environ=environ)
        assert result is not None and result.exit_code == 0
        with WorkoutStore.for_account(home, StateFolder(home).last_account()) as store:
            workouts = build_tables(store.records())[0]
        table = book.sheets["Workouts"].tables["Workouts"]
        assert table.range.shape == (len(workouts.frame) + 1, len(workouts.frame.columns))
        first_id = table.data_body_range[0, 0].value
        assert first_id == workouts.frame["Workout ID"].iloc[0]
        assert app.status_bar == status_before
        assert book.names["PelotonWorkoutCount"].refers_to_range.value == len(workouts.frame)
        book.close()  # without saving: the refresh leaves that to the member
