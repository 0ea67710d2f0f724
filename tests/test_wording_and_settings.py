"""Smaller things a member reads (issue 20, item 9; item 4's Last result): counts in the singular, -q
quiet about a new workbook, a relative Config State folder read from the workbook's folder and a bad one
blamed on the Config cell, and unreadable workouts named in Config's Last result."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from support import one_line_error
from support.workbook_samples import type_into_config

from pelotonxl.model.dashboard import WEEKS_FORMAT
from pelotonxl.settings import resolve
from pelotonxl.wording import plural


def test_one_of_a_thing_is_singular():
    assert [plural(n, "workout") for n in (0, 1, 2)] == ["0 workouts", "1 workout", "2 workouts"]
    assert WEEKS_FORMAT == '[=1]0 "week";0 "weeks"'  # the streaks: "1 week", "3 weeks"


def test_quiet_says_nothing_about_creating_the_workbook(server, account, home, tmp_path, run_cli):
    book = tmp_path / "New.xlsm"
    result = run_cli(server, book, home, "-q")
    assert result.returncode == 0 and book.exists()
    assert result.stderr == ""
    assert result.stdout.startswith(f"{len(account.workouts)} workouts (")


def test_a_relative_state_folder_in_config_is_read_from_the_workbooks_folder(tmp_path: Path):
    book = tmp_path / "Docs" / "Book.xlsm"
    assert resolve(config={"home": "state"}, environ={}, workbook=book).home == str(tmp_path / "Docs" / "state")
    assert resolve(config={"home": str(tmp_path / "abs")}, environ={}, workbook=book).home == str(tmp_path / "abs")
    assert resolve(environ={"PELOTON_XL_HOME": "rel"}, workbook=book).home == "rel"  # a shell's: its own folder


def test_a_state_folder_that_cannot_be_used_is_blamed_on_the_config_cell_it_came_from(
    server, workbook, home, tmp_path, run_cli, monkeypatch
):
    (tmp_path / "a file").write_text("")
    type_into_config(workbook, "home", "a file")  # relative: beside the workbook, where it is a file
    monkeypatch.delenv("PELOTON_XL_HOME")
    result = run_cli(server, workbook, home, PELOTON_XL_HOME="")
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"The state folder {tmp_path / 'a file'} cannot be used" in line
    assert line.endswith("point State folder (Config sheet) at a folder you can write to.")


def test_unreadable_workouts_are_named_in_last_result(server, workbook, home, account, run_cli):
    odd = account.workouts[3]["id"]
    server.rewrite(
        r"/workouts$",
        lambda body, query: {
            **body,
            "data": [{**w, "total_work": "lots"} if w["id"] == odd else w for w in body["data"]],
        },
    )
    for _ in range(2):  # the second refresh lists nothing new: still named
        assert run_cli(server, workbook, home).returncode == 3
        config = openpyxl.load_workbook(workbook)["Config"]
        last = next(row[1].value for row in config.iter_rows() if row[0].value == "Last result")
        assert last == f"1 workout came from Peloton with fields that cannot be read: {odd}"
