"""Pivot tables the member built on our tables: rebuilt when the workbook opens, over every workout.

A pivot table shows its cache, a copy of the source taken when it was last refreshed. After a refresh of
the file, a pivot of the Workouts table would show last time's workouts until the member thought of
Data → Refresh All. So each pivot cache whose source is one of the tables this refresh wrote (by name, as
Excel sources a pivot made from inside a table), or a range on one of its sheets, is marked
`refreshOnLoad="1"`: Excel (and LibreOffice) refresh it on opening.

A range source that was the whole old table (its first cell the table's, its last row the table's, as
LibreOffice and Excel's dialog make it) follows the table: its last row becomes the grown table's, so the
rebuilt pivot counts the new workouts too. Its columns stay the member's choice. Any other range on our
sheets (a few rows the member picked) is the member's own and keeps its rows. The mark and the grown
range are the only changes to the member's parts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries

from pelotonxl.xlsx import package as xp

REL_PIVOT_CACHE = xp.REL_NS + "/pivotCacheDefinition"


def refresh_on_open(
    pkg: xp.Package,
    tables: Iterable[str],
    sheets: Iterable[str],
    grown: Mapping[str, tuple[str, str]] | None = None,
) -> list[str]:
    """Mark the pivot caches fed by `tables` or by ranges on `sheets`; returns the parts changed now.
    `grown`: sheet name -> (the table's old ref, its new ref), for range sources that follow the table."""
    table_names = {name.casefold() for name in tables}
    sheet_names = {name.casefold() for name in sheets}
    refs = {name.casefold(): pair for name, pair in (grown or {}).items()}
    changed = []
    for rel in xp.read_rels(pkg, xp.workbook_part(pkg)):
        if rel.type != REL_PIVOT_CACHE or not pkg.has(rel.part):
            continue
        xml = pkg.text(rel.part)
        source = re.search(r"<(?:\w+:)?worksheetSource\b[^>]*>", xml)
        if source is None:  # external data, a consolidation, a scenario: not ours
            continue
        # As the XML says them: a sheet named "Rides & Runs" is sheet="Rides &amp; Runs".
        where = {key: html.unescape(value) for key, value in xp.attrs_of(source.group(0)).items()}
        if "r:id" in where:  # a range in another workbook
            continue
        sheet = where.get("sheet", "").casefold()
        ours = where.get("name", "").casefold() in table_names if "name" in where else sheet in sheet_names
        if not ours:
            continue
        new = xml
        if "ref" in where and sheet in refs and (ref := grown_range(where["ref"], *refs[sheet])) is not None:
            new = new[: source.start()] + xp.set_attr(source.group(0), "ref", ref) + new[source.end() :]
        root = re.search(r"<(?:\w+:)?pivotCacheDefinition\b[^>]*>", new)
        if root is not None and xp.attrs_of(root.group(0)).get("refreshOnLoad") not in ("1", "true"):
            new = new[: root.start()] + xp.set_attr(root.group(0), "refreshOnLoad", "1") + new[root.end() :]
        if new != xml:
            pkg.put(rel.part, new)
            changed.append(rel.part)
    return changed


def grown_range(ref: str, old_table: str, new_table: str) -> str | None:
    """The range a pivot's source `ref` should have now that the table went from `old_table` to
    `new_table`; None when it keeps its own (not the whole old table, or already right)."""
    try:
        left, top, right, bottom = range_boundaries(ref.replace("$", ""))
        old_left, old_top, _, old_bottom = range_boundaries(old_table)
        _, _, _, new_bottom = range_boundaries(new_table)
    except (ValueError, TypeError):  # a name or a ref openpyxl cannot read: the member's
        return None
    if left is None or right is None or top is None or new_bottom is None:
        return None
    if (left, top, bottom) != (old_left, old_top, old_bottom) or bottom == new_bottom:
        return None
    return f"{get_column_letter(left)}{top}:{get_column_letter(right)}{new_bottom}"
