"""The member's comments (notes) on a table sheet the writer regenerates: found in the sheet's parts
(the legacy comments part, its VML drawing, threaded comments) and moved cell by cell to where the
refresh put each one's workout, or dropped with a removed workout.

Edits are targeted text edits, as everywhere in the package: VML from Excel is not always well-formed
XML, and openpyxl's uses ns0:-style prefixes. Where each comment goes is decided by the table writer
(`table_sheet.worksheet_xml`), which knows the new rows and columns. No openpyxl here: the safety checks
import this module, and a refresh with nothing new loads no spreadsheet library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.cell_edit import column_index_from_string as column_index
from pelotonxl.xlsx.cell_edit import coordinate_from_string, get_column_letter

REL_COMMENTS = xp.REL_NS + "/comments"
REL_VML = xp.REL_NS + "/vmlDrawing"
REL_THREADED = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"

_COMMENT = re.compile(r"<(\w+:|)comment\b[^>]*?(?:/>|>.*?</\1comment>)", re.S)
_THREADED = re.compile(r"<(\w+:|)threadedComment\b[^>]*?(?:/>|>.*?</\1threadedComment>)", re.S)
_SHAPE = re.compile(r"<(\w+:|)shape\b[^>]*>.*?</\1shape>", re.S)  # not shapetype, not shapelayout
_REF = re.compile(r'(\sref=")([^"]*)(")')


@dataclass
class SheetComments:
    """The comment parts of one worksheet, by relationship id and part name."""

    comments: tuple[str, str] | None = None  # (rel id, part)
    vml: tuple[str, str] | None = None  # the drawing of the notes' boxes
    threaded: list[tuple[str, str]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # each commented cell ("B3"), in the parts' order

    @property
    def legacy_drawing(self) -> str | None:
        """The <legacyDrawing> element the regenerated sheet needs for its notes' boxes."""
        return f'<legacyDrawing r:id="{self.vml[0]}"/>' if self.vml else None


def find(pkg: xp.Package, sheet_part: str) -> SheetComments:
    """The sheet's comment parts and commented cells (none: an empty SheetComments)."""
    found = SheetComments()
    for rel in xp.read_rels(pkg, sheet_part):
        if rel.external or not pkg.has(rel.part):
            continue
        if rel.type == REL_COMMENTS:
            found.comments = (rel.id, rel.part)
        elif rel.type == REL_VML:
            found.vml = (rel.id, rel.part)
        elif rel.type == REL_THREADED:
            found.threaded.append((rel.id, rel.part))
    seen: dict[str, None] = {}
    for _, part in ([found.comments] if found.comments else []) + found.threaded:
        for element in re.finditer(r"<(?:\w+:)?(?:threadedComment|comment)\b[^>]*>", pkg.text(part)):
            ref = re.search(r'\sref="([^"]*)"', element[0])
            if ref:
                seen.setdefault(_plain(ref[1]))
    found.refs = list(seen)
    return found


def only_notes(vml: str) -> bool:
    """Does the VML drawing hold notes' boxes only (no buttons, check boxes or other form controls)?"""
    kinds = re.findall(r'<(?:\w+:)?ClientData\b[^>]*\bObjectType="([^"]*)"', vml)
    return all(kind == "Note" for kind in kinds) and len(kinds) == len(_SHAPE.findall(vml))


def move(pkg: xp.Package, sheet_part: str, found: SheetComments, moves: dict[str, str | None]) -> bool:
    """Put each comment at moves[its cell] (None: dropped with its workout; a cell not in moves stays).
    Parts left without a comment are removed. Returns whether the notes' drawing is still there."""
    if found.comments:
        xml = _moved_elements(pkg.text(found.comments[1]), _COMMENT, moves)
        if _COMMENT.search(xml):
            pkg.put(found.comments[1], xml)
        else:
            _remove(pkg, sheet_part, found.comments)
            found.comments = None
    for rel in list(found.threaded):
        xml = _moved_elements(pkg.text(rel[1]), _THREADED, moves)
        if _THREADED.search(xml):
            pkg.put(rel[1], xml)
        else:
            _remove(pkg, sheet_part, rel)
            found.threaded.remove(rel)
    if found.vml:
        vml = _moved_shapes(pkg.text(found.vml[1]), moves)
        if _SHAPE.search(vml):
            pkg.put(found.vml[1], vml)
        else:
            _remove(pkg, sheet_part, found.vml)
            found.vml = None
    return found.vml is not None


def _moved_elements(xml: str, pattern: re.Pattern[str], moves: dict[str, str | None]) -> str:
    def one(match: re.Match[str]) -> str:
        start = xp.start_tag(match[0])
        ref = _REF.search(start)
        if ref is None or _plain(ref[2]) not in moves:
            return match[0]
        target = moves[_plain(ref[2])]
        if target is None:
            return ""
        return match[0].replace(start, start[: ref.start(2)] + target + start[ref.end(2) :], 1)

    return pattern.sub(one, xml)


def _moved_shapes(vml: str, moves: dict[str, str | None]) -> str:
    """Each note's box (x:Row and x:Column, 0-based) at its comment's new cell, its anchor shifted as far."""

    def one(match: re.Match[str]) -> str:
        shape = match[0]
        row = re.search(r"<(\w+:|)Row>\s*(\d+)\s*</\1Row>", shape)
        col = re.search(r"<(\w+:|)Column>\s*(\d+)\s*</\1Column>", shape)
        if row is None or col is None:
            return shape
        old = f"{get_column_letter(int(col[2]) + 1)}{int(row[2]) + 1}"
        if old not in moves:
            return shape
        target = moves[old]
        if target is None:
            return ""
        letters, new_row = coordinate_from_string(target)
        dr, dc = new_row - 1 - int(row[2]), column_index(letters) - 1 - int(col[2])
        shape = _replace_text(shape, row, str(new_row - 1))
        col = re.search(r"<(\w+:|)Column>\s*(\d+)\s*</\1Column>", shape)
        assert col is not None  # still there: only the row's text changed
        shape = _replace_text(shape, col, str(column_index(letters) - 1))
        return re.sub(
            r"(<(\w+:|)Anchor>)([^<]*)(</\2Anchor>)", lambda m: m[1] + _shifted_anchor(m[3], dr, dc) + m[4], shape
        )

    return _SHAPE.sub(one, vml)


def _replace_text(shape: str, match: re.Match[str], text: str) -> str:
    return shape[: match.start(2)] + text + shape[match.end(2) :]


def _shifted_anchor(anchor: str, dr: int, dc: int) -> str:
    """An anchor (left col, dx, top row, dy, right col, dx, bottom row, dy) moved dr rows and dc columns."""
    parts = [p.strip() for p in anchor.split(",")]
    if len(parts) != 8 or not all(p.lstrip("-").isdigit() for p in parts):
        return anchor
    numbers = [int(p) for p in parts]
    for i, delta in ((0, dc), (4, dc), (2, dr), (6, dr)):
        numbers[i] = max(0, numbers[i] + delta)
    return ", ".join(str(n) for n in numbers)


def _remove(pkg: xp.Package, sheet_part: str, rel: tuple[str, str]) -> None:
    xp.remove_rel(pkg, sheet_part, rel[0])
    pkg.remove(rel[1])
    xp.remove_override(pkg, rel[1])  # a no-op where a Default (.vml) gives the type
    rels = xp.rels_name(rel[1])
    if pkg.has(rels):
        pkg.remove(rels)


def _plain(ref: str) -> str:
    """ "$b$3" -> "B3" (a range's first cell): a comment's cell as the table writer names it."""
    return ref.split(":")[0].replace("$", "").upper()
