"""Issue 26: a workbook is judged by what it holds, not by its name, and a failed run leaves no new file.

An .xlsx renamed .xlsm opens in no Excel (the content and the name disagree); a refresh into it used to
exit 0 and hand back a file Excel refuses. It is refused untouched, in one line, before any request.
A run that created the workbook from the template and then failed takes the copy away again (issue 19's
"a workbook created from the template by a run that then failed is left behind").
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from support import REPO, one_line_error

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import writer

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def renamed_xlsx(path: Path) -> Path:
    """What a member gets by saving a workbook as .xlsx in any spreadsheet program and renaming it .xlsm."""
    book = openpyxl.Workbook()
    book.active.title = "Config"
    book.save(path)  # openpyxl writes the .xlsx content type for a workbook without VBA, whatever the name
    return path


def with_content_type(source: Path, target: Path, content_type: str) -> Path:
    """A copy of `source` whose [Content_Types].xml gives the workbook part `content_type`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(xp.MACRO_WORKBOOK_TYPE.encode(), content_type.encode())
            new.writestr(item, data)
    return target


def test_the_committed_workbook_is_macro_enabled_inside():
    with xp.open_package(REPO / "PelotonWorkbook.xlsm") as pkg:
        assert xp.workbook_content_type(pkg) == xp.MACRO_WORKBOOK_TYPE
    writer.check_writable(REPO / "PelotonWorkbook.xlsm")  # no refusal for the real thing


@pytest.mark.parametrize(
    ("content_type", "said"),
    [
        (XLSX_MAIN, "holds an .xlsx workbook"),
        ("application/vnd.ms-excel.template.macroEnabled.main+xml", "holds an .xltm workbook"),
        ("application/vnd.oasis.opendocument.spreadsheet", "holds a vnd.oasis.opendocument.spreadsheet document"),
    ],
)
def test_a_workbook_whose_content_is_not_macro_enabled_is_refused_by_what_it_holds(tmp_path, content_type, said):
    book = with_content_type(REPO / "PelotonWorkbook.xlsm", tmp_path / "Book.xlsm", content_type)
    with pytest.raises(WorkbookError, match=said) as caught:
        writer.check_writable(book)
    assert "\n" not in str(caught.value) and "not a macro-enabled one, whatever its name says" in str(caught.value)


def test_a_renamed_xlsx_is_refused_untouched_in_one_line_before_any_request(server, home, tmp_path, run_cli):
    book = renamed_xlsx(tmp_path / "Renamed.xlsm")
    before = book.read_bytes()
    result = run_cli(server, book, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("peloton_xl: Renamed.xlsm holds an .xlsx workbook, not a macro-enabled one")
    assert "rename it back to .xlsx and give --workbook a new .xlsm path" in line
    assert book.read_bytes() == before  # untouched
    assert server.request_count("/") == 0  # refused before signing in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Renamed.xlsm"]  # no temp file, no copy


def test_a_failed_refresh_leaves_no_new_workbook_behind(server, home, tmp_path, run_cli):
    missing = tmp_path / "New.xlsm"
    result = run_cli(server, missing, home, password="wrong password")
    assert result.returncode == 1 and "Created New.xlsm from the template." in result.stderr
    assert "refused the sign-in" in result.stderr
    assert not missing.exists()
    assert [p.name for p in tmp_path.iterdir() if p != home] == []  # nor a temp copy beside it


def test_a_failed_refresh_keeps_a_workbook_that_was_there(server, home, tmp_path, run_cli):
    book = tmp_path / "Mine.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    assert run_cli(server, book, home, password="wrong password").returncode == 1
    assert book.read_bytes() == (REPO / "PelotonWorkbook.xlsm").read_bytes()


def test_a_refresh_that_wrote_the_new_workbook_keeps_it_even_if_the_export_then_fails(
    server, home, tmp_path, run_cli, monkeypatch
):
    from pelotonxl import export

    def fail(*_args, **_kwargs):
        raise export.ExportError("the export folder vanished: give --export another folder.")

    monkeypatch.setattr(export, "export_store", fail)
    book = tmp_path / "Fresh.xlsm"
    result = run_cli(server, book, home, "--export", str(tmp_path / "out"))
    assert result.returncode == 1 and "export folder vanished" in result.stderr
    assert book.exists() and book.read_bytes() != (REPO / "PelotonWorkbook.xlsm").read_bytes()  # the refresh's
