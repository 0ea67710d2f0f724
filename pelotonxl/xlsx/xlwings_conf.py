"""The workbook's `xlwings.conf` sheet, written headless: which Python Excel runs and where it finds
peloton_xl.py (what `python peloton_xl.py --setup-excel` sets).

xlwings reads the sheet's key/value pairs (column A, column B) from A1 down to the first empty cell
in column A; the notes below that gap are for people. **A key on the sheet wins even when its value
is empty**: an empty `Interpreter_Win` there hides the member's own xlwings settings (their
`xlwings.conf` file, the add-in's) and Excel falls back to `python` on PATH. So the sheet holds only
keys with a value we mean; keys earlier templates shipped with xlwings' own defaults are dropped.
"""

from __future__ import annotations

import re
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
UDF_MODULES = "UDF Modules"

# What the template of 0.1.0 shipped (key case-folded -> value text as read): xlwings' own defaults,
# which on the sheet override the member's global settings. Dropped wherever they are still as shipped.
SHIPPED_DEFAULTS = {
    label.casefold(): (label, value)
    for label, value in (
        (INTERPRETER_WIN, ""),
        (INTERPRETER_MAC, ""),
        (PYTHONPATH, ""),
        ("Conda Path", ""),
        ("Conda Env", ""),
        ("Debug UDFs", "FALSE"),
        ("Use UDF Server", "FALSE"),
        ("Show Console", "FALSE"),
    )
}


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


def has_sheet(pkg: xp.Package) -> bool:
    sheet = xp.find_sheet(pkg, SHEET)
    return sheet is not None and sheet.is_worksheet


def write_settings(path: Path, values: dict[str, str]) -> list[str]:
    """Set each key's value, adding a missing key at the end of the settings, and drop the keys an
    earlier template shipped as xlwings' defaults (and an empty value given here). Returns the keys
    dropped. Refuses, in one line, a workbook open in Excel or one without an xlwings.conf sheet."""
    path = Path(path)
    safety.remove_stale_temps(path)
    safety.check_workbook(path, ())  # not found, open in Excel (its ~$ lock file), damaged
    with xp.open_package(path) as pkg:
        dropped = update_settings(pkg, path, values)
        safety.save_atomically(pkg, path)
    return dropped


def update_settings(pkg: xp.Package, path: Path, values: dict[str, str]) -> list[str]:
    """`write_settings` on an open package (saved by the caller)."""
    settings = _settings(pkg, path)
    part = _sheet(pkg, path).part
    xml = pkg.text(part)
    wanted = {key.casefold(): (key, value) for key, value in values.items()}
    # The rows xlwings will read, in order: the member's own keys stay where they were, relative to each other.
    rows: list[tuple[int | None, str, str | None]] = []  # (old row or None, key, new value or None: keep)
    dropped: list[str] = []
    for key, (row, text) in sorted(settings.items(), key=lambda item: item[1][0]):
        if key in wanted:
            label, value = wanted.pop(key)
            if value:
                rows.append((row, label, value))
            else:
                dropped.append(label)
        elif key in SHIPPED_DEFAULTS and SHIPPED_DEFAULTS[key][1] == text:
            dropped.append(SHIPPED_DEFAULTS[key][0])
        else:
            rows.append((row, "", None))
    rows += [(None, label, value) for label, value in wanted.values() if value]
    old_count = len(settings)
    for row in range(old_count + 1, len(rows) + 2):  # the new rows, and the gap after them
        if _text_in_a(pkg, row):
            raise WorkbookError(
                f"{path.name}: the {SHEET} sheet has text in A{row}, where a setting or the gap after the "
                "settings must go (xlwings reads column A down to the first empty cell): move it a few "
                "rows down, then run this again."
            )
    old_cells = {(col, row): cell_edit.get_cell(xml, f"{col}{row}") for row in range(1, old_count + 1) for col in "AB"}
    for row in range(1, old_count + 1):
        for col in "AB":
            xml = cell_edit.set_cell(xml, f"{col}{row}", None)
    for new_row, (old_row, new_label, new_value) in enumerate(rows, start=1):
        if old_row is None:
            xml = cell_edit.set_cell(xml, f"A{new_row}", string_tail(new_label))
        else:
            xml = _moved(xml, old_cells[("A", old_row)], f"A{new_row}")
        if new_value is not None:
            xml = cell_edit.set_cell(xml, f"B{new_row}", string_tail(new_value))
        elif old_row is not None:
            xml = _moved(xml, old_cells[("B", old_row)], f"B{new_row}")
    pkg.put(part, xml)
    return dropped


def _moved(xml: str, old: re.Match | None, ref: str) -> str:
    """The cell `old` (its type, style and value as they were) written at `ref`."""
    if old is None:
        return xml
    element = old.group(0)
    tail = re.sub(r'^<[\w:]*c\b((?:(?!/?>)[^>])*?)\sr="[^"]*"', r"\1", element)
    tail = re.sub(r"^<[\w:]*c\b", "", tail)
    return cell_edit.set_cell(xml, ref, tail)


def _text_in_a(pkg: xp.Package, row: int) -> bool:
    labels = label_cells(pkg, SHEET) or {}
    return any(r == row for r, _ in labels.values())


def _sheet(pkg: xp.Package, path: Path) -> xp.SheetEntry:
    sheet = xp.find_sheet(pkg, SHEET)
    if sheet is None or not sheet.is_worksheet:
        raise WorkbookError(
            f"{path.name} has no {SHEET} sheet, where xlwings reads which Python to run: "
            f"run python peloton_xl.py --upgrade-workbook {path.name} to put it back."
        )
    return sheet


def _settings(pkg: xp.Package, path: Path) -> dict[str, tuple[int, str]]:
    """Key (case-folded) -> (row, value text), for the rows xlwings reads."""
    _sheet(pkg, path)
    labels = label_cells(pkg, SHEET) or {}
    rows = {row: (label, text) for label, (row, text) in labels.items()}
    settings: dict[str, tuple[int, str]] = {}
    row = 1
    while row in rows:
        settings[rows[row][0]] = (row, rows[row][1])
        row += 1
    return settings
