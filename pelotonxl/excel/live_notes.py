"""The member's notes on a table's cells, for the live writer: read before the table is written, each put
back on its workout's new row and its column's new place after it (Excel leaves a note on its cell while
the values under it change). Where each goes, which removed workout keeps its row for one and what is
refused: `pelotonxl.member.columns.comment_places`, the rule the headless writer applies too.

xlwings calls: sheet.notes (iterate), note.location, note.text, range.note, note.delete(),
range.add_note(text), range.comment (a threaded comment, Windows only).

Threaded comments are left where they are: xlwings can read one and add one, but an added thread is
signed by whoever refreshes, dated now, so moving one would rewrite its author and its replies' (the
README and docs/manual-test.md say so). A note on a cell that holds a thread is left with the thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from pelotonxl.errors import WorkbookError
from pelotonxl.member import columns as rules

if TYPE_CHECKING:
    import xlwings as xw


@dataclass
class TableNotes:
    texts: dict[str, str] = field(default_factory=dict)  # old cell ("B3") -> the note's text
    cells: dict[str, tuple[int, int]] = field(default_factory=dict)  # old cell -> (row, column)
    in_table: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # -> (Workout ID, column)
    beside: list[tuple[int, int]] = field(default_factory=list)  # notes outside the old table
    threads: list[tuple[int, int]] = field(default_factory=list)  # cells of the table holding a thread

    def workout_ids(self) -> list[str]:
        """The Workout IDs whose rows hold a note: a removed one keeps its row, as for a typed note."""
        return [wid for wid, _ in self.in_table.values() if wid is not None]

    def follow_renamed(self, renamed: Mapping[str, str]) -> None:
        """A note on a CSV workout's row goes to the API's record of that workout, as its typed notes do."""
        self.in_table = {
            ref: (renamed.get(wid, wid) if wid else wid, name) for ref, (wid, name) in self.in_table.items()
        }


def read_notes(sheet: xw.Sheet, xl_table: xw.main.Table | None, adopted: list[str]) -> TableNotes:
    """The notes on `xl_table`'s cells (and on the `adopted` columns typed just beside it), each with its
    row's Workout ID (None on the header row, "row N" on a row without one) and its column's name."""
    found = TableNotes()
    if xl_table is None:
        return found
    old = xl_table.range
    top, left = old.row, old.column
    bottom, right = top + old.shape[0] - 1, left + old.shape[1] - 1 + len(adopted)
    for note in sheet.notes:
        cell = note.location
        r, c = cell.row, cell.column
        if not (top <= r <= bottom and left <= c <= right):
            found.beside.append((r, c))
        elif _threaded(cell):
            found.threads.append((r, c))
        else:
            ref = f"{get_column_letter(c)}{r}"
            found.texts[ref], found.cells[ref] = note.text, (r, c)
    if not found.texts:
        return found
    header = [_header(v) for v in old.options(ndim=2).value[0]] + adopted
    id_at = next((i for i, n in enumerate(header) if n.casefold() == rules.ID_COLUMN.casefold()), None)
    ids: list[Any] = []
    if id_at is not None and bottom > top:
        ids = [row[0] for row in sheet.range((top + 1, left + id_at), (bottom, left + id_at)).options(ndim=2).value]
    for ref, (r, c) in found.cells.items():
        wid = ids[r - top - 1] if 0 <= r - top - 1 < len(ids) else None
        key = None if r == top else (str(wid).removeprefix("'") if wid not in (None, "") else f"row {r}")
        found.in_table[ref] = (key, header[c - left])
    return found


def refuse_covered_notes(sheet: xw.Sheet, notes: TableNotes, new: tuple[int, int, int, int]) -> None:
    """Raise WorkbookError naming the notes outside the old table that the grown one would cover (before
    any write): a workout's note would land on them."""
    top, left, bottom, right = new
    covered = sorted((r, c) for r, c in notes.beside if top <= r <= bottom and left <= c <= right)
    if covered:
        raise rules.covered_error(sheet.name, [f"{get_column_letter(c)}{r}" for r, c in covered])


def refuse_notes_onto_threads(
    sheet: xw.Sheet, notes: TableNotes, places: Mapping[str, tuple[int, int] | None], top: int, left: int
) -> None:
    """Raise WorkbookError (before any write) naming the notes that would land on a cell whose threaded
    comment stays where it is: Excel takes no note on such a cell."""
    stuck = set(notes.threads)
    refs = [ref for ref, at in places.items() if at is not None and _cell(at, top, left) in stuck - {notes.cells[ref]}]
    if refs:
        raise WorkbookError(
            f"{sheet.name}!{', '.join(sorted(refs, key=reading_order))}: these notes would move onto a cell with a "
            "threaded comment, which a refresh in Excel leaves in place; move one of them, then refresh again."
        )


def move_notes(
    sheet: xw.Sheet, notes: TableNotes, places: Mapping[str, tuple[int, int] | None], top: int, left: int
) -> None:
    """Each note to its place in the table written at (`top`, `left`) (None: dropped with its workout).
    All are taken off first, so a note moving onto a cell another note is leaving finds it free."""
    moving = [(ref, at) for ref, at in places.items() if at is None or _cell(at, top, left) != notes.cells[ref]]
    for ref, _ in moving:
        r, c = notes.cells[ref]
        note = sheet.range((r, c)).note
        if note is not None:
            note.delete()
    for ref, at in moving:
        if at is not None:
            sheet.range(_cell(at, top, left)).add_note(notes.texts[ref])


def reading_order(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(ref[len(letters) :]), col


def _cell(at: tuple[int, int], top: int, left: int) -> tuple[int, int]:
    return top + at[0] - 1, left + at[1] - 1


def _header(value: Any) -> str:
    return str(value) if value is not None else ""


def _threaded(cell: xw.Range) -> bool:
    """Does the cell hold a threaded comment? (Excel for Mac's scripting has none to report: False.)"""
    try:
        return cell.comment is not None
    except Exception:  # noqa: BLE001 - NotImplementedError on a Mac; an older Excel without threads
        return False
