"""The worksheet functions answer from the store the refresh filled, wherever that was.

Called from a workbook (xlwings passes the calling cell as `caller`), they answer for that workbook's
own last refresh; from plain Python, for this machine's most recent refresh of a member's account.
The demo keeps its state apart. The caller is an autospec of xlwings' own Range, Sheet and Book, so
an attribute xlwings does not have fails here as it would in Excel.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
import xlwings
from support import settings_for

import peloton_xl
from pelotonxl import cli, state
from pelotonxl.model import tables
from pelotonxl.refresh_job import run_refresh


def caller_in(book_path: Path):
    """The calling cell as xlwings hands it to a UDF, in the workbook at `book_path`."""
    book = mock.create_autospec(xlwings.Book, instance=True, spec_set=True)
    book.fullname = str(book_path)
    sheet = mock.create_autospec(xlwings.Sheet, instance=True, spec_set=True)
    sheet.book = book
    cell = mock.create_autospec(xlwings.Range, instance=True, spec_set=True)
    cell.sheet = sheet
    return cell


def refresh_into(settings, workbook: Path | None = None, **kwargs) -> dict:
    """A real refresh, as the CLI or the ribbon would run it for `workbook` (the file itself is not
    needed: the content is kept); its Metrics frame by Workout ID."""
    written = {}
    run_refresh(settings, lambda content: written.update(metrics=content.metrics.frame), workbook=workbook, **kwargs)
    return written["metrics"].set_index("Workout ID")


# ----------------------------------------------------------------------------- the record, unit


def test_the_record_keeps_the_last_refresh_each_workbook_and_the_demo_apart(tmp_path):
    assert state.last_refresh() is None and state.refresh_of(tmp_path / "A.xlsm") is None
    state.record_refresh(tmp_path / "demo", "d" * 32, tmp_path / "Demo.xlsm", demo=True)
    assert state.last_refresh() == state.RefreshRecord(tmp_path / "demo", "d" * 32)  # only a demo so far
    state.record_refresh(tmp_path / "x", "a" * 32, tmp_path / "A.xlsm")
    state.record_refresh(tmp_path / "demo", "d" * 32, tmp_path / "Demo.xlsm", demo=True)
    assert state.last_refresh() == state.RefreshRecord(tmp_path / "x", "a" * 32)  # the member's, not the demo
    assert state.refresh_of(tmp_path / "sub" / ".." / "A.xlsm").home == tmp_path / "x"
    assert (
        state.refresh_of(tmp_path / "Demo.xlsm").store_file
        == tmp_path / "demo" / "accounts" / ("d" * 32) / "store.sqlite"
    )
    record = json.loads(state.refreshes_file().read_text(encoding="utf-8"))
    assert set(record) == {"last", "last_demo", "workbooks"} and len(record["workbooks"]) == 2


def test_the_record_stays_small_and_a_broken_one_is_no_refresh(tmp_path):
    for n in range(state.MAX_WORKBOOKS + 5):
        state.record_refresh(tmp_path, f"{n:032x}", tmp_path / f"{n}.xlsm")
    books = json.loads(state.refreshes_file().read_text(encoding="utf-8"))["workbooks"]
    assert len(books) == state.MAX_WORKBOOKS and state.refresh_of(tmp_path / "0.xlsm") is None
    assert state.refresh_of(tmp_path / f"{state.MAX_WORKBOOKS + 4}.xlsm").account == f"{state.MAX_WORKBOOKS + 4:032x}"
    state.refreshes_file().write_text("{not json", encoding="utf-8")
    assert state.last_refresh() is None


def test_a_record_that_cannot_be_written_does_not_fail_the_refresh(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setattr(state, "default_home", lambda: blocker / "peloton_xl")
    state.record_refresh(tmp_path, "a" * 32)
    assert "could not record this refresh" in caplog.text


def test_the_refresh_benchmark_puts_the_record_back(tmp_path):
    """Its measured CLI runs are real refreshes of temporary folders: the member's record must survive them."""
    from benchmarks.bench_refresh import refresh_record_kept

    with refresh_record_kept():
        state.record_refresh(tmp_path / "bench", "b" * 32, tmp_path / "Bench.xlsm")
    assert not state.refreshes_file().exists() and not state.refreshes_file().parent.exists()
    state.record_refresh(tmp_path / "mine", "a" * 32, tmp_path / "Mine.xlsm")
    before = state.refreshes_file().read_bytes()
    with refresh_record_kept():
        state.record_refresh(tmp_path / "bench", "b" * 32, tmp_path / "Bench.xlsm")
    assert state.refreshes_file().read_bytes() == before


# ----------------------------------------------------------------------------- real refreshes


def test_plain_python_finds_a_refresh_made_with_home_elsewhere(server, tmp_path, account, monkeypatch):
    elsewhere = tmp_path / "x"
    metrics = refresh_into(settings_for(server, elsewhere), tmp_path / "Mine.xlsm")
    monkeypatch.delenv("PELOTON_XL_HOME")  # a plain Python process knows nothing of --home
    server.stop()
    newest = account.workouts[0]
    assert peloton_xl.PELOTON_METRIC(newest["id"], "calories") == metrics.loc[newest["id"], "Calories (kcal)"]
    day = tables.local_start(newest).replace(hour=0, minute=0, second=0)
    assert peloton_xl.PELOTON_WORKOUTS_ON(day)[0] == [newest["id"]]
    names = peloton_xl.PELOTON_METRIC_NAMES()
    assert ["calories", "Calories", "kcal"] in names


def test_each_workbook_answers_for_its_own_refresh(server, tmp_path, account, monkeypatch):
    book_a, book_b = tmp_path / "A.xlsm", tmp_path / "B.xlsm"
    refresh_into(settings_for(server, tmp_path / "home a"), book_a)
    (added,) = account.add_workouts(1)  # only B's refresh sees it
    metrics_b = refresh_into(settings_for(server, tmp_path / "home b"), book_b)
    monkeypatch.delenv("PELOTON_XL_HOME")
    server.stop()
    in_a, in_b = caller_in(book_a), caller_in(book_b)
    assert peloton_xl.PELOTON_METRIC("latest", "calories", caller=in_b) == metrics_b.loc[added["id"], "Calories (kcal)"]
    assert (
        peloton_xl.PELOTON_METRIC(added["id"], "calories", caller=in_a)
        == f"#N/A no workout {added['id']} in the last refresh"
    )
    assert peloton_xl.PELOTON_WORKOUTS_ON("latest", caller=in_a).startswith("#VALUE! ")
    assert peloton_xl.PELOTON_SERIES(added["id"], "output", caller=in_b) == peloton_xl.PELOTON_SERIES(
        added["id"], "output"
    )  # plain Python: the most recent refresh, B's
    # A workbook this machine never refreshed answers as plain Python does.
    assert (
        peloton_xl.PELOTON_METRIC("latest", "calories", caller=caller_in(tmp_path / "C.xlsm"))
        == metrics_b.loc[added["id"], "Calories (kcal)"]
    )


def test_a_caller_excel_cannot_place_answers_as_plain_python(server, settings, account, tmp_path):
    metrics = refresh_into(settings, tmp_path / "Mine.xlsm")
    cell = mock.create_autospec(xlwings.Range, instance=True, spec_set=True)
    type(cell).sheet = mock.PropertyMock(side_effect=RuntimeError("called from VBA, not a cell"))
    try:
        wid = account.workouts[0]["id"]
        assert peloton_xl.PELOTON_METRIC(wid, "calories", caller=cell) == metrics.loc[wid, "Calories (kcal)"]
    finally:
        del type(cell).sheet


def test_the_functions_read_only_what_xlwings_offers(server, settings, account, tmp_path):
    """An attribute the real Range, Sheet or Book lacks fails the autospec: the functions read
    exactly caller.sheet.book.fullname."""
    refresh_into(settings, tmp_path / "A.xlsm")
    cell = caller_in(tmp_path / "A.xlsm")
    with pytest.raises(AttributeError):
        cell.sheet.book.full_name  # noqa: B018 - the misspelling the autospec catches
    assert isinstance(peloton_xl.PELOTON_METRIC("latest", "calories", caller=cell), float)


# ----------------------------------------------------------------------------- the demo


def test_the_demo_keeps_its_state_apart_from_the_members(server, tmp_path, account, monkeypatch, capsys):
    home = tmp_path / "home"
    member_book = tmp_path / "Mine.xlsm"
    metrics = refresh_into(settings_for(server, home), member_book)
    member_latest = metrics.loc[account.workouts[0]["id"], "Calories (kcal)"]
    demo_book = tmp_path / "Demo.xlsm"
    assert cli.main(["--demo", "--workbook", str(demo_book), "--home", str(home), "--every-n", "300", "-q"]) == 0
    capsys.readouterr()
    demo_state = state.StateFolder(home).demo()
    assert demo_state.last_account() and demo_state.last_account() != account.user_id
    assert state.StateFolder(home).last_account() == account.user_id  # the member's own, untouched
    monkeypatch.delenv("PELOTON_XL_HOME")
    server.stop()
    # The member's workbook and plain Python answer for the member; the demo workbook for the demo.
    assert peloton_xl.PELOTON_METRIC("latest", "calories", caller=caller_in(member_book)) == member_latest
    assert peloton_xl.PELOTON_METRIC("latest", "calories") == member_latest
    demo_answer = peloton_xl.PELOTON_METRIC("latest", "calories", caller=caller_in(demo_book))
    assert isinstance(demo_answer, float)
    assert state.refresh_of(demo_book).home == demo_state.root


def test_a_bare_pipeline_run_is_not_recorded(server, settings):
    """Benchmarks and tests call run_refresh without a workbook: the member's record stays theirs."""
    refresh_into(settings)
    assert not state.refreshes_file().exists()


def test_a_workbook_with_its_own_state_folder_on_config_is_followed(
    server, workbook, tmp_path, monkeypatch, capsys, account
):
    """Issue 9's first point as a member meets it: the Config sheet's State folder, a CLI refresh, and
    the workbook's =PELOTON_METRIC (and plain Python) answering from that folder."""
    from support import cli_env, cli_in_process
    from support.workbook_samples import type_into_config

    own_folder = tmp_path / "my peloton state"
    type_into_config(workbook, "home", str(own_folder))
    env = cli_env(server, tmp_path / "unused")
    del env["PELOTON_XL_HOME"]  # else the variable would win over the Config cell
    result = cli_in_process(monkeypatch, capsys, ["--workbook", str(workbook), "-q"], env)
    assert result.returncode == 0, result.stderr
    assert state.StateFolder(own_folder).last_account() == account.user_id
    server.stop()
    answer = peloton_xl.PELOTON_METRIC("latest", "calories", caller=caller_in(workbook))
    assert isinstance(answer, float)
    assert peloton_xl.PELOTON_METRIC("latest", "calories") == answer
