"""Single-cell edits in a worksheet the writer does not own (the Config status cells): only that
cell's text changes, every other byte of the sheet stays.
"""

from __future__ import annotations

import re

from pelotonxl.xlsx.package import attrs_of, main_prefix, search_part, start_tag

_COORDINATE = re.compile(r"^[$]?([A-Za-z]{1,3})[$]?(\d+)$")


def coordinate_from_string(ref: str) -> tuple[str, int]:
    """ "B12" -> ("B", 12); ValueError for anything else (row 0 included)."""
    match = _COORDINATE.match(ref)
    if not match or not int(match.group(2)):
        raise ValueError(f"Invalid cell coordinates ({ref})")
    return match.group(1), int(match.group(2))


def column_index_from_string(column: str) -> int:
    """ "A" -> 1, "AA" -> 27."""
    index = 0
    for letter in column.upper():
        index = index * 26 + ord(letter) - 64
    return index


def get_column_letter(index: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def get_cell(sheet: str, ref: str) -> re.Match[str] | None:
    """The <c> element for ref (cell references are unique within a sheet)."""
    p = re.escape(main_prefix(sheet))
    return re.search(rf'<{p}c\b(?=[^>]*\sr="{re.escape(ref)}")[^>]*?(?:/>|>.*?</{p}c>)', sheet, re.S)


def cell_style(sheet: str, ref: str) -> int:
    cell = get_cell(sheet, ref)
    return int(attrs_of(start_tag(cell.group(0))).get("s", "0")) if cell else 0


def set_cell(sheet: str, ref: str, tail: str | None) -> str:
    """Replace or insert cell ref: tail is its XML after r="..." (None: an empty cell). The cell
    keeps its old style unless tail sets one. Only that cell's text changes."""
    prefix = main_prefix(sheet)
    col, row = coordinate_from_string(ref)
    old = get_cell(sheet, ref)
    old_style = attrs_of(start_tag(old.group(0))).get("s") if old else None
    s_attr = f' s="{old_style}"' if old_style else ""
    if tail is None:
        tail = f"{s_attr}/>"
    elif " s=" not in tail.split(">", 1)[0]:
        tail = s_attr + tail
    element = _prefixed(f'<c r="{col}{row}"{tail}', prefix)
    if old:
        return sheet[: old.start()] + element + sheet[old.end() :]
    return _insert_cell(sheet, prefix, column_index_from_string(col), row, element)


def _insert_cell(sheet: str, prefix: str, col: int, row: int, element: str) -> str:
    p = re.escape(prefix)
    data = search_part(
        rf"<{p}sheetData\b[^>]*?/>|<{p}sheetData\b[^>]*>.*?</{p}sheetData>", sheet, "a worksheet's <sheetData>", re.S
    )
    new_row = f'<{prefix}row r="{row}">{element}</{prefix}row>'
    if data.group(0).endswith("/>"):
        return sheet[: data.start()] + f"<{prefix}sheetData>{new_row}</{prefix}sheetData>" + sheet[data.end() :]
    rows = re.compile(rf"<{p}row\b[^>]*?/>|<{p}row\b[^>]*>.*?</{p}row>", re.S)
    for match in rows.finditer(sheet, data.start(), data.end()):
        r = int(attrs_of(start_tag(match.group(0))).get("r", "0"))
        if r > row:
            return sheet[: match.start()] + new_row + sheet[match.start() :]
        if r == row:
            return sheet[: match.start()] + _row_with_cell(match.group(0), prefix, col, element) + sheet[match.end() :]
    close = data.end() - len(f"</{prefix}sheetData>")
    return sheet[:close] + new_row + sheet[close:]


def _row_with_cell(row_xml: str, prefix: str, col: int, element: str) -> str:
    start = start_tag(row_xml)
    new_start = re.sub(r'\sspans="[^"]*"', "", start)  # the spans hint may no longer hold
    if start.endswith("/>"):
        return new_start[:-2] + f">{element}</{prefix}row>"
    body = row_xml[len(start) : row_xml.rindex("</")]
    p = re.escape(prefix)
    for cell in re.finditer(rf"<{p}c\b[^>]*?/>|<{p}c\b[^>]*>.*?</{p}c>", body, re.S):
        ref = attrs_of(start_tag(cell.group(0))).get("r")
        if ref and column_index_from_string(coordinate_from_string(ref)[0]) > col:
            body = body[: cell.start()] + element + body[cell.start() :]
            break
    else:
        body += element
    return new_start + body + f"</{prefix}row>"


def _prefixed(element: str, prefix: str) -> str:
    if not prefix:
        return element
    return re.sub(r"<(/?)(c|is|t|v)\b", rf"<\1{prefix}\2", element)
