"""The built workbook's VBA project, read back with oletools and checked against MS-OVBA's structure
(tests/support/ovba_check.py): no stray bytes after the dir stream, [Workspace] in one piece, real cookies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import REPO
from support.ovba_check import read_project

from pelotonxl.template import build, vba_project

RELEASE_0_1_0 = REPO / "tests" / "fixtures" / "releases" / "PelotonWorkbook-0.1.0.xlsm"


def _code(source: str) -> list[str]:
    """A module's lines without the Attribute lines the VBA project adds, line ends and final blank lines alike."""
    lines = [line.rstrip("\r") for line in source.split("\n") if not line.startswith("Attribute VB_")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@pytest.mark.parametrize("path", ["PelotonWorkbook.xlsm", "pelotonxl/template/PelotonWorkbook.xlsm"])
def test_the_built_project_is_as_ms_ovba_describes(path):
    project = read_project(REPO / path)
    assert project.problems == []
    names = [m.name for m in project.modules]
    assert names == [
        "ThisWorkbook",
        "Sheet1",
        "Peloton",
        "Sheet2",
        "xlwings",
        "Dictionary",
        "xlwings_udfs",
        "PelotonTable",
    ]
    added = {m.name: m for m in project.modules if m.name in ("xlwings_udfs", "PelotonTable")}
    assert {m.cookie for m in added.values()} == {0xFFFF} and all(m.procedural for m in added.values())
    for name in ("Peloton", "PelotonTable", "xlwings_udfs"):  # what oletools reads is what workbook/vba holds
        expected = build.parts_source((REPO / "workbook" / "vba" / f"{name}.bas").read_text(encoding="utf-8"))
        assert _code(project.sources[name]) == _code(expected), name


def test_the_checker_finds_what_0_1_0_got_wrong():
    """The project 0.1.0 shipped (pyOpenVBA's, untidied): the three departures the checker exists for."""
    problems = read_project(RELEASE_0_1_0).problems
    assert "4 stray bytes after the dir stream's Terminator" in problems
    assert "module xlwings_udfs: cookie 0 (MS-OVBA: 0xFFFF on write)" in problems
    assert any(re.fullmatch(r"a blank line inside \[Workspace\] \(its line \d+\)", p) for p in problems)


def test_tidying_is_idempotent_and_keeps_every_module_stream(tmp_path):
    import zipfile

    with zipfile.ZipFile(RELEASE_0_1_0) as package:
        untidy = package.read(vba_project.VBA_PART)
    once = vba_project.tidy_project(untidy)
    assert vba_project.tidy_project(once) == once
    fixed = tmp_path / "fixed.xlsm"
    fixed.write_bytes(vba_project.tidy(RELEASE_0_1_0.read_bytes()))
    before, after = read_project(RELEASE_0_1_0), read_project(fixed)
    assert after.problems == [] and after.sources == before.sources
    assert [m.name for m in after.modules] == [m.name for m in before.modules]


def test_project_stream_workspace_lines_are_joined_and_closed_once():
    text = b'ID="{X}"\r\nModule=A\r\n\r\n[Workspace]\r\nA=0, 0, 0, 0, C\r\n\r\nB=1, 1, 1, 1, C\r\n'
    assert vba_project.tidy_project_stream(text) == (
        b'ID="{X}"\r\nModule=A\r\n\r\n[Workspace]\r\nA=0, 0, 0, 0, C\r\nB=1, 1, 1, 1, C\r\n\r\n'
    )
    assert vba_project.tidy_project_stream(b'ID="{X}"\r\n') == b'ID="{X}"\r\n'  # no workspace: as it was


def test_a_dir_stream_without_a_terminator_is_refused():
    with pytest.raises(ValueError, match="no Terminator"):
        vba_project.parse_dir(b"\x01\x00\x04\x00\x00\x00\x03\x00\x00\x00")
    assert Path(vba_project.__file__).name == "vba_project.py"
