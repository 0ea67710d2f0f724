"""The Config status cells, the record of what the workbook shows, and the write of a refresh that found
nothing new: everything a refresh needs of the file without loading pandas or openpyxl.

The record is a hidden defined name (STAMP_NAME) holding the stamp of the content the last headless
refresh wrote (`refresh_job` makes the stamp: the store's identity and data version, the code's, the
day). A refresh whose stamp equals the workbook's, with every sheet and table it writes still in place,
writes the status cells and nothing else (`write_status_only`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from pelotonxl.model.excel_values import excel_value
from pelotonxl.model.workbook import (
    DASHBOARD_DATA_SHEET,
    DASHBOARD_SHEET,
    RIDE_DATA_SHEET,
    RIDE_SHEET,
    TABLE_SHEETS,
    Status,
)
from pelotonxl.xlsx import cell_edit, cells, safety
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.styles import StyleBook

STAMP_NAME = "_PelotonXL_Content"
OWNED_SHEETS = (*TABLE_SHEETS, DASHBOARD_SHEET, DASHBOARD_DATA_SHEET, RIDE_SHEET, RIDE_DATA_SHEET)
OWN_CHARTS = {DASHBOARD_SHEET: DASHBOARD_DATA_SHEET, RIDE_SHEET: RIDE_DATA_SHEET}  # sheet -> what its charts plot


def check_writable(path: Path | str) -> list[int]:
    """Raise WorkbookError (one actionable line) unless a refresh can safely write the workbook; returns the
    identity of the file checked (a write of that very file may vouch for its output: `safety.save_atomically`)."""
    safety.check_workbook(Path(path), OWNED_SHEETS, own_charts=OWN_CHARTS)
    return safety.identity(Path(path))


def written_stamp(path: Path) -> str | None:
    """The stamp of what the workbook shows, or None: none recorded, or a sheet or table the refresh
    writes is missing or cannot be read (the member deleted one, a program left one damaged: the next
    refresh writes everything again, as it would for a damaged sheet without a stamp). Their parts are
    parsed only in a file another program saved since the refresh's checked save."""
    path = Path(path)
    vouched = safety.as_saved(path)
    with xp.open_package(path) as pkg:
        formula = xp.defined_names(pkg).get(STAMP_NAME)
        sheets = [xp.find_sheet(pkg, name) for name in OWNED_SHEETS]
        tables = [xp.sheet_for_table(pkg, name) for name in TABLE_SHEETS]
        if formula is None or not all(sheets) or not all(tables):
            return None
        parts = [s.part for s in sheets if s] + [p for t in tables if t and (p := xp.table_part_of(pkg, t))]
        if not vouched and not all(_well_formed(pkg, part) for part in parts):
            return None
    match = re.fullmatch(r'"(.*)"', formula.strip().lstrip("="))
    return match.group(1).replace('""', '"') if match else None


def _well_formed(pkg: xp.Package, part: str) -> bool:
    if not pkg.has(part):
        return False
    try:
        expat.ParserCreate().Parse(pkg.data(part), True)
    except expat.ExpatError:
        return False
    return True


def set_stamp(pkg: xp.Package, stamp: str) -> None:
    xp.set_hidden_name(pkg, STAMP_NAME, '"' + stamp.replace('"', '""') + '"')


def write_status_only(path: Path, status: Status, stamp: str | None, *, checked: bool = False) -> None:
    """A refresh that found nothing new on the day the workbook was last written: the status cells
    (and the stamp) change, every other part stays as it is. `checked`: the file is as `check_writable`
    passed it."""
    path = Path(path)
    safety.remove_stale_temps(path)
    safety.check_workbook(path, [])  # open in Excel, damaged: refused as for any write
    with xp.open_package(path) as pkg:
        styles_part = styles_part_of(pkg)
        styles = StyleBook(pkg.text(styles_part))
        config_id = write_status(pkg, styles, status)
        if stamp is not None:
            set_stamp(pkg, stamp)
        pkg.put(styles_part, styles.xml)
        drop_calc_chain_of(pkg, {config_id} if config_id else set())
        safety.save_atomically(pkg, path, checked=checked)


def styles_part_of(pkg: xp.Package) -> str:
    from pelotonxl.errors import WorkbookError

    rel = next((r for r in xp.read_rels(pkg, xp.workbook_part(pkg)) if r.type == xp.REL_STYLES), None)
    if rel is None or not pkg.has(rel.part):
        raise WorkbookError("The workbook has no styles part: open and save it in Excel once, then refresh.")
    return rel.part


def write_status(pkg: xp.Package, styles: StyleBook, status: Status, notes_dropped: int = 0) -> int | None:
    """Write status values into the cells their defined names point at; returns the sheetId edited.
    `notes_dropped`: removed workouts whose notes this write dropped (Last result says so)."""
    names = xp.defined_names(pkg)
    edited = None
    for defined_name, value in status.cells(notes_dropped).items():
        target = _single_cell(names.get(defined_name, ""))
        sheet = xp.find_sheet(pkg, target[0]) if target else None
        if target is None or sheet is None or not sheet.is_worksheet:
            continue  # the member removed the name or its sheet: nothing to update
        xml = pkg.text(sheet.part)
        pkg.put(
            sheet.part,
            cell_edit.set_cell(xml, target[1], _status_tail(value, styles, cell_edit.cell_style(xml, target[1]))),
        )
        edited = sheet.sheet_id
    return edited


def _single_cell(formula: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"=?(?:'((?:[^']|'')+)'|([^!'\s]+))!(\$?[A-Za-z]{1,3}\$?\d+)", formula.strip())
    if not match:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
    return sheet, match.group(3).replace("$", "").upper()


def _status_tail(value: object, styles: StyleBook, old_style: int) -> str | None:
    value = excel_value(value)
    if value is None:
        return None  # before style_for: a blank adds no style
    date_attr = f' s="{styles.style_for(cells.DATETIME_FORMAT, base=old_style)}"'
    duration_attr = f' s="{styles.style_for(cells.DURATION_FORMAT, base=old_style)}"'
    return cells.value_tail(value, "", date_attr, duration_attr)


def drop_calc_chain_of(pkg: xp.Package, sheet_ids: set[int]) -> None:
    """Remove calcChain.xml if it lists cells of a rewritten sheet; Excel rebuilds it on open."""
    book = xp.workbook_part(pkg)
    rel = next((r for r in xp.read_rels(pkg, book) if r.type == xp.REL_CALC_CHAIN), None)
    if rel is None or not pkg.has(rel.part):
        return
    current, referenced = 0, set()
    for c in ET.fromstring(pkg.data(rel.part)).iter(f"{{{xp.MAIN_NS}}}c"):
        current = int(c.get("i", current))  # i is omitted while it stays the same
        referenced.add(current)
    if referenced & sheet_ids:
        pkg.remove(rel.part)
        xp.remove_rel(pkg, book, rel.id)
        xp.remove_override(pkg, rel.part)
