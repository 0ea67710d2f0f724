"""The headless CLI while Excel holds the workbook open: it writes through Excel, not the file.

Excel is played by autospecs of xlwings' own classes (tests/support/xlwings_autospec.py) over the in-repo
stand-in's state, not the real thing: `xw.apps` lists the open books, as on Windows or macOS.
"""

from __future__ import annotations

import filelock  # noqa: F401 - its lock class is picked by sys.platform on import: here, before a test pretends Windows
import xlwings as xw
from support.live_book import assert_sheet_holds, make_book, stored_tables
from support.xlwings_autospec import real_api
from support.xlwings_standin import Apps, Book

from pelotonxl import cli


def test_cli_writes_through_excel_when_the_workbook_is_open(server, home, workbook, monkeypatch, capsys):
    book = make_book(server, home)
    book.fullname = str(workbook)
    Book("Book1", app=book.app)  # another workbook open in the same Excel
    (workbook.parent / f"~${workbook.name}").write_bytes(b"owner")  # Excel's lock file
    before = workbook.read_bytes()
    monkeypatch.setattr(cli.sys, "platform", "win32")  # pretend Excel could be running here
    monkeypatch.setattr(xw, "apps", real_api(Apps([book.app])))

    assert cli.main(["--workbook", str(workbook), "-q"]) == 0

    assert workbook.read_bytes() == before  # the file on disk was not fought over
    for table in stored_tables(home):
        assert_sheet_holds(book, table)
    assert book.saved == 0  # saving is the member's call
    out = capsys.readouterr().out
    assert "written to the open" in out and "save it there" in out


def test_cli_refuses_a_locked_file_when_excel_cannot_be_reached(workbook, capsys):
    (workbook.parent / f"~${workbook.name}").write_bytes(b"owner")
    before = workbook.read_bytes()
    assert cli.main(["--workbook", str(workbook)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Excel" in err
    assert workbook.read_bytes() == before


def test_the_cli_records_its_refresh_before_the_open_workbooks_formulas_recalculate(
    server, home, workbook, tmp_path, monkeypatch
):
    """Issue 20, item 8, from the CLI: a formula typed before the first refresh into the Config sheet's State
    folder answers from that store as soon as the command ends (recorded, then re-entered), as from the ribbon."""
    from support.standin_calc import Calc

    import peloton_xl

    monkeypatch.delenv("PELOTON_XL_HOME")  # only the Config sheet names the state folder
    book = make_book(server, tmp_path / "elsewhere")
    book.fullname = str(workbook)
    book.calc = Calc({"PELOTON_METRIC": lambda workout, metric: peloton_xl.PELOTON_METRIC(workout, metric)})
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    mine.range("A1").formula2 = '=PELOTON_METRIC("latest", "total_output")'
    assert str(mine.results[(1, 1)]).startswith("#N/A no refresh has run yet")
    monkeypatch.setattr(cli.sys, "platform", "win32")
    monkeypatch.setattr(xw, "apps", real_api(Apps([book.app])))

    assert cli.main(["--workbook", str(workbook), "-q"]) == 0

    assert isinstance(mine.results[(1, 1)], float)
