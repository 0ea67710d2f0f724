"""The member's pivot tables fed by our tables, after a refresh through Excel: the headless writer's rule
(xlsx/pivot_caches.py) applied to the open workbook.

A pivot table shows its cache, a copy of its source taken when it was last refreshed, and Excel refreshes
none by itself. So after the live writer has written the tables, each pivot whose source is one of our
tables (by its name, as Excel sources a pivot made from inside a table) or a range on a sheet holding one
is refreshed, as the headless writer marks those caches to refresh on opening. A range source that was
the whole old table (its first cell the table's, its last row the table's: LibreOffice's pivots, Excel's
dialog on a selected range) would count only the old rows: it is pointed at the table itself (its name)
when it took every column, or at the grown rows of the columns it took. Any other range on our sheets
keeps its rows; a pivot on the member's own sheets or on another workbook is not touched.

xlwings 0.37.8 lists pivots (`sheet.pivot_tables`) and refreshes them (`pivot.refresh()`) but has no call
for a pivot's source; Excel's object model has it, through `pivot.api`: `PivotTable.SourceData` on
Windows (COM), the pivot's `source data` property on a Mac (appscript). Excel answers a range in R1C1
("Workouts!R1C1:R251C18"); A1 is read too, and a range is written back in the style it was read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries

from pelotonxl.xlsx.pivot_caches import grown_range  # the one rule for a range that follows the table

if TYPE_CHECKING:
    import xlwings as xw

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TablePlace:
    """Where one of our tables was before this refresh wrote it and where it is now (A1 refs)."""

    table: str
    sheet: str
    old: str | None  # None: the table is new
    new: str


@dataclass(frozen=True)
class Source:
    """A pivot's source as Excel states it: a range on a sheet, or a name (a table's or a defined name)."""

    book: str | None  # the workbook named in brackets, if any
    sheet: str | None
    ref: str | None  # A1, without $
    name: str | None
    r1c1: bool = False
    prefix: str = ""  # the text before "!", as read


_PREFIX = re.compile(r"^(?P<prefix>'(?:[^']|'')+'|[^'!]+)!(?P<ref>[^!]+)$")
_BOOK = re.compile(r"^(?:.*[\\/])?\[(?P<book>[^\]]+)\](?P<rest>.*)$")
_R1C1 = re.compile(r"^R(\d+)C(\d+)(?::R(\d+)C(\d+))?$", re.IGNORECASE)
_WHOLE_LINES = re.compile(r"^(?:C\d+(?::C\d+)?|R\d+(?::R\d+)?)$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_\\][\w.]*$")
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$", re.IGNORECASE)


def parse_source(text: object) -> Source | None:
    """A pivot's source text -> Source; None for what is no worksheet source (external data, OLAP)."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip().lstrip("=")
    match = _PREFIX.match(text)
    if match is None:  # a bare name: "Workouts", "Workouts[#All]", "[Book.xlsm]Workouts[#All]"
        book = _BOOK.match(text)
        rest = book.group("rest") if book else text
        return Source(book.group("book") if book else None, None, None, rest.split("[", 1)[0].strip())
    prefix, ref = match.group("prefix"), match.group("ref").strip()
    where = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
    book = _BOOK.match(where)
    named, sheet = (book.group("book"), book.group("rest")) if book else (None, where)
    if _WHOLE_LINES.match(ref):  # "C1:C18" is whole columns in R1C1, which Excel answers: kept as it is
        return Source(named, sheet, None, None)
    if r1c1 := _R1C1.match(ref):
        top, left = int(r1c1.group(1)), int(r1c1.group(2))
        bottom, right = int(r1c1.group(3) or top), int(r1c1.group(4) or left)
        return Source(
            named, sheet, f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}", None, True, prefix
        )
    if cells := _A1.match(ref):
        first, last = (
            cells.group(1) + cells.group(2),
            (cells.group(3) or cells.group(1)) + (cells.group(4) or cells.group(2)),
        )
        return Source(named, sheet, f"{first}:{last}".upper(), None, False, prefix)
    if "[" in ref or _NAME.match(ref):  # a structured reference ("Workouts[#All]") or a defined name
        return Source(named, sheet, None, ref.split("[", 1)[0].strip())
    return Source(named, sheet, None, None)  # no range we read: kept as it is


def plan(source: Source, places: list[TablePlace], book_name: str) -> tuple[bool, str | None]:
    """(is the pivot fed by our tables, the source to give it or None to keep its own)."""
    if source.book is not None and source.book.casefold() != book_name.casefold():
        return False, None  # another workbook's
    if source.name is not None:
        return any(p.table.casefold() == source.name.casefold() for p in places), None
    place = next((p for p in places if source.sheet and p.sheet.casefold() == source.sheet.casefold()), None)
    if place is None:
        return False, None  # a range on the member's own sheet
    if source.ref is None or place.old is None or (grown := grown_range(source.ref, place.old, place.new)) is None:
        return True, None  # rows the member picked, or already right
    if range_boundaries(source.ref)[2] == range_boundaries(place.old)[2]:
        return True, place.table  # every column of the table: the table itself, which follows it from now on
    return True, _written(source, grown)


def _written(source: Source, a1: str) -> str:
    """A range in the style its source was read in, after the same sheet prefix."""
    first, last = a1.split(":")
    if not source.r1c1:
        return f"{source.prefix}!" + ":".join(_absolute(cell) for cell in (first, last))
    left, top = _cell(first)
    right, bottom = _cell(last)
    return f"{source.prefix}!R{top}C{left}:R{bottom}C{right}"


def _cell(a1: str) -> tuple[int, int]:
    letters = a1.rstrip("0123456789")
    return column_index_from_string(letters), int(a1[len(letters) :])


def _absolute(a1: str) -> str:
    letters = a1.rstrip("0123456789")
    return f"${letters}${a1[len(letters) :]}"


def _on_a_mac(native: Any) -> bool:
    """appscript's reference (a Mac) rather than a COM object (Windows), by the names each answers to."""
    return hasattr(native, "source_data") and not hasattr(native, "SourceData")


def read_source(native: Any) -> object:
    return native.source_data.get() if _on_a_mac(native) else native.SourceData


def set_source(native: Any, text: str) -> None:
    if _on_a_mac(native):
        native.source_data.set(text)
    else:
        native.SourceData = text


def refresh_pivots(book: xw.Book, places: list[TablePlace]) -> list[str]:
    """Refresh each pivot fed by our tables (re-pointed first when its range was the whole old table);
    returns "Sheet!Pivot" for each refreshed. A pivot Excel cannot refresh (it would grow over cells
    it may not overwrite, or Excel refused) is named in a warning and left as it was: the tables are written."""
    if not places:
        return []
    refreshed = []
    for sheet in book.sheets:
        try:
            pivots = list(sheet.pivot_tables)
        except Exception:  # noqa: BLE001 - a sheet Excel will not list pivots of has none of ours
            log.debug("no pivot tables listed on %s", sheet.name, exc_info=True)
            continue
        for pivot in pivots:
            name = "?"
            try:
                name = pivot.name
                where = f"{sheet.name}!{name}"
                native = pivot.api
                source = parse_source(read_source(native))
                ours, new = plan(source, places, book.name) if source is not None else (False, None)
                if not ours:
                    continue
                if new is not None:
                    set_source(native, new)
                    log.info("the pivot table %s now reads %s", where, new)
                pivot.refresh()
                refreshed.append(where)
            except Exception as exc:  # noqa: BLE001 - the member's pivot: never fail the written refresh
                log.debug("pivot %s on %s", name, sheet.name, exc_info=True)
                log.warning(
                    "The pivot table %s on %s was not refreshed (%s): Data → Refresh All refreshes it.",
                    name,
                    sheet.name,
                    " ".join(str(exc).split())[:120] or type(exc).__name__,
                )
    return refreshed
