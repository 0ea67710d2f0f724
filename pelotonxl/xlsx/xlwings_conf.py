"""The workbook's `xlwings.conf` sheet, written headless: which Python Excel runs and where it finds
peloton_xl.py (what `python peloton_xl.py --setup-excel` sets).

xlwings reads the sheet's key/value pairs (column A, column B) from A1 down to the first empty cell
in column A; the notes below that gap are for people. Only the value cells of the keys given change.
"""

from __future__ import annotations

from pathlib import Path

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import cell_edit, safety
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.cells import string_tail
from pelotonxl.xlsx.config_sheet import label_cells

SHEET = "xlwings.conf"
INTERPRETER_WIN = "Interpreter_Win"
INTERPRETER_MAC = "Interpreter_Mac"
PYTHONPATH = "PYTHONPATH"


def interpreter_keys(platform: str) -> tuple[str, ...]:
    """The xlwings.conf key(s) for a Python running on `platform` (sys.platform): Windows' or the
    Mac's, or both where this platform is neither (the workbook may be opened on either)."""
    if platform == "win32":
        return (INTERPRETER_WIN,)
    if platform == "darwin":
        return (INTERPRETER_MAC,)
    return (INTERPRETER_WIN, INTERPRETER_MAC)


def read_settings(path: Path) -> dict[str, str]:
    """The settings xlwings sees (from A1 down to the first empty cell in column A): key, case-folded
    as xlwings compares keys, -> value text."""
    with xp.open_package(Path(path)) as pkg:
        return {key: text for key, (_, text) in _settings(pkg, Path(path)).items()}


def write_settings(path: Path, values: dict[str, str]) -> None:
    """Set each key's value cell (column B), adding a missing key at the end of the settings.

    Refuses, in one line, a workbook open in Excel or one without an xlwings.conf sheet."""
    path = Path(path)
    safety.remove_stale_temps(path)
    safety.check_workbook(path, ())  # not found, open in Excel (its ~$ lock file), damaged
    with xp.open_package(path) as pkg:
        settings = _settings(pkg, path)
        by_key = {key: row for key, (row, _) in settings.items()}
        next_row = max(by_key.values(), default=0) + 1
        xml = pkg.text(_conf_sheet(pkg, path).part)
        for key, value in values.items():
            row = by_key.get(key.casefold())
            if row is None:  # the gap row becomes a setting; a note right below would be read too
                row, next_row = next_row, next_row + 1
                xml = cell_edit.set_cell(xml, f"A{row}", string_tail(key))
            xml = cell_edit.set_cell(xml, f"B{row}", string_tail(value) if value else None)
        pkg.put(_conf_sheet(pkg, path).part, xml)
        safety.save_atomically(pkg, path)


def _conf_sheet(pkg: xp.Package, path: Path) -> xp.SheetEntry:
    sheet = xp.find_sheet(pkg, SHEET)
    if sheet is None or not sheet.is_worksheet:
        raise WorkbookError(
            f"{path.name} has no {SHEET} sheet, where xlwings reads which Python to run: "
            "copy that sheet from PelotonWorkbook.xlsm into it, or use a new copy of the workbook."
        )
    return sheet


def _settings(pkg: xp.Package, path: Path) -> dict[str, tuple[int, str]]:
    """Key (case-folded) -> (row, value text), for the rows xlwings reads."""
    _conf_sheet(pkg, path)
    labels = label_cells(pkg, SHEET) or {}
    rows = {row: (label, text) for label, (row, text) in labels.items()}
    settings: dict[str, tuple[int, str]] = {}
    row = 1
    while row in rows:
        settings[rows[row][0]] = (row, rows[row][1])
        row += 1
    return settings
