"""The member's columns in and beside our tables, and the cells a grown table would cover: the rules
the headless writer (`xlsx/`) and the live one (`excel/`) both apply, written once.

- A column of a table is the refresh's when this refresh writes it, or the last refresh wrote it (the
  hidden record `record_name`), or, in a workbook without the record, when the refresh could have
  written it (`is_refresh_column`). Every other column is the member's, kept by Workout ID.
- A column adjoining a table's right edge, with a header in the table's header row, is the member's
  column too (`adjoining_columns`): LibreOffice and openpyxl do not grow a table as Excel does when a
  member types beside it, so the refresh adopts it into the table rather than leave notes that the
  new rows would push beside other workouts.
- A member's column stays after the nearest column that stays (`anchors`, `column_order`).
- A removed workout has the member's notes when one of its member cells holds a typed value: a
  formula is no note (`orphans`).
- A cell of the member's that the grown table would cover stops the refresh, named (`covered_error`).
- A comment or note on a table cell goes to its workout's new row and its column's new place; one on
  a removed workout's row keeps that row at the bottom (dropped, and counted, with --full); one on a
  column the refresh no longer writes, or two landing on one cell, stop the refresh, named
  (`comment_places`).
- Two rows holding one Workout ID, each with a typed value of the member's, stop the refresh, named
  (`refuse_shared_ids`): notes go by Workout ID, so one row's would silently take the other's place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pelotonxl.errors import WorkbookError
from pelotonxl.model.catalog import HEART_RATE_NAMES, METRIC_NAMES
from pelotonxl.model.tables import METRIC_LEAD_COLUMNS, RETIRED_WORKOUT_COLUMNS, WORKOUT_COLUMNS
from pelotonxl.model.workbook import ID_COLUMN as ID_COLUMN  # the writers read it here too

LISTED = 8  # cells named in a refusal; the rest are marked with an ellipsis

_KNOWN_COLUMNS = {c.casefold() for c in (*WORKOUT_COLUMNS, *RETIRED_WORKOUT_COLUMNS, *METRIC_LEAD_COLUMNS)}
_KNOWN_METRIC_NAMES = {n.casefold() for n in (*METRIC_NAMES.values(), *HEART_RATE_NAMES.values())}


def is_refresh_column(header: str) -> bool:
    """Could the refresh have written this header? Then a column under it is the refresh's, even in
    a refresh that does not write it (a metric no workout has any more)."""
    folded = header.casefold()
    if folded in _KNOWN_COLUMNS:
        return True
    name = re.sub(r"\s*\[[^\]]*\]$", "", folded)  # "X [slug]": a renamed duplicate of ours
    name = re.sub(r"\s*\([^()]*\)$", "", name)  # "Avg Output (watts)": the unit
    return name in _KNOWN_METRIC_NAMES


def is_members(header: str, ours: Iterable[str], written_before: set[str] | None) -> bool:
    """Is the table column under `header` the member's? `ours`: what this refresh writes;
    `written_before`: the (case-folded) columns the last refresh recorded, None without a record."""
    folded = header.casefold()
    if not folded or folded in {c.casefold() for c in ours}:
        return False
    return folded not in written_before if written_before is not None else not is_refresh_column(header)


def anchors(header: Sequence[str], members: Sequence[bool], ours: Iterable[str]) -> dict[str, str | None]:
    """For each member column of the old table (`members[i]`), the column it follows from now on: the
    nearest column to its left that stays (the member's, or one this refresh writes), None when none.
    A column of ours that this refresh no longer writes is no anchor: it would send the member's column
    to the far end."""
    stays_ours = {c.casefold() for c in ours}
    found: dict[str, str | None] = {}
    previous: str | None = None
    for name, member in zip(header, members, strict=True):
        if member:
            found[name] = previous
        if member or name.casefold() in stays_ours:
            previous = name
    return found


def column_order(ours: Sequence[str], after: Mapping[str, str | None]) -> list[str]:
    """Our columns with each member column (in `after`'s order) after the column it follows; first
    when it follows none, last when what it follows is gone."""
    final = list(ours)
    folded = [c.casefold() for c in final]
    for name, anchor in after.items():
        key = anchor.casefold() if anchor else None
        at = 0 if key is None else (folded.index(key) + 1 if key in folded else len(final))
        final.insert(at, name)
        folded.insert(at, name.casefold())
    return final


def is_note(value: object, is_formula: bool) -> bool:
    """A value the member typed: not blank, not a formula (a formula column is recomputed, not lost)."""
    return not is_formula and value not in (None, "")


def orphans(written: set[str], notes: Iterable[tuple[str, bool]]) -> list[str]:
    """Workout IDs with a note of the member's (`notes`: (Workout ID, is_note) per member cell) whose
    workout this refresh does not write, first seen first."""
    seen: dict[str, None] = {}
    for wid, note in notes:
        if note and wid not in written:
            seen.setdefault(wid)
    return list(seen)


def adjoining_columns(table_right: int, header_row: Mapping[int, str]) -> list[tuple[int, str]]:
    """The member's columns typed beside a table rather than in it: (column, header) for each column
    just right of the table (`table_right`, 1-based) with a header in the table's header row
    (`header_row`: column -> text), in a run with no gap. Cells beside the table under no header stay
    loose cells, kept in place."""
    found: list[tuple[int, str]] = []
    col = table_right + 1
    while (text := header_row.get(col, "").strip()) != "":
        found.append((col, text))
        col += 1
    return found


def covered_error(sheet: str, refs: Sequence[str]) -> WorkbookError:
    """The refusal when the grown table would cover cells of the member's (`refs`, in reading order)."""
    more = " …" if len(refs) > LISTED else ""
    return WorkbookError(
        f"{sheet or 'The table sheet'}!{', '.join(refs[:LISTED])}{more}: the refreshed table now reaches these "
        "cells; move them to your own sheet or into the table, then refresh again."
    )


def refuse_shared_ids(sheet: str, rows: Iterable[tuple[str, str]]) -> None:
    """Raise WorkbookError when two of `rows` share a Workout ID. `rows`: (Workout ID, the reference of its
    ID cell) of each table row holding a typed value in a column of the member's."""
    seen: dict[str, list[str]] = {}
    for wid, ref in rows:
        seen.setdefault(wid, []).append(ref)
    shared = next(((wid, refs) for wid, refs in seen.items() if len(refs) > 1), None)
    if shared is not None:
        wid, refs = shared
        more = " …" if len(refs) > LISTED else ""
        raise WorkbookError(
            f"{sheet or 'The table sheet'}!{', '.join(refs[:LISTED])}{more}: these rows hold the same Workout ID "
            f"({wid[:40]}), each with notes of yours, which a refresh keeps by Workout ID: give each row its own "
            "ID back (or put the notes on one row), then refresh again."
        )


def record_name(table: str) -> str:
    """The hidden workbook name listing the columns the last refresh wrote to `table`."""
    return f"PelotonXL_{re.sub(r'[^A-Za-z0-9_]', '_', table)}_Columns"


def record_value(columns: Sequence[str]) -> str:
    """The record as an array constant, {"Workout ID","Start",...}: Excel, LibreOffice and openpyxl keep
    defined names, so a column the member adds is told from one of ours this refresh no longer writes."""
    return "{" + ",".join('"' + c.replace('"', '""') + '"' for c in columns) + "}"


def recorded(value: str | None) -> set[str] | None:
    """The (case-folded) columns in a record's value; None when there is no record."""
    order = recorded_order(value)
    return None if order is None else set(order)


def recorded_order(value: str | None) -> list[str] | None:
    """The (case-folded) columns in a record's value, in the refresh's own order; None without a record."""
    if value is None:
        return None
    return [m.replace('""', '"').casefold() for m in re.findall(r'"((?:[^"]|"")*)"', value)]


def unique_header(text: str, taken: Callable[[str], bool]) -> str:
    """A header no other column has (Excel keeps table column names unique, ignoring case)."""
    name, n = text, 2
    while taken(name):
        name, n = f"{text}{n}", n + 1
    return name


def comment_places(
    in_table: Mapping[str, tuple[str | None, str]],
    final: Sequence[str],
    body_ids: Sequence[str],
    sheet: str,
    reading_order: Callable[[str], tuple[int, int]],
) -> dict[str, tuple[int, int] | None]:
    """Where each comment on the old table goes. `in_table`: commented cell -> (its row's Workout ID,
    None on the header row; its column's name); `final`, `body_ids`: the new table's header and its rows'
    Workout IDs. The answer, per cell: (row, column) in the new table, 1-based with the header as row 1,
    or None: dropped with a workout this refresh does not write (the writers keep such a workout's row
    at the bottom unless --full: `orphans` counts a comment as a note). A comment whose column is gone,
    or two landing on one cell, raise WorkbookError naming the cells (in `reading_order`)."""
    columns = {name.casefold(): i for i, name in enumerate(final, start=1)}
    rows = {wid: r for r, wid in enumerate(body_ids, start=2)}
    places: dict[str, tuple[int, int] | None] = {}
    lost: list[str] = []
    for ref, (wid, name) in in_table.items():
        col = columns.get(name.casefold())
        row = 1 if wid is None else rows.get(wid)
        target = (row, col) if col and row else None
        if row is None:
            places[ref] = None
        elif target is None or target in places.values():
            lost.append(ref)
        else:
            places[ref] = target
    if lost:
        refs = sorted(lost, key=reading_order)
        more = " …" if len(refs) > LISTED else ""
        raise WorkbookError(
            f"{sheet or 'The table sheet'}!{', '.join(refs[:LISTED])}{more}: the refresh no longer writes the column "
            "(or workout row) these comments are on; move them to another cell, then refresh again."
        )
    return places
