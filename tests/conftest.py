"""Shared fixtures: a local Peloton server per test and settings that point at it.

Nothing here reaches the internet: the server listens on 127.0.0.1, port chosen by the OS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from support import PASSWORD, REPO, USERNAME, cli_env, cli_in_process, settings_for
from support.faulty_peloton import FaultyPeloton

from pelotonxl import state
from pelotonxl.demo.account import make_account
from pelotonxl.excel import functions

# Some machines set PYTHONDONTWRITEBYTECODE: then every run re-rewrites the asserts of every test
# module in every worker (seconds each). The caches go to __pycache__/, which git ignores.
sys.dont_write_bytecode = False

# Generated tests: a small budget for the inner loop, a larger one where HYPOTHESIS_PROFILE=ci (.ci/run).
# The ci profile is derandomized: CI generates exactly the examples a developer's run of it did, so a
# budget seen green on a developer's machine is green in CI; the unit profile explores anew each run.
hypothesis_settings.register_profile("unit", max_examples=30, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "unit"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test sees the developer's own PELOTON_* settings or state folder, nor their user data folder
    (where state.refreshes_file() records every refresh): XDG_DATA_HOME for a subprocess on Linux,
    state.default_home for this process on any system."""
    for name in list(os.environ):
        if name.startswith("PELOTON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PELOTON_XL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user data"))
    monkeypatch.setattr(state, "default_home", lambda: tmp_path / "user data" / "peloton_xl")
    monkeypatch.setattr(functions, "_cache", functions._Cache())  # it keeps the user data folder it saw


@pytest.fixture
def account():
    """Small: most stories need a few pages' worth of nothing. Paging and sync tests ask for 250."""
    return make_account(40, seed=11)


@pytest.fixture
def server(account):
    with FaultyPeloton(account, username=USERNAME, password=PASSWORD) as srv:
        yield srv


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(server, home):
    return settings_for(server, home)


@pytest.fixture
def workbook(tmp_path) -> Path:
    """A fresh copy of the committed workbook."""
    path = tmp_path / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", path)
    return path


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Like support.run_cli (exit status, stdout, stderr) with the CLI run in this process."""

    def run(
        server, workbook: Path, home: Path, *args: str, password: str | None = PASSWORD, **extra_env: str
    ) -> subprocess.CompletedProcess:
        return cli_in_process(
            monkeypatch, capsys, ["--workbook", str(workbook), *args], cli_env(server, home, password, **extra_env)
        )

    return run


def pytest_collection_modifyitems(config, items):
    no_soffice = shutil.which("soffice") is None
    no_excel = sys.platform not in ("win32", "darwin")
    for item in items:
        # Markers, not item.keywords: keywords also hold the names of the folders above the test, so a
        # checkout in a folder named "excel" would skip every test as needing Excel.
        marked = {name for name in ("libreoffice", "excel", "slow") if item.get_closest_marker(name) is not None}
        if marked:
            item.add_marker(pytest.mark.e2e)  # another program drives the workbook, or it takes seconds
        elif any(
            name in ("run_cli", "run_here") or name.endswith("server") for name in getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.e2e)  # a whole refresh: HTTP to the local Peloton, the CLI
        if "excel" in marked and no_excel:
            item.add_marker(
                pytest.mark.skip(reason="needs Microsoft Excel (Windows or macOS): see docs/manual-test.md")
            )
        elif "libreoffice" in marked and no_soffice:
            item.add_marker(pytest.mark.skip(reason="LibreOffice (soffice) is not installed"))


@pytest.fixture
def on_windows(monkeypatch):
    """As on Windows: Excel does not hold the workbook, and pip put xlwings' DLL beside this python."""
    from pelotonxl import excel_checks
    from pelotonxl.excel import workbook_link

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(workbook_link, "find_open_book", lambda path: None)
    beside = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "xlwings64-0.37.8.dll")
    monkeypatch.setattr(excel_checks, "xlwings_dll_files", lambda name: [beside])
