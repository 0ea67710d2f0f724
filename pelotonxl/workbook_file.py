"""The headless workbook writer and Config reader, used when Excel is not running.

A member's workbook holds things they built: charts, pivots, shapes, sparklines, other sheets, the
VBA project, the ribbon. An openpyxl load+save rewrites every part and drops some of them, so this
module opens the .xlsm as a zip and replaces only the parts it owns (the Workouts and Metrics
worksheets and their tables, the Config status cells, appended number-format styles), copies every
other entry unchanged, and saves atomically.
"""

from __future__ import annotations

import math
import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import dashboard_parts, safe_write
from . import sheet_xml as sx
from . import xlsx_parts as xp
from .dashboard import DATA_SHEET, SHEET as DASHBOARD_SHEET, Dashboard, chart_names
from .errors import WorkbookError
from .settings import FIELD_BY_NAME, STATUS_NAMES, field_for_label

if TYPE_CHECKING:
    from .tables import SheetTable

OWNED_SHEETS = ("Workouts", "Metrics")
CONFIG_SHEET = "Config"
_NS = {"m": xp.MAIN_NS}
_TAG = "{%s}%%s" % xp.MAIN_NS

log = logging.getLogger(__name__)


@dataclass
class WriteReport:
    rows_written: dict[str, int]
    seconds: float


# --- reading the Config sheet -----------------------------------------------------------------

def read_config(path) -> dict[str, str]:
    """Field name -> the text of its Config value cell (column B beside the label in column A)."""
    with xp.open_package(Path(path)) as pkg:
        try:
            cells = _config_cells(pkg)
        except (ET.ParseError, ValueError, IndexError) as err:
            raise WorkbookError(f"The Config sheet of {Path(path).name} cannot be read ({err}): "
                                "open and save the workbook in Excel, then try again.") from None
    if cells is None:
        return {}
    return {field_for_label(label): text for label, (_, text) in cells.items() if field_for_label(label)}


def _config_cells(pkg: xp.Package) -> dict[str, tuple[int, str]] | None:
    """Column-A label (trimmed, case-folded) -> (row, column-B text); None without a Config sheet."""
    sheet = xp.find_sheet(pkg, CONFIG_SHEET)
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
        for c in row.iter(_TAG % "c"):
            col, r = sx.split_ref(c.get("r", "A0"))
            if col in ("A", "B"):
                by_row.setdefault(r, {})[col] = _cell_text(c, shared_strings)
    return {cells["A"].strip().casefold(): (r, cells.get("B", "")) for r, cells in by_row.items()
            if cells.get("A", "").strip()}


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


def _cell_text(c: ET.Element, shared_strings) -> str:
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


# --- checks ------------------------------------------------------------------------------------

def check_writable(path) -> None:
    """Raise WorkbookError (one actionable line) unless a refresh can safely write the workbook."""
    safe_write.check_workbook(Path(path), (*OWNED_SHEETS, DASHBOARD_SHEET, DATA_SHEET),
                              own_charts={DASHBOARD_SHEET: chart_names()})


# --- writing -----------------------------------------------------------------------------------

def write_tables(path, tables: list["SheetTable | Dashboard"], status: dict[str, object]) -> WriteReport:
    """Replace the tables' sheets and the Config status cells; everything else stays as it was.

    A Dashboard among `tables` regenerates the Dashboard sheet, its charts and its data sheet."""
    started = time.perf_counter()
    path = Path(path)
    unknown = set(status) - set(STATUS_NAMES)
    if unknown:
        raise ValueError(f"unknown status keys: {sorted(unknown)}")
    boards = [t for t in tables if isinstance(t, Dashboard)]
    tables = [t for t in tables if not isinstance(t, Dashboard)]
    safe_write.remove_stale_temps(path)
    safe_write.check_workbook(path, [t.name for t in tables] + [n for b in boards for n in (b.name, b.data_sheet)],
                              own_charts={b.name: chart_names() for b in boards})
    with xp.open_package(path) as pkg:
        styles_part = _styles_part(pkg)
        styles = sx.StyleBook(pkg.text(styles_part))
        written_ids = {_write_table(pkg, styles, table) for table in tables}
        for board in boards:
            written_ids |= dashboard_parts.write_dashboard(pkg, styles, board)
        rows = {t.name: len(t.frame) for t in tables}
        config_id = _write_status(pkg, styles, status)
        pkg.put(styles_part, styles.xml)
        xp.ensure_full_calc_on_load(pkg)
        _drop_calc_chain_of(pkg, written_ids | ({config_id} if config_id else set()))
        safe_write.save_atomically(pkg, path)
    return WriteReport(rows, time.perf_counter() - started)


def remove_config_value(path, field_name: str) -> bool:
    """Blank one Config value cell (e.g. a password typed into the sheet). True if it held something.

    A shared string the cell used is blanked too when no other cell uses it, so the text is gone
    from the file and not just hidden."""
    path = Path(path)
    label = FIELD_BY_NAME[field_name].label.strip().casefold()
    safe_write.remove_stale_temps(path)
    safe_write.check_workbook(path, ())
    with xp.open_package(path) as pkg:
        cells = _config_cells(pkg) or {}
        if not cells.get(label, (0, ""))[1]:
            return False
        sheet = xp.find_sheet(pkg, CONFIG_SHEET)
        ref = f"B{cells[label][0]}"
        xml = pkg.text(sheet.part)
        old = sx.get_cell(xml, ref).group(0)
        pkg.put(sheet.part, sx.set_cell(xml, ref, None))
        shared = re.search(r'\bt="s"[^>]*>\s*<(?:\w+:)?v>(\d+)<', old)
        if shared:
            _blank_unused_shared_string(pkg, int(shared.group(1)))
        safe_write.save_atomically(pkg, path)
    return True


def _styles_part(pkg: xp.Package) -> str:
    rel = next((r for r in xp.read_rels(pkg, xp.workbook_part(pkg)) if r.type == xp.REL_STYLES), None)
    if rel is None or not pkg.has(rel.part):
        raise WorkbookError("The workbook has no styles part: open and save it in Excel once, then refresh.")
    return rel.part


def _write_table(pkg: xp.Package, styles: sx.StyleBook, table: "SheetTable") -> int:
    """Regenerate one table's worksheet and table parts, creating them if missing; returns the sheetId."""
    sheet = xp.sheet_for_table(pkg, table.name) or xp.add_sheet(
        pkg, table.name, pkg.unused_name("xl/worksheets/sheet{}.xml"))
    if sheet.name.casefold() != table.name.casefold():
        log.info("the %s table is on the sheet %r: refreshed it there", table.name, sheet.name)
    old_sheet = pkg.text(sheet.part) if pkg.has(sheet.part) else None
    table_part = xp.table_part_of(pkg, sheet)
    if table_part:
        rel_id = next(r.id for r in xp.read_rels(pkg, sheet.part) if r.part == table_part)
        old = ET.fromstring(pkg.data(table_part))
        table_id, name = int(old.get("id", "1")), old.get("name") or table.name
        style_info = old.find("m:tableStyleInfo", _NS)
        style = style_info.get("name", sx.TABLE_STYLE) if style_info is not None else sx.TABLE_STYLE
    else:
        table_part = pkg.unused_name("xl/tables/table{}.xml")
        rel_id = xp.add_rel(pkg, sheet.part, xp.REL_TABLE, table_part)
        xp.add_override(pkg, table_part, xp.CT_TABLE)
        table_id, name, style = _unused_table_id(pkg), _unused_table_name(pkg, table.name), sx.TABLE_STYLE
    xml, ref = sx.worksheet_xml(table.frame, table.number_formats, table.widths, styles, rel_id,
                                sx.KeptSheetBits.from_xml(old_sheet))
    pkg.put(sheet.part, xml)
    pkg.put(table_part, sx.table_xml(table_id, name, ref, sx.table_column_names(table.frame.columns), style))
    return sheet.sheet_id


def _all_tables(pkg: xp.Package) -> list[ET.Element]:
    return [ET.fromstring(pkg.data(n)) for n in pkg.names()
            if n.startswith("xl/tables/") and n.endswith(".xml") and "/_rels/" not in n]


def _unused_table_id(pkg: xp.Package) -> int:
    return max([int(t.get("id", "0")) for t in _all_tables(pkg)], default=0) + 1


def _unused_table_name(pkg: xp.Package, wanted: str) -> str:
    base = re.sub(r"[^\w.]", "_", wanted) or "Table"
    if not re.match(r"[A-Za-z_\\]", base):
        base = "_" + base
    taken = {t.get("name", "").casefold() for t in _all_tables(pkg)} | {n.casefold() for n in xp.defined_names(pkg)}
    name, n = base, 2
    while name.casefold() in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _write_status(pkg: xp.Package, styles: sx.StyleBook, status: dict[str, object]) -> int | None:
    """Write status values into the cells their defined names point at; returns the sheetId edited."""
    names = xp.defined_names(pkg)
    edited = None
    for key, value in status.items():
        target = _single_cell(names.get(STATUS_NAMES[key][0], ""))
        sheet = xp.find_sheet(pkg, target[0]) if target else None
        if sheet is None or not sheet.is_worksheet:
            continue   # the member removed the name or its sheet: nothing to update
        xml = pkg.text(sheet.part)
        pkg.put(sheet.part, sx.set_cell(xml, target[1], _status_tail(value, styles, sx.cell_style(xml, target[1]))))
        edited = sheet.sheet_id
    return edited


def _single_cell(formula: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"=?(?:'((?:[^']|'')+)'|([^!'\s]+))!(\$?[A-Za-z]{1,3}\$?\d+)", formula.strip())
    if not match:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
    return sheet, match.group(3).replace("$", "").upper()


def _status_tail(value: object, styles: sx.StyleBook, old_style: int) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    date_attr = f' s="{styles.style_for(sx.DATETIME_FORMAT, base=old_style)}"'
    duration_attr = f' s="{styles.style_for(sx.DURATION_FORMAT, base=old_style)}"'
    return sx.value_tail(value, "", date_attr, duration_attr)


def _drop_calc_chain_of(pkg: xp.Package, sheet_ids: set[int]) -> None:
    """Remove calcChain.xml if it lists cells of a rewritten sheet; Excel rebuilds it on open."""
    book = xp.workbook_part(pkg)
    rel = next((r for r in xp.read_rels(pkg, book) if r.type == xp.REL_CALC_CHAIN), None)
    if rel is None or not pkg.has(rel.part):
        return
    current, referenced = 0, set()
    for c in ET.fromstring(pkg.data(rel.part)).iter(_TAG % "c"):
        current = int(c.get("i", current))   # i is omitted while it stays the same
        referenced.add(current)
    if referenced & sheet_ids:
        pkg.remove(rel.part)
        xp.remove_rel(pkg, book, rel.id)
        xp.remove_override(pkg, rel.part)


def _blank_unused_shared_string(pkg: xp.Package, index: int) -> None:
    used = re.compile(rb'<(?:\w+:)?c\b[^>]*\bt="s"[^>]*>\s*<(?:\w+:)?v>%d<' % index)
    if any(used.search(pkg.data(s.part)) for s in xp.list_sheets(pkg) if s.is_worksheet and pkg.has(s.part)):
        return
    rel = next(r for r in xp.read_rels(pkg, xp.workbook_part(pkg)) if r.type == xp.REL_SHARED_STRINGS)
    xml = pkg.text(rel.part)
    items = list(re.finditer(r"<(\w+:)?si\b[^>]*?/>|<(\w+:)?si\b.*?</(?:\w+:)?si>", xml, re.S))
    prefix = items[index].group(1) or items[index].group(2) or ""
    pkg.put(rel.part, xml[:items[index].start()] + f"<{prefix}si><{prefix}t></{prefix}t></{prefix}si>"
            + xml[items[index].end():])


