"""Issue 26: `peloton_xl.refresh()` and `show_ride()` are the ribbon's; called from plain Python they used to
end in xlwings' own traceback ("Book.caller() must not be called directly", or on Linux "module 'xlwings' has
no attribute '_xlwindows'"). Now: one line saying where they belong and what to use instead."""

from __future__ import annotations

import subprocess
import sys

import pytest
import xlwings as xw
from support import REPO

from pelotonxl import ribbon


@pytest.mark.e2e
@pytest.mark.parametrize(("entry", "words"), [("refresh", "Peloton → Refresh"), ("show_ride", "Peloton → Show ride")])
def test_a_script_calling_the_ribbons_functions_gets_one_line_and_status_1(entry, words, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", f"import peloton_xl; peloton_xl.{entry}()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr and "xlwings" not in done.stderr
    assert lines[0].startswith(f"peloton_xl: {entry}() is what the workbook's {words} button runs")
    assert "python peloton_xl.py" in lines[0]


def test_at_the_interactive_prompt_the_line_is_said_and_python_stays(monkeypatch, capsys):
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    assert ribbon.refresh_caller() is None
    assert ribbon.show_ride_caller() is None
    err = capsys.readouterr().err.splitlines()
    assert [line.split("()")[0] for line in err] == ["peloton_xl: refresh", "peloton_xl: show_ride"]


def test_a_failure_while_excel_is_calling_keeps_its_traceback(monkeypatch):
    """Only the plain-Python call is explained away: called by Excel, a failure of xlwings is a real one."""

    def broken(cls):
        raise RuntimeError("Excel is busy")

    monkeypatch.setattr(xw.Book, "caller", classmethod(broken))
    monkeypatch.setattr(sys, "argv", ["python", "--wb=Book.xlsm", "--from_xl=1"])
    with pytest.raises(RuntimeError, match="Excel is busy"):
        ribbon.refresh_caller()
