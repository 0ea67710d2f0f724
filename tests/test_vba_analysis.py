"""The workbook's VBA checked by a static analyser (pyvbaanalysis), as Windows and as Mac compile it: no
error and no warning in our modules, and a planted mistake (an undeclared name) caught."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvbaanalysis
from support import REPO

from pelotonxl.template import build

OURS = {"Peloton", "PelotonTable", "xlwings_udfs", "ThisWorkbook", "Sheet1", "Sheet2"}  # xlwings' own: theirs
PLATFORMS = {
    "windows": {"VBA7": 1, "Win64": 1, "Win32": 1, "Mac": 0},
    "mac": {"VBA7": 1, "Win64": 0, "Win32": 0, "Mac": 1},
}
LOUD = {pyvbaanalysis.DiagnosticSeverity.ERROR, pyvbaanalysis.DiagnosticSeverity.WARNING}


def compiled_as(platform: str) -> pyvbaanalysis.ConditionalCompilationEnvironment:
    constants = {**pyvbaanalysis.DEFAULT_COMPILER_CONSTANTS, **PLATFORMS[platform]}
    return pyvbaanalysis.ConditionalCompilationEnvironment(compiler_constants=constants)


def loud(found: dict[str, list[pyvbaanalysis.VbaDiagnostic]]) -> list[str]:
    return [f"{module}: {d.code}: {d.message}" for module, ds in found.items() for d in ds if d.severity in LOUD]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_the_workbooks_vba_is_clean_on_windows_and_mac(platform: str):
    found = pyvbaanalysis.analyze_workbook(REPO / "PelotonWorkbook.xlsm", conditional_compilation=compiled_as(platform))
    assert OURS <= set(found)
    assert loud({module: ds for module, ds in found.items() if module in OURS}) == []


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_module_under_workbook_vba_is_analysed_and_clean(platform: str):
    modules = sorted((build.SOURCES_DIR / "vba").glob("*.bas"))
    assert {m.stem for m in modules} == {"Peloton", "PelotonTable", "xlwings_udfs"}
    # Peloton.bas calls xlwings' RunPython, from xlwings' own module: the project without it is a fragment.
    found = pyvbaanalysis.analyze_loose_files(
        modules, conditional_compilation=compiled_as(platform), whole_project=False
    )
    assert set(found) == {m.stem for m in modules}
    assert loud(found) == []


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_planted_undeclared_name_is_caught(tmp_path: Path, platform: str):
    source = (build.SOURCES_DIR / "vba" / "PelotonTable.bas").read_text(encoding="utf-8")
    planted = source.replace("End Function", "    MetricFromTable = notDeclaredAnywhere + 1\nEnd Function", 1)
    assert planted != source
    (tmp_path / "PelotonTable.bas").write_text(planted, encoding="utf-8")
    found = pyvbaanalysis.analyze_loose_files(
        [tmp_path / "PelotonTable.bas"], conditional_compilation=compiled_as(platform)
    )
    assert [line for line in loud(found) if "notDeclaredAnywhere" in line] == [
        "PelotonTable: undeclared-variable: Variable not defined: 'notDeclaredAnywhere'. Declare it before using it, "
        "or remove Option Explicit."
    ]
