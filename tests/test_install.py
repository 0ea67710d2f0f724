"""Installing: --version, and a Python without the requirements told which command installs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import CLI, REPO

import pelotonxl
from pelotonxl import cli, install_hints


def test_version_is_the_packages_one(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"peloton_xl {pelotonxl.__version__}"


@pytest.mark.e2e
def test_a_python_without_the_requirements_names_the_command_that_installs_them(tmp_path):
    """`python -S` has no site-packages: pandas, requests, openpyxl are all missing, as on a fresh machine."""
    result = subprocess.run(
        [sys.executable, "-S", str(CLI), "--workbook", str(tmp_path / "Book.xlsm"), "--demo"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "unexpected" not in line and "Traceback" not in line, line
    assert line.startswith("peloton_xl: ") and "is not installed in this Python" in line
    assert f"-m pip install -r {REPO / 'requirements.txt'}" in line
    assert not (tmp_path / "Book.xlsm").exists()


def test_the_missing_distribution_is_named_by_its_pip_name():
    line = install_hints.missing_module_line(ModuleNotFoundError("x", name="dateutil.parser"), REPO)
    assert line.startswith(f"python-dateutil is not installed in this Python ({sys.executable})")
    installed = install_hints.missing_module_line(ModuleNotFoundError("x", name="pandas"), None)
    assert installed.endswith("-m pip install peloton-xl.")


def test_an_externally_managed_python_is_sent_to_a_virtual_environment(tmp_path, monkeypatch):
    """Debian's and Ubuntu's Python refuse `pip install` (PEP 668): the hint creates a venv instead."""
    stdlib = tmp_path / "lib" / "python3"
    stdlib.mkdir(parents=True)
    monkeypatch.setattr(install_hints.sysconfig, "get_path", lambda name: str(stdlib))
    monkeypatch.setattr(install_hints.sys, "base_prefix", install_hints.sys.prefix)  # the system's own Python
    assert install_hints.install_command(Path("requirements.txt")).startswith(f'"{sys.executable}" -m pip install')
    (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    command = install_hints.install_command(Path("requirements.txt"))
    assert command.startswith("python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt")
    monkeypatch.setattr(install_hints.sys, "base_prefix", "/not/this/venv")  # inside a venv pip is fine
    assert not install_hints.externally_managed()


# ----------------------------------------------------------------------------- the ribbon and the installed version


def test_the_built_workbook_tells_python_which_release_its_vba_is():
    from support.ovba_check import read_project

    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION

    source = read_project(REPO / "PelotonWorkbook.xlsm").sources["Peloton"]
    assert f'Private Const PARTS As String = "{pelotonxl.__version__} {XLWINGS_VERSION}"' in source
    calls = [line.strip() for line in source.splitlines() if "RunPython" in line and "refresh" in line]
    assert calls == [
        'RunPython "import peloton_xl; peloton_xl.refresh(parts=""" & PARTS & """)"',
        'RunPython "import peloton_xl; peloton_xl.refresh(full=True, parts=""" & PARTS & """)"',
    ]


def test_the_ribbon_says_in_one_line_when_the_workbooks_parts_are_not_this_releases(monkeypatch):
    import importlib.metadata

    from pelotonxl.commands.setup_excel import stale_parts_line

    book = Path("C:/Users/me/Peloton's.xlsm")
    assert stale_parts_line(f"{pelotonxl.__version__} 0.37.8", book) is None
    old = stale_parts_line("", book)  # 0.1.0's Peloton.bas passes nothing
    assert old.startswith("This workbook's Excel parts are from a peloton_xl before 0.2.0")
    assert old.endswith(f'run python peloton_xl.py --upgrade-workbook "{book}".')
    other = stale_parts_line(f"{pelotonxl.__version__} 0.36.0", book)
    assert "with xlwings 0.36.0" in other and "--upgrade-workbook" in other
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "0.38.1")
    assert stale_parts_line(f"{pelotonxl.__version__} 0.37.8", book).endswith("pip install xlwings==0.37.8.")
    assert all("\n" not in line for line in (old, other))
