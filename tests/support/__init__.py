"""What the tests share: the member's credentials, paths, settings and CLI helpers.

Fixtures stay in conftest.py; helpers live here and in the modules beside this one
(faulty_peloton, workbook_samples, live_book; for Excel: xlwings_autospec, the xlwings classes the code
under test gets, over xlwings_standin and xlwings_standin_charts, their state, and standin_calc).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import openpyxl

from pelotonxl import cli
from pelotonxl.settings import resolve

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "peloton_xl.py"
USERNAME = "member@example.com"
PASSWORD = "correct horse battery staple"


def settings_for(server, home: Path, **overrides):
    # Graphs at 300 s: these stories are about requests and the store, not the samples; the fine
    # default (5 s) is exercised by the series, export and Ride tests.
    values = {
        "api_url": server.url,
        "auth_url": server.url,
        "username": USERNAME,
        "password": PASSWORD,
        "home": str(home),
        "workers": 4,
        "every_n": 300,
    }
    values.update(overrides)
    return resolve(values, environ={})


def cli_env(server, home: Path, password: str | None = PASSWORD, **extra: str) -> dict[str, str]:
    """The environment of a CLI run against `server`: no PELOTON_* of the developer's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
    env.update(
        PELOTON_API_URL=server.url,
        PELOTON_AUTH_URL=server.url,
        PELOTON_USERNAME=USERNAME,
        PELOTON_XL_HOME=str(home),
        PELOTON_EVERY_N="300",
    )  # as settings_for: samples are not the point
    if password is not None:
        env["PELOTON_PASSWORD"] = password
    env.update(extra)
    return env


def run_cli(
    server,
    workbook: Path,
    home: Path,
    *args: str,
    password: str | None = PASSWORD,
    timeout: float = 90,
    **extra_env: str,
) -> subprocess.CompletedProcess:
    """The real entry script as a subprocess, stdin closed like a scheduler's."""
    result = subprocess.run(
        [sys.executable, str(CLI), "--workbook", str(workbook), *args],
        env=cli_env(server, home, password, **extra_env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def cli_in_process(monkeypatch, capsys, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """cli.main in this process, as `python peloton_xl.py *args` with `env` would run: exit status,
    stdout and stderr. For stories where the subprocess is not the point: no interpreter start-up."""
    for name in list(os.environ):
        if name.startswith("PELOTON_") and name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("PELOTON_"):
            monkeypatch.setenv(name, value)
    # pytest's own log handlers make the CLI's basicConfig a no-op: give it the stderr it would get.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("peloton_xl: %(message)s"))
    handler.setLevel(logging.ERROR if "-q" in args else logging.WARNING)  # -v needs a subprocess
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    finally:
        root.removeHandler(handler)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return subprocess.CompletedProcess(args, code, out, err)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The failure message: exactly one line on stderr, nothing on stdout."""
    lines = result.stderr.strip().splitlines()
    assert result.stdout == "" and len(lines) == 1, result.stderr
    assert lines[0].startswith("peloton_xl: ")
    return lines[0]


def table_values(path: Path, sheet: str) -> tuple[str, list[list]]:
    """The Excel Table on `sheet`: its ref and its rows, header first, as openpyxl reads the cells.

    Read-only, that sheet alone: a whole load of a refreshed workbook (Metrics, the Dashboard)
    costs four times as much, and many tests read a table after every refresh."""
    from openpyxl.utils import range_boundaries

    from pelotonxl.xlsx.package import find_sheet, open_package, table_part_of

    with open_package(path) as pkg:
        entry = find_sheet(pkg, sheet)
        part = table_part_of(pkg, entry) if entry else None
        assert part, f"no table on the sheet {sheet!r} of {path.name}"
        ref = ElementTree.fromstring(pkg.data(part)).get("ref")
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [
            list(row)
            for row in book[sheet].iter_rows(
                min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True
            )
        ]
    finally:
        book.close()
    # Read-only mode stops at the last row that holds a cell; a table's blank rows are rows too.
    rows += [[None] * (max_col - min_col + 1) for _ in range(max_row - min_row + 1 - len(rows))]
    return ref, rows


def table_rows(path: Path, sheet: str) -> list[tuple]:
    """The table's body rows on `sheet` (no header)."""
    return [tuple(row) for row in table_values(path, sheet)[1][1:]]
