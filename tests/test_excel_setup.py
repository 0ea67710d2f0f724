"""`python peloton_xl.py --setup-excel`: the Python that runs it and this project's folder, written into
the workbook's xlwings.conf sheet (in process, on a copy of the template, read back with openpyxl)."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from support import REPO, one_line_error
from support.ooxml_check import assert_valid

from pelotonxl import cli
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import xlwings_conf


def setup_excel(capsys, *args: str, workbook_dir: Path | None = REPO):
    """cli.main as `python peloton_xl.py --setup-excel …` runs it: exit status, stdout, stderr."""
    code = cli.main(["--setup-excel", *args], workbook_dir=workbook_dir)
    out, err = capsys.readouterr()
    return code, out, err


def conf_sheet(path: Path) -> dict:
    """The key/value pairs xlwings reads: A1 down to the first empty cell in column A."""
    ws = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    settings = {}
    for row in ws.iter_rows(min_row=1, values_only=True):
        if row[0] is None:
            break
        settings[row[0]] = row[1]
    return settings


def test_setup_writes_this_python_and_the_project_folder(workbook, capsys):
    before = conf_sheet(workbook)
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 0, err
    after = conf_sheet(workbook)
    python = os.path.abspath(sys.executable)  # a venv's own python, not the one it links to
    keys = xlwings_conf.interpreter_keys(sys.platform)
    for key in keys:
        assert after[key] == python
    assert after["PYTHONPATH"] == str(REPO)
    assert before == {"UDF Modules": "peloton_xl"}  # the template ships only the keys it needs set
    assert after == {**before, **dict.fromkeys(keys, python), "PYTHONPATH": str(REPO)}
    assert python in out and str(REPO) in out and "open Book.xlsm in Excel" in out


def test_setup_changes_only_the_xlwings_conf_sheet(workbook, capsys):
    with zipfile.ZipFile(workbook) as archive:
        before = {name: archive.read(name) for name in archive.namelist()}
    assert setup_excel(capsys, "--workbook", str(workbook))[0] == 0
    with zipfile.ZipFile(workbook) as archive:
        after = {name: archive.read(name) for name in archive.namelist()}
    changed = {name for name in before if before[name] != after.get(name)}
    with xp.open_package(workbook) as pkg:
        conf_part = xp.find_sheet(pkg, "xlwings.conf").part
    assert set(after) == set(before) and changed == {conf_part}
    assert setup_excel(capsys, "--workbook", str(workbook))[0] == 0  # again: same values
    assert conf_sheet(workbook)["PYTHONPATH"] == str(REPO)
    assert_valid(workbook)  # ECMA-376 schemas


@pytest.mark.parametrize(
    ("platform", "keys"),
    [
        ("win32", ("Interpreter_Win",)),
        ("darwin", ("Interpreter_Mac",)),
        ("linux", ("Interpreter_Win", "Interpreter_Mac")),
        ("cygwin", ("Interpreter_Win", "Interpreter_Mac")),
    ],
)
def test_which_interpreter_key_a_platform_sets(platform, keys):
    assert xlwings_conf.interpreter_keys(platform) == keys


def test_a_missing_workbook_is_created_from_the_template_first(tmp_path, capsys):
    path = tmp_path / "PelotonWorkbook.xlsm"
    code, _, err = setup_excel(capsys, "--workbook", str(path))
    assert code == 0 and "Created PelotonWorkbook.xlsm from the template." in err
    assert conf_sheet(path)["UDF Modules"] == "peloton_xl"


def test_installed_command_without_peloton_xl_py_leaves_pythonpath(workbook, capsys):
    code, _, err = setup_excel(capsys, "--workbook", str(workbook), workbook_dir=None)
    assert code == 0 and "peloton_xl.py was not found" in err
    assert "PYTHONPATH" not in conf_sheet(workbook)  # never an empty key: it would hide the member's own


def test_a_workbook_open_in_excel_is_refused_in_one_line(workbook, capsys):
    workbook.with_name("~$" + workbook.name).write_text("")
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 1 and "is open in Excel" in one_line_error(cli_result(code, out, err))


def test_a_workbook_without_the_sheet_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "Plain.xlsm"
    book = openpyxl.load_workbook(REPO / "PelotonWorkbook.xlsm", keep_vba=True)
    del book["xlwings.conf"]
    book.save(path)
    code, out, err = setup_excel(capsys, "--workbook", str(path))
    line = one_line_error(cli_result(code, out, err))
    assert code == 1 and "has no xlwings.conf sheet" in line


def test_the_wrong_xlwings_is_refused_before_anything_is_written(workbook, capsys, monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.30.0")
    before = workbook.read_bytes()
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 1 and "pip install xlwings==0.37.8" in one_line_error(cli_result(code, out, err))
    assert workbook.read_bytes() == before


def test_setup_is_not_mixed_with_a_refresh(workbook, capsys):
    code, out, err = setup_excel(capsys, "--workbook", str(workbook), "--demo")
    assert code == 1 and "only sets up the workbook" in one_line_error(cli_result(code, out, err))


def cli_result(code, out, err):
    import subprocess

    return subprocess.CompletedProcess([], code, out, err)


def test_on_a_mac_only_interpreter_mac_is_set_and_runpython_install_is_named(workbook, capsys, monkeypatch):
    from pelotonxl.excel import workbook_link

    monkeypatch.setattr(cli.sys, "platform", "darwin")
    monkeypatch.setattr(workbook_link, "find_open_book", lambda path: None)  # Excel does not hold it
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 0, err
    settings = conf_sheet(workbook)
    assert settings["Interpreter_Mac"] == os.path.abspath(sys.executable) and "Interpreter_Win" not in settings
    assert "xlwings runpython install" in out and "~/Library/Application Scripts/com.microsoft.Excel" in out


def test_a_workbook_open_in_a_running_excel_is_refused(workbook, capsys, monkeypatch):
    from unittest import mock

    import xlwings

    from pelotonxl.excel import workbook_link

    open_book = mock.create_autospec(xlwings.Book, instance=True, spec_set=True)
    monkeypatch.setattr(cli.sys, "platform", "win32")
    monkeypatch.setattr(workbook_link, "find_open_book", lambda path: open_book if path == workbook else None)
    before = workbook.read_bytes()
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert (
        code == 1
        and one_line_error(cli_result(code, out, err))
        == "peloton_xl: Book.xlsm is open in Excel: close it there, then run --setup-excel again."
    )
    assert workbook.read_bytes() == before


RELEASE_0_1_0 = REPO / "tests" / "fixtures" / "releases" / "PelotonWorkbook-0.1.0.xlsm"


def test_setup_drops_the_keys_0_1_0_shipped_empty_and_keeps_what_the_member_set(tmp_path, capsys):
    """0.1.0 shipped Interpreter_Win, Conda Path… empty and Show Console FALSE: on the sheet they override the
    member's own xlwings settings. Setup drops those still as shipped; a value the member typed stays."""
    path = tmp_path / "Mine.xlsm"
    book = openpyxl.load_workbook(RELEASE_0_1_0, keep_vba=True)
    ws = book["xlwings.conf"]
    keys = [ws.cell(row, 1).value for row in range(1, 10)]
    assert keys[:5] == ["Interpreter_Win", "Interpreter_Mac", "PYTHONPATH", "Conda Path", "Conda Env"]
    ws.cell(keys.index("Conda Env") + 1, 2, "peloton")  # the member's own
    ws.cell(keys.index("Show Console") + 1, 2, True)
    notes = [ws.cell(row, 1).value for row in range(11, ws.max_row + 1)]
    book.save(path)

    code, out, err = setup_excel(capsys, "--workbook", str(path))
    assert code == 0, err
    python = os.path.abspath(sys.executable)
    interpreters = dict.fromkeys(xlwings_conf.interpreter_keys(sys.platform), python)
    after = conf_sheet(path)
    assert after == {
        **{k: v for k, v in interpreters.items() if k == "Interpreter_Win"},
        "Conda Env": "peloton",
        "UDF Modules": "peloton_xl",
        "Show Console": True,
        **{k: v for k, v in interpreters.items() if k == "Interpreter_Mac"},
        "PYTHONPATH": str(REPO),
    }
    assert "Conda Path" in out and "Debug UDFs" in out and "overrode your own xlwings settings" in out
    ws = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    assert [ws.cell(row, 1).value for row in range(11, ws.max_row + 1)] == notes  # the notes stay put
    assert_valid(path)


def test_setup_refuses_untouched_when_the_new_keys_would_run_into_text(workbook, capsys):
    book = openpyxl.load_workbook(workbook, keep_vba=True)
    book["xlwings.conf"]["A3"] = "my own note"  # where Interpreter_* and PYTHONPATH go
    book.save(workbook)
    before = workbook.read_bytes()
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    line = one_line_error(cli_result(code, out, err))
    assert code == 1 and "text in A3" in line and "move it a few rows down" in line
    assert workbook.read_bytes() == before
