"""Pivot tables the member built on our tables: rebuilt when the workbook opens.

A pivot table shows its cache, a copy of the source taken when it was last refreshed. After a refresh of
the file, a pivot of the Workouts table would show last time's workouts until the member thought of
Data → Refresh All. So each pivot cache whose source is one of the tables this refresh wrote (by name, as
Excel sources a pivot made from inside a table), or a range on one of its sheets, is marked
`refreshOnLoad="1"`: Excel refreshes it on opening. The mark is the only change to the member's parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pelotonxl.xlsx import package as xp

REL_PIVOT_CACHE = xp.REL_NS + "/pivotCacheDefinition"


def refresh_on_open(pkg: xp.Package, tables: Iterable[str], sheets: Iterable[str]) -> list[str]:
    """Mark the pivot caches fed by `tables` or by ranges on `sheets`; returns the parts marked now."""
    table_names = {name.casefold() for name in tables}
    sheet_names = {name.casefold() for name in sheets}
    marked = []
    for rel in xp.read_rels(pkg, xp.workbook_part(pkg)):
        if rel.type != REL_PIVOT_CACHE or not pkg.has(rel.part):
            continue
        xml = pkg.text(rel.part)
        source = re.search(r"<(?:\w+:)?worksheetSource\b[^>]*>", xml)
        if source is None:  # external data, a consolidation, a scenario: not ours
            continue
        where = xp.attrs_of(source.group(0))
        if "r:id" in where:  # a range in another workbook
            continue
        ours = (
            where.get("name", "").casefold() in table_names
            if "name" in where
            else where.get("sheet", "").casefold() in sheet_names
        )
        root = re.search(r"<(?:\w+:)?pivotCacheDefinition\b[^>]*>", xml)
        if not ours or root is None or xp.attrs_of(root.group(0)).get("refreshOnLoad") in ("1", "true"):
            continue
        pkg.put(rel.part, xml[: root.start()] + xp.set_attr(root.group(0), "refreshOnLoad", "1") + xml[root.end() :])
        marked.append(rel.part)
    return marked
