"""The headless workbook writer, used when Excel is not running.

A member's workbook holds things they built: charts, pivots, shapes, sparklines, other sheets, the
VBA project, the ribbon. An openpyxl load+save rewrites every part and drops some of them, so this
module opens the .xlsm as a zip and replaces only the parts it owns (the Workouts and Metrics
worksheets and their tables, the Dashboard, the Config status cells, appended number-format styles,
the refresh-on-open marks of pivot caches fed by its tables),
copies every other entry unchanged, and saves atomically.
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import CellCoordinatesException

from pelotonxl.model.workbook import (
    DEFAULT_PRINT_FIT,
    FITNESS_SHEET,
    PRINT_FIT,
    TABLE_SHEETS,
    TABLE_STYLE,
    WorkbookContent,
    follow_renamed,
)
from pelotonxl.xlsx import (
    dashboard_sheet,
    member_columns,
    pivot_caches,
    ride_sheet,
    safety,
    sheet_comments,
    status_cells,
    table_sheet,
    table_view,
)
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.config_sheet import _NS
from pelotonxl.xlsx.config_sheet import _shared_strings as shared_strings
from pelotonxl.xlsx.styles import StyleBook

if TYPE_CHECKING:
    from pelotonxl.model.tables import SheetTable


OWNED_SHEETS = (*TABLE_SHEETS, FITNESS_SHEET)


log = logging.getLogger(__name__)


@dataclass
class WriteReport:
    rows_written: dict[str, int]
    seconds: float
    notes_dropped: int = 0  # workouts gone from Peloton whose notes went with them (--full only)


def check_writable(path: Path | str) -> list[int]:
    """Raise WorkbookError (one actionable line) unless a refresh can safely write the workbook."""
    return status_cells.check_writable(path)


def write_tables(path: Path | str, content: WorkbookContent, *, checked: bool = False) -> WriteReport:
    """Replace the content's sheets and the Config status cells; everything else stays as it was.

    A Dashboard in `content` regenerates the Dashboard sheet, its charts and its data sheet. `checked`: the
    file is as `check_writable` passed it (see `safety.save_atomically`)."""
    started = time.perf_counter()
    path = Path(path)
    tables, board = content.tables, content.dashboard
    safety.remove_stale_temps(path)
    ride = content.ride
    safety.check_workbook(
        path,
        [t.name for t in tables]
        + ([board.name, board.data_sheet] if board else [])
        + (list(ride_sheet.OWNED_SHEETS) if ride else []),
        own_charts={**({board.name: board.data_sheet} if board else {}), **(ride_sheet.owned_charts() if ride else {})},
        notes_move=[t.name for t in tables],
    )
    with xp.open_package(path) as pkg:
        styles_part = status_cells.styles_part_of(pkg)
        styles = StyleBook(pkg.text(styles_part))
        written = [_write_table(pkg, styles, table, content.full, content.renamed_ids) for table in tables]
        written_ids = {sheet_id for sheet_id, _, _ in written}
        if board is not None:
            written_ids |= dashboard_sheet.write_dashboard(pkg, styles, board)
        if ride is not None:
            written_ids |= ride_sheet.write_ride(pkg, styles, ride.view)
        rows = {t.name: len(t.frame) for t in tables}
        dropped = max((n for _, n, _ in written), default=0)
        config_id = status_cells.write_status(pkg, styles, content.status, dropped)
        if content.stamp is not None:
            status_cells.set_stamp(pkg, content.stamp)
        pkg.put(styles_part, styles.xml)
        xp.ensure_full_calc_on_load(pkg)
        pivot_caches.refresh_on_open(
            pkg,
            [t.name for t in tables],
            [s.name for t in tables if (s := xp.sheet_for_table(pkg, t.name))],
            {sheet: refs for _, _, (sheet, refs) in written if refs is not None},
        )
        status_cells.drop_calc_chain_of(pkg, written_ids | ({config_id} if config_id else set()))
        safety.save_atomically(pkg, path, checked=checked)
    return WriteReport(rows, time.perf_counter() - started, dropped)


def _write_table(
    pkg: xp.Package, styles: StyleBook, table: SheetTable, drop_orphans: bool, renamed: dict[str, str]
) -> tuple[int, int, tuple[str, tuple[str, str] | None]]:
    """Regenerate one table's worksheet and table parts, creating them if missing, with the member's
    columns and cells carried over; returns the sheetId, how many workouts' notes were dropped, and the
    sheet's name with the table's old and new ref (None for a new table)."""
    sheet = xp.sheet_for_table(pkg, table.name) or xp.add_sheet(
        pkg, table.name, pkg.unused_name("xl/worksheets/sheet{}.xml")
    )
    if sheet.name.casefold() != table.name.casefold():
        log.info("the %s table is on the sheet %r: refreshed it there", table.name, sheet.name)
    old_sheet = pkg.text(sheet.part) if pkg.has(sheet.part) else None
    table_part = xp.table_part_of(pkg, sheet)
    if table_part:
        rel_id = next(r.id for r in xp.read_rels(pkg, sheet.part) if r.part == table_part)
        old = ET.fromstring(pkg.data(table_part))
        table_id, name = int(old.get("id", "1")), old.get("name") or table.name
        style_info = old.find("m:tableStyleInfo", _NS)
        style = style_info.get("name", TABLE_STYLE) if style_info is not None else TABLE_STYLE
    else:
        table_part = pkg.unused_name("xl/tables/table{}.xml")
        rel_id = xp.add_rel(pkg, sheet.part, xp.REL_TABLE, table_part)
        xp.add_override(pkg, table_part, xp.CT_TABLE)
        table_id, name, style = _unused_table_id(pkg), _unused_table_name(pkg, table.name), TABLE_STYLE
    old_table = pkg.data(table_part) if pkg.has(table_part) else None
    old_ref = ET.fromstring(old_table).get("ref") if old_table is not None else None
    ours = table_sheet.table_column_names(table.frame.columns)
    comments = sheet_comments.find(pkg, sheet.part)
    view = table_view.read(old_sheet, old_table, member_columns.recorded_order(pkg, table.name))
    try:
        member = member_columns.read_kept(
            old_sheet,
            old_table,
            table.name,
            ours,
            lambda: shared_strings(pkg),
            member_columns.recorded_columns(pkg, table.name),
            rows_wanted=bool(comments.refs or view.hidden_rows or view.filters),
            sheet_name=sheet.name,
        )
    except ET.ParseError:  # a damaged part holds nothing readable to keep: rebuilt from the store
        log.warning("the %s sheet could not be read: rebuilt from the local store", sheet.name)
        member = None
    except (ValueError, CellCoordinatesException):  # well-formed, but a cell reference no program writes
        raise xp.damaged(pkg.path, f"{sheet.part} cannot be read back") from None
    for column in member.columns if member is not None else ():
        column.cells = follow_renamed(column.cells, renamed)  # notes typed on a CSV row go to the API's
    try:
        made = table_sheet.worksheet_xml(
            table.frame,
            table.number_formats,
            table.widths,
            styles,
            rel_id,
            table_sheet.KeptSheetBits.from_xml(old_sheet),
            member,
            drop_orphans=drop_orphans,
            sheet_name=sheet.name,
            old_bottom=range_boundaries(old_ref)[3] if old_ref else None,
            print_fit=PRINT_FIT.get(table.name, DEFAULT_PRINT_FIT),
            commented=comments.refs,
            legacy_drawing=comments.legacy_drawing,
            view=view,
        )
    except CellCoordinatesException:  # a comment on "#REF!" or row 0
        raise xp.damaged(pkg.path, f"the comments of {sheet.part} cannot be read back") from None
    xml, drawing = made.xml, comments.legacy_drawing
    if (comments.refs or drawing) and not sheet_comments.move(pkg, sheet.part, comments, made.comment_moves):
        xml = xml.replace(drawing or "", "", 1)  # every note went with its workout: so did their drawing
    pkg.put(sheet.part, xml)
    xp.set_print_titles(pkg, sheet.name, "$1:$1")
    pkg.put(
        table_part,
        table_sheet.table_xml(
            table_id, name, made.ref, ours, style, made.table_columns, made.auto_filter, made.sort_state
        ),
    )
    member_columns.record_columns(pkg, table.name, ours)
    if made.orphan_ids:
        log.info(
            "%s: %d workouts no longer on Peloton have your notes%s",
            table.name,
            len(made.orphan_ids),
            " (dropped: --full)" if drop_orphans else " (kept at the bottom of the table)",
        )
    refs = (old_ref, made.ref) if old_ref else None
    return sheet.sheet_id, (len(made.orphan_ids) if drop_orphans else 0), (sheet.name, refs)


def _all_tables(pkg: xp.Package) -> list[ET.Element]:
    return [
        ET.fromstring(pkg.data(n))
        for n in pkg.names()
        if n.startswith("xl/tables/") and n.endswith(".xml") and "/_rels/" not in n
    ]


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
