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


def test_setup_writes_this_python_and_the_project_folder(workbook, capsys, on_windows):
    before = conf_sheet(workbook)
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 0, err
    after = conf_sheet(workbook)
    python = os.path.abspath(sys.executable)  # a venv's own python, not the one it links to
    keys = ("Interpreter_Win",)
    for key in keys:
        assert after[key] == python
    assert after["PYTHONPATH"] == str(REPO)
    assert before == {"UDF Modules": "peloton_xl"}  # the template ships only the keys it needs set
    assert after == {**before, **dict.fromkeys(keys, python), "PYTHONPATH": str(REPO)}
    assert python in out and str(REPO) in out and "open Book.xlsm in Excel" in out
    assert "OK: The worksheet functions will find xlwings64-0.37.8.dll" in out and err == ""


def test_setup_changes_only_the_xlwings_conf_sheet(workbook, capsys, on_windows):
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


def test_a_missing_workbook_is_created_from_the_template_first(tmp_path, capsys, on_windows):
    path = tmp_path / "PelotonWorkbook.xlsm"
    code, _, err = setup_excel(capsys, "--workbook", str(path))
    assert code == 0 and "Created PelotonWorkbook.xlsm from the template." in err
    assert conf_sheet(path)["UDF Modules"] == "peloton_xl"


def test_installed_command_without_peloton_xl_py_leaves_pythonpath(workbook, capsys, on_windows):
    code, _, err = setup_excel(capsys, "--workbook", str(workbook), workbook_dir=None)
    assert code == 0 and "peloton_xl.py was not found" in err
    assert "PYTHONPATH" not in conf_sheet(workbook)  # never an empty key: it would hide the member's own


def test_a_workbook_open_in_excel_is_refused_in_one_line(workbook, capsys, on_windows):
    workbook.with_name("~$" + workbook.name).write_text("")
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 1 and "is open in Excel" in one_line_error(cli_result(code, out, err))


def test_a_workbook_without_the_sheet_is_refused_in_one_line(tmp_path, capsys, on_windows):
    path = tmp_path / "Plain.xlsm"
    book = openpyxl.load_workbook(REPO / "PelotonWorkbook.xlsm", keep_vba=True)
    del book["xlwings.conf"]
    book.save(path)
    code, out, err = setup_excel(capsys, "--workbook", str(path))
    line = one_line_error(cli_result(code, out, err))
    assert code == 1 and "has no xlwings.conf sheet" in line and "--upgrade-workbook" in line


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
    monkeypatch.setenv("HOME", str(workbook.parent))  # no AppleScript installed there
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 3, err  # written, but Excel needs one thing more, said in one line
    settings = conf_sheet(workbook)
    assert settings["Interpreter_Mac"] == os.path.abspath(sys.executable) and "Interpreter_Win" not in settings
    assert err.count("\n") == 1 and err.startswith("To do: Excel cannot start Python yet (xlwings-0.37.8.applescript")
    assert "-m xlwings runpython install once" in err and "Library/Application Scripts/com.microsoft.Excel" in err


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


def test_setup_drops_the_keys_0_1_0_shipped_empty_and_keeps_what_the_member_set(tmp_path, capsys, on_windows):
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
    interpreters = {"Interpreter_Win": python}
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


def test_setup_refuses_untouched_when_the_new_keys_would_run_into_text(workbook, capsys, on_windows):
    book = openpyxl.load_workbook(workbook, keep_vba=True)
    book["xlwings.conf"]["A3"] = "my own note"  # where Interpreter_* and PYTHONPATH go
    book.save(workbook)
    before = workbook.read_bytes()
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    line = one_line_error(cli_result(code, out, err))
    assert code == 1 and "text in A3" in line and "move it a few rows down" in line
    assert workbook.read_bytes() == before


# ----------------------------------------------------------------------------- what Excel will need


def test_on_linux_no_interpreter_is_written_and_the_line_says_why(workbook, capsys, monkeypatch):
    """A Linux path in Interpreter_Win makes RunPython say "Could not find Interpreter!": refused, untouched."""
    monkeypatch.setattr(cli.sys, "platform", "linux")
    before = workbook.read_bytes()
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    line = one_line_error(cli_result(code, out, err))
    assert code == 1 and "Excel runs on Windows or a Mac and cannot start this" in line
    assert workbook.read_bytes() == before


@pytest.mark.parametrize(
    ("platform", "python", "release", "environ", "says"),
    [
        ("linux", "/usr/bin/python3", "6.6.87.2-microsoft-standard-WSL2", {}, "a Windows python.exe, not this WSL one"),
        ("linux", "/usr/bin/python3", "6.1.0-28-amd64", {"WSL_DISTRO_NAME": "Debian"}, "this WSL Python"),
        ("linux", "/usr/bin/python3", "6.1.0-28-amd64", {}, "this Linux Python (/usr/bin/python3)"),
        ("win32", "\\\\wsl.localhost\\Ubuntu\\home\\me\\.venv\\bin\\python", "10", {}, "a Python inside WSL"),
        ("win32", "\\\\wsl$\\Ubuntu\\usr\\bin\\python3", "10", {}, "a Python inside WSL"),
    ],
)
def test_a_wsl_or_linux_python_is_refused_for_excel(platform, python, release, environ, says):
    from pelotonxl.excel_checks import interpreter_refusal

    assert says in interpreter_refusal(platform, python, release, environ)


@pytest.mark.parametrize(
    ("python", "dll", "found"),
    [
        ("C:\\Python312\\python.exe", "C:\\Python312\\xlwings64-0.37.8.dll", True),  # a plain install
        (
            "C:\\Users\\me\\peloton\\.venv\\Scripts\\python.exe",
            "C:\\Users\\me\\peloton\\.venv\\xlwings64-0.37.8.dll",
            True,
        ),
        # pip install --user: the data folder is %APPDATA%\Python, never beside python.exe
        ("C:\\Python312\\python.exe", "C:\\Users\\me\\AppData\\Roaming\\Python\\xlwings64-0.37.8.dll", False),
        (  # the Microsoft Store Python: its user site lives in the package's LocalCache
            "C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps\\PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0"
            "\\python.exe",
            "C:\\Users\\me\\AppData\\Local\\Packages\\PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0\\LocalCache"
            "\\local-packages\\xlwings64-0.37.8.dll",
            False,
        ),
    ],
)
def test_the_dll_is_looked_for_where_xlwings_looks(python, dll, found):
    from pelotonxl.excel_checks import dll_check

    check = dll_check(python, "xlwings64-0.37.8.dll", [dll])
    assert check.ok is found
    if not found:
        assert "Could not load xlwings64-0.37.8.dll" in check.line and "py -m venv" in check.line
        assert dll.rsplit("\\", 1)[0].lower() in check.line.lower()
    assert "\n" not in check.line


def test_a_python_without_the_dll_is_told_so():
    from pelotonxl.excel_checks import dll_check

    check = dll_check("C:\\Python312\\python.exe", "xlwings64-0.37.8.dll", [])
    assert not check.ok and "this Python's xlwings has none" in check.line


def test_a_workbook_marked_as_downloaded_is_named_with_how_to_unblock_it(workbook, capsys, on_windows):
    """Windows keeps the mark of the web in the Zone.Identifier stream, read as `path:Zone.Identifier`
    (on Linux a file of that name stands in for it)."""
    Path(f"{workbook}:Zone.Identifier").write_text("[ZoneTransfer]\nZoneId=3\nHostUrl=https://example.com/\n")
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 3 and "Excel blocks its macros" in err and "Unblock" in err
    Path(f"{workbook}:Zone.Identifier").write_text("[ZoneTransfer]\nZoneId=1\n")  # the intranet: trusted
    assert setup_excel(capsys, "--workbook", str(workbook))[0] == 0


def test_on_a_mac_with_the_applescript_installed_all_is_ok(workbook, capsys, monkeypatch):
    from pelotonxl.excel import workbook_link

    monkeypatch.setattr(cli.sys, "platform", "darwin")
    monkeypatch.setattr(workbook_link, "find_open_book", lambda path: None)
    scripts = workbook.parent / "Library" / "Application Scripts" / "com.microsoft.Excel"
    scripts.mkdir(parents=True)
    (scripts / "xlwings-0.37.8.applescript").write_text("on VbaHandler()\nend VbaHandler\n")
    monkeypatch.setenv("HOME", str(workbook.parent))
    code, out, err = setup_excel(capsys, "--workbook", str(workbook))
    assert code == 0 and "OK: Excel may start Python" in out and err == ""
