"""The Config sheet read headless: settings by their column-A labels, and blanking one value cell
(a password the member typed there) so its text is gone from the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import CONFIG_SHEET
from pelotonxl.settings import FIELD_BY_NAME, field_for_label
from pelotonxl.xlsx import cell_edit, safety
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.cell_edit import coordinate_from_string, get_column_letter

_NS = {"m": xp.MAIN_NS}


_TAG = f"{{{xp.MAIN_NS}}}%s"


def read_config(path: Path | str) -> dict[str, str]:
    """Field name -> the text of its Config value cell (column B beside the label in column A)."""
    with xp.open_package(Path(path)) as pkg:
        try:
            cells = label_cells(pkg)
        except (ET.ParseError, ValueError, IndexError) as err:
            raise WorkbookError(
                f"The Config sheet of {Path(path).name} cannot be read ({err}): "
                "open and save the workbook in Excel, then try again."
            ) from None
    if cells is None:
        return {}
    fields = {label: field_for_label(label) for label in cells}
    return {field: text for label, (_, text) in cells.items() if (field := fields[label])}


def label_cells(pkg: xp.Package, sheet_name: str = CONFIG_SHEET) -> dict[str, tuple[int, str]] | None:
    """Column-A label (trimmed, case-folded) -> (row, column-B text); None without that sheet (the
    Config sheet, or the xlwings.conf sheet, which is laid out the same way)."""
    sheet = xp.find_sheet(pkg, sheet_name)
    if sheet is None or not sheet.is_worksheet:
        return None
    shared: list[str] | None = None

    def shared_strings() -> list[str]:
        nonlocal shared
        if shared is None:
            shared = _shared_strings(pkg)
        return shared

    by_row: dict[int, dict[str, str]] = {}
    for row in ET.fromstring(pkg.data(sheet.part)).iter(_TAG % "row"):
        row_number = int(row.get("r", "0"))
        for position, c in enumerate(row.iter(_TAG % "c"), start=1):
            # r is optional in the file format: without it a cell's place is its position in the row.
            ref = c.get("r")
            col, r = coordinate_from_string(ref) if ref else (get_column_letter(position), row_number)
            if col in ("A", "B"):
                by_row.setdefault(r, {})[col] = _cell_text(c, shared_strings)
    return {
        cells["A"].strip().casefold(): (r, cells.get("B", ""))
        for r, cells in by_row.items()
        if cells.get("A", "").strip()
    }


def _shared_strings(pkg: xp.Package) -> list[str]:
    rel = next((r for r in xp.read_rels(pkg, xp.workbook_part(pkg)) if r.type == xp.REL_SHARED_STRINGS), None)
    if rel is None or not pkg.has(rel.part):
        return []
    return [_rich_text(si) for si in ET.fromstring(pkg.data(rel.part)).iter(_TAG % "si")]


def _rich_text(element: ET.Element) -> str:
    # Plain <t>, or runs <r><t>; phonetic hints (<rPh>) are not part of the text.
    texts = [t.text or "" for t in element.findall("m:t", _NS)]
    texts += [t.text or "" for t in element.findall("m:r/m:t", _NS)]
    return "".join(texts)


def _cell_text(c: ET.Element, shared_strings: Callable[[], list[str]]) -> str:
    kind = c.get("t", "n")
    if kind == "inlineStr":
        inline = c.find("m:is", _NS)
        return _rich_text(inline) if inline is not None else ""
    v = c.findtext("m:v", default=None, namespaces=_NS)
    if v is None or kind == "e":
        return ""
    if kind == "s":
        return shared_strings()[int(v)]
    if kind == "b":
        return "TRUE" if v.strip() in ("1", "true") else "FALSE"
    if kind == "n":
        try:
            number = float(v)
        except ValueError:
            return v
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
    return v


def remove_config_value(path: Path | str, field_name: str) -> bool:
    """Blank one Config value cell (e.g. a password typed into the sheet). True if it held something.

    A shared string the cell used is blanked too when no other cell uses it, so the text is gone
    from the file and not just hidden."""
    path = Path(path)
    label = FIELD_BY_NAME[field_name].label.strip().casefold()
    safety.remove_stale_temps(path)
    safety.check_workbook(path, ())
    with xp.open_package(path) as pkg:
        cells = label_cells(pkg) or {}
        if not cells.get(label, (0, ""))[1]:
            return False
        sheet = xp.find_sheet(pkg, CONFIG_SHEET)
        ref = f"B{cells[label][0]}"
        xml = pkg.text(sheet.part) if sheet else ""
        cell = cell_edit.get_cell(xml, ref)
        if sheet is None or cell is None:  # a cell without its r attribute: found by position only
            raise WorkbookError(
                f"The {field_name} in the Config sheet of {path.name} could not be removed: delete cell {ref} by hand."
            )
        old = cell.group(0)
        pkg.put(sheet.part, cell_edit.set_cell(xml, ref, None))
        shared = re.search(r'\bt="s"[^>]*>\s*<(?:\w+:)?v>(\d+)<', old)
        if shared:
            _blank_unused_shared_string(pkg, int(shared.group(1)))
        safety.save_atomically(pkg, path)
    return True


def _blank_unused_shared_string(pkg: xp.Package, index: int) -> None:
    used = re.compile(rb'<(?:\w+:)?c\b[^>]*\bt="s"[^>]*>\s*<(?:\w+:)?v>%d<' % index)
    if any(used.search(pkg.data(s.part)) for s in xp.list_sheets(pkg) if s.is_worksheet and pkg.has(s.part)):
        return
    rel = next(r for r in xp.read_rels(pkg, xp.workbook_part(pkg)) if r.type == xp.REL_SHARED_STRINGS)
    xml = pkg.text(rel.part)
    items = list(re.finditer(r"<(\w+:)?si\b[^>]*?/>|<(\w+:)?si\b.*?</(?:\w+:)?si>", xml, re.S))
    prefix = items[index].group(1) or items[index].group(2) or ""
    pkg.put(
        rel.part,
        xml[: items[index].start()] + f"<{prefix}si><{prefix}t></{prefix}t></{prefix}si>" + xml[items[index].end() :],
    )
