"""Sheets the refresh draws whole (Dashboard, Dashboard Data, Ride, Ride Data): what a member typed on
them is never dropped silently.

Each refresh records, in a hidden workbook name per sheet, the areas it wrote. A cell with a value
outside those areas on the next refresh is the member's: the refresh refuses before touching the file
and names the cells. A workbook from before this record existed has no record: its first refresh
writes one and checks nothing (nothing told the member's cells from ours then).

Each drawn sheet is also recognised by a second hidden name, a reference to its cell A1
(`sheet_record_name`): Excel and LibreOffice rewrite references when a sheet is renamed, so a renamed
Dashboard is still the one the refresh draws (in place, not beside a new "Dashboard"). The records keep
the sheet's own name (`Dashboard`) as their key.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.cells import area_bounds

if TYPE_CHECKING:  # the pre-write checks import this module: a refresh with nothing new loads neither
    from pelotonxl.model.dashboard_layout import Rect  # pandas nor openpyxl for it

LISTED = 10  # cells named in the refusal; the rest are counted


def record_name(sheet: str) -> str:
    return f"PelotonXL_{re.sub(r'[^A-Za-z0-9_]', '_', sheet)}_Cells"


def sheet_record_name(sheet: str) -> str:
    return f"PelotonXL_{re.sub(r'[^A-Za-z0-9_]', '_', sheet)}_Sheet"


def sheet_reference(name: str) -> str:
    """The record's value: `name`'s cell A1, quoted as a formula quotes a sheet name."""
    return "'" + name.replace("'", "''") + "'!$A$1"


def sheet_in(reference: str | None) -> str | None:
    """The sheet a record's reference names (None for #REF!, after the sheet was deleted)."""
    match = re.fullmatch(r"=?(?:'((?:[^']|'')+)'|([^'!]+))!\$?A\$?1", (reference or "").strip())
    if match is None:
        return None
    return match.group(1).replace("''", "'") if match.group(1) else match.group(2)


def recorded(pkg: xp.Package, sheet: str) -> xp.SheetEntry | None:
    """The sheet the record of `sheet` points at, whatever the member renamed it to; None without one."""
    name = sheet_in(xp.defined_names(pkg).get(sheet_record_name(sheet)))
    return xp.find_sheet(pkg, name) if name else None


def find(pkg: xp.Package, sheet: str) -> xp.SheetEntry | None:
    """The sheet drawn as `sheet` (Dashboard, Ride…): the recorded one, else the sheet of that name."""
    return recorded(pkg, sheet) or xp.find_sheet(pkg, sheet)


def record_sheet(pkg: xp.Package, sheet: str, name: str) -> None:
    """Remember that the sheet drawn as `sheet` is now called `name`."""
    xp.set_hidden_name(pkg, sheet_record_name(sheet), sheet_reference(name))


def check_members_cells(pkg: xp.Package, sheet: str, old_xml: str | None) -> None:
    """Raise WorkbookError naming the cells with a value outside the areas the last refresh wrote."""
    formula = xp.defined_names(pkg).get(record_name(sheet))
    if formula is not None and old_xml:
        refuse_outside(sheet, areas_of(formula), _cells_with_values(old_xml))


def refuse_outside(sheet: str, areas: list[tuple[int, int, int, int]], cells: list[tuple[str, int, int]]) -> None:
    """The check itself, for either writer: `cells` are (ref, row, column) of the cells with a value."""
    theirs = [
        ref for ref, row, col in cells if not any(c0 <= col <= c1 and r0 <= row <= r1 for c0, r0, c1, r1 in areas)
    ]
    if theirs:
        listed = ", ".join(theirs[:LISTED]) + (f" and {len(theirs) - LISTED} more" if len(theirs) > LISTED else "")
        raise WorkbookError(
            f"{sheet}!{listed}: a refresh redraws the {sheet} sheet; move them to your own sheet, then refresh again."
        )


def areas_formula(rects: list[Rect]) -> str:
    """The record's value: an array constant of the areas written, {"B2:E11","B13:I30",...}."""
    areas = [f"{_letters(r.col)}{r.row}:{_letters(r.last_col)}{r.last_row}" for r in rects if r.cells]
    return "{" + ",".join(f'"{a}"' for a in areas) + "}"


def areas_of(formula: str) -> list[tuple[int, int, int, int]]:
    """(min col, min row, max col, max row) of each area in a record's value."""
    return [area_bounds(area) for area in re.findall(r'"([A-Z]+\d+:[A-Z]+\d+)"', formula)]


def record_areas(pkg: xp.Package, sheet: str, rects: list[Rect]) -> None:
    """Remember the areas this refresh wrote on `sheet`, for the next refresh's check."""
    xp.set_hidden_name(pkg, record_name(sheet), areas_formula(rects))


def _cells_with_values(sheet_xml: str) -> list[tuple[str, int, int]]:
    try:
        root = ET.fromstring(sheet_xml.encode())
    except ET.ParseError:  # a damaged sheet holds nothing readable to keep: redrawn, as a data sheet is rebuilt
        return []
    found = []
    for cell in root.iter(f"{{{xp.MAIN_NS}}}c"):
        ref = cell.get("r")
        has_value = any(
            child.tag.rsplit("}", 1)[-1] in ("v", "f", "is") and ("".join(child.itertext()) or child.tag.endswith("}f"))
            for child in cell
        )
        if ref and has_value:
            found.append((ref, *_row_and_column(ref)))
    return found


def _letters(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


def _row_and_column(ref: str) -> tuple[int, int]:
    from openpyxl.utils.cell import coordinate_to_tuple

    return coordinate_to_tuple(ref)
