"""The styles.xml editor: number-format, header and Dashboard cell styles, appended (never
renumbered) so every index a workbook already uses stays valid.
"""

from __future__ import annotations

import html
import re

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import HEADER_FILL, HEADER_TEXT
from pelotonxl.xlsx.package import (
    attrs_of,
    escape_attr,
    insert_before_close,
    main_prefix,
    search_part,
    set_attr,
    start_tag,
)

_BUILTIN_FORMATS = {
    "General": 0,
    "0": 1,
    "0.00": 2,
    "#,##0": 3,
    "#,##0.00": 4,
    "0%": 9,
    "0.00%": 10,
    "0.00E+00": 11,
    "mm-dd-yy": 14,
    "d-mmm-yy": 15,
    "h:mm": 20,
    "h:mm:ss": 21,
    "m/d/yy h:mm": 22,
    "mm:ss": 45,
    "[h]:mm:ss": 46,
    "@": 49,
}


_FIRST_CUSTOM_FORMAT = 164


# Column widths are counted in the maximum digit width of the workbook's default font (its first font).
# The refresh fits its columns for the template's Calibri 12; digits' advance as a share of the font
# size, for the fonts a workbook's default becomes (a LibreOffice save makes it its own: Arial,
# Liberation Sans, DejaVu Sans), so the widths can be given in the workbook's own units.
_DIGIT_ADVANCE = {
    "calibri": 0.507,
    "carlito": 0.507,
    "arial": 0.556,
    "liberation sans": 0.556,
    "helvetica": 0.556,
    "dejavu sans": 0.636,
    "times new roman": 0.5,
    "liberation serif": 0.5,
    "cambria": 0.556,
    "aptos": 0.556,
}
_FITTED_FOR = ("calibri", 12.0)


def digit_pixels(font: str, size: float) -> int:
    """Excel's maximum digit width (pixels at 96 dpi) of a font at a size, estimated."""
    return max(1, round(size * 96 / 72 * _DIGIT_ADVANCE.get(font.casefold(), 0.556)))


class StyleBook:
    """Number-format cell styles in styles.xml. Only appends numFmt and xf entries, and reuses an
    identical existing one, so indices stay valid and repeated refreshes do not grow the file."""

    def __init__(self, xml: str) -> None:
        self.xml = xml
        self.p = re.escape(main_prefix(xml))
        self._prefix = main_prefix(xml)
        # Entries are only ever appended, so an index once found stays right: remember it rather
        # than rescanning styles.xml for every styled cell.
        self._memo: dict[tuple[object, ...], int] = {}

    def style_for(self, number_format: str, base: int = 0, *, centred: bool = False) -> int:
        """Index of a cellXfs entry like `base` but with number_format applied (and centred: a TRUE/FALSE
        column, which LibreOffice aligns right, straight against the text of the next column)."""
        key = ("style_for", number_format, base, centred)
        if key not in self._memo:
            self._memo[key] = self._style_for(number_format, base, centred)
        return self._memo[key]

    def _style_for(self, number_format: str, base: int, centred: bool = False) -> int:
        num_id = self._numfmt_id(number_format)
        block = self._required_block("cellXfs")
        xfs = re.findall(rf"<{self.p}xf\b[^>]*?/>|<{self.p}xf\b[^>]*>.*?</{self.p}xf>", block.group(2) or "", re.S)
        base_xf = xfs[base] if base < len(xfs) else xfs[0] if xfs else f'<{self._prefix}xf numFmtId="0"/>'
        start = start_tag(base_xf)
        new_start = set_attr(set_attr(start, "numFmtId", str(num_id)), "applyNumberFormat", "1")
        wanted = new_start + base_xf[len(start) :]
        if centred:
            wanted = self._centred(wanted)
        for i, xf in enumerate(xfs):
            if _same_xf(xf, wanted):
                return i
        self._append(block, "cellXfs", wanted, len(xfs) + 1)
        return len(xfs)

    def width_scale(self) -> float:
        """By how much the refresh's widths (fitted for Calibri 12) grow in this workbook's own units, the
        digits of its default font: 8/7 after a LibreOffice save made Arial 10 the default. Never below 1:
        the estimate must not narrow a column the refresh fitted (it would show ###)."""
        fonts = re.search(rf"<{self.p}fonts\b[^>]*>(.*?)</{self.p}fonts>", self.xml, re.S)
        first = re.search(rf"<{self.p}font\b.*?</{self.p}font>", fonts.group(1), re.S) if fonts else None
        if first is None:
            return 1.0
        name = re.search(rf'<{self.p}name\s+val="([^"]*)"', first.group(0))
        size = re.search(rf'<{self.p}sz\s+val="([0-9.]+)"', first.group(0))
        if name is None or size is None:
            return 1.0
        ours = digit_pixels(*_FITTED_FOR)
        return max(1.0, ours / digit_pixels(html.unescape(name.group(1)), float(size.group(1))))

    def _centred(self, xf: str) -> str:
        """The xf with its alignment horizontal="center" (alignment is its first child in CT_Xf)."""
        p = self._prefix
        start = xf[: xf.index(">") + 1]
        self_closing = start.endswith("/>")
        tag = set_attr(start[:-2].rstrip() + ">" if self_closing else start, "applyAlignment", "1")
        inner = "" if self_closing else xf[len(start) : xf.rindex(f"</{p}xf>")]
        inner = re.sub(rf"<{re.escape(p)}alignment\b[^>]*?(?:/>|>.*?</{re.escape(p)}alignment>)", "", inner, flags=re.S)
        return f'{tag}<{p}alignment horizontal="center"/>{inner}</{p}xf>'

    def header_style(self) -> int:
        """Index of a cellXfs entry for header cells: bold white on the table style's blue.

        Excel draws this from the table style anyway; LibreOffice and other readers ignore table
        styles, so the header carries its own look."""
        p = self._prefix
        font = (
            f'<{p}font><{p}b/><{p}sz val="12"/><{p}color rgb="FF{HEADER_TEXT}"/><{p}name val="Calibri"/>'
            f'<{p}family val="2"/><{p}scheme val="minor"/></{p}font>'
        )
        fill = (
            f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{HEADER_FILL}"/>'
            f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
        )
        font_id = self._find_or_append("fonts", "font", font)
        fill_id = self._find_or_append("fills", "fill", fill)
        xf = (
            f'<{p}xf numFmtId="0" fontId="{font_id}" fillId="{fill_id}" borderId="0" xfId="0" '
            f'applyFont="1" applyFill="1"/>'
        )
        return self._find_or_append("cellXfs", "xf", xf)

    def styled(
        self,
        number_format: str = "General",
        *,
        bold: bool = False,
        italic: bool = False,
        size: float = 12,
        colour: str | None = None,
        fill: str | None = None,
    ) -> int:
        """Index of a cellXfs entry with this font, solid fill (RGB hex) and number format.

        For the Dashboard, whose cells the writer styles itself; reuses an identical entry."""
        p = self._prefix
        font = "".join(
            [
                f"<{p}font>",
                f"<{p}b/>" if bold else "",
                f"<{p}i/>" if italic else "",
                f'<{p}sz val="{size:g}"/>',
                f'<{p}color rgb="FF{colour}"/>' if colour else "",
                f'<{p}name val="Calibri"/><{p}family val="2"/><{p}scheme val="minor"/></{p}font>',
            ]
        )
        font_id = self._find_or_append("fonts", "font", font)
        fill_id = 0
        if fill:
            fill_id = self._find_or_append(
                "fills",
                "fill",
                (
                    f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{fill}"/>'
                    f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'
                ),
            )
        apply_fill = ' applyFill="1"' if fill else ""
        xf = (
            f'<{p}xf numFmtId="{self._numfmt_id(number_format)}" fontId="{font_id}" fillId="{fill_id}" '
            f'borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"{apply_fill}/>'
        )
        return self._find_or_append("cellXfs", "xf", xf)

    def _find_or_append(self, block_tag: str, tag: str, element: str) -> int:
        key = (block_tag, element)
        if key not in self._memo:
            self._memo[key] = self._scan_or_append(block_tag, tag, element)
        return self._memo[key]

    def _scan_or_append(self, block_tag: str, tag: str, element: str) -> int:
        block = self._required_block(block_tag)
        items = re.findall(
            rf"<{self.p}{tag}\b[^>]*?/>|<{self.p}{tag}\b[^>]*>.*?</{self.p}{tag}>", block.group(2) or "", re.S
        )
        for i, item in enumerate(items):
            if item == element or (tag == "xf" and _same_xf(item, element)):
                return i
        self._append(block, block_tag, element, len(items) + 1)
        return len(items)

    def _numfmt_id(self, code: str) -> int:
        if code in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[code]
        key = ("numFmt", code)
        if key not in self._memo:
            self._memo[key] = self._scan_or_append_numfmt(code)
        return self._memo[key]

    def _scan_or_append_numfmt(self, code: str) -> int:
        found = re.findall(rf'<{self.p}numFmt\b[^>]*?numFmtId="(\d+)"[^>]*?formatCode="([^"]*)"', self.xml)
        found += [
            (i, c)
            for c, i in re.findall(rf'<{self.p}numFmt\b[^>]*?formatCode="([^"]*)"[^>]*?numFmtId="(\d+)"', self.xml)
        ]
        for num_id, existing in found:
            if html.unescape(existing) == code:
                return int(num_id)
        num_id = max([_FIRST_CUSTOM_FORMAT - 1] + [int(i) for i, _ in found]) + 1
        element = f'<{self._prefix}numFmt numFmtId="{num_id}" formatCode="{escape_attr(code)}"/>'
        block = self._block("numFmts")
        if block:
            self._append(block, "numFmts", element, len(found) + 1)
        else:
            root = search_part(rf"<{self.p}styleSheet\b[^>]*>", self.xml, "the <styleSheet> element")
            self.xml = (
                self.xml[: root.end()] + f'<{self._prefix}numFmts count="1">{element}'
                f"</{self._prefix}numFmts>" + self.xml[root.end() :]
            )
        return num_id

    def _block(self, tag: str) -> re.Match[str] | None:
        return re.search(rf"(<{self.p}{tag}\b[^>]*?)(?:/>|>(.*?)</{self.p}{tag}>)", self.xml, re.S)

    def _required_block(self, tag: str) -> re.Match[str]:
        block = self._block(tag)
        if block is None:
            raise WorkbookError(f"The workbook's styles are damaged: <{tag}> is missing. Open it in Excel and save it.")
        return block

    def _append(self, block: re.Match[str], tag: str, element: str, count: int) -> None:
        whole = block.group(0)
        updated = insert_before_close(whole, tag, element)
        start = start_tag(updated)
        updated = set_attr(start, "count", str(count)) + updated[len(start) :]
        self.xml = self.xml[: block.start()] + updated + self.xml[block.end() :]


def _same_xf(a: str, b: str) -> bool:
    start_a, start_b = start_tag(a), start_tag(b)
    inner = (a[len(start_a) :], b[len(start_b) :])
    return attrs_of(start_a) == attrs_of(start_b) and inner[0] == inner[1]
