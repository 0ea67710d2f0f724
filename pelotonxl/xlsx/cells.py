"""One cell's SpreadsheetML: values of every type the tables hold, as the XML after a cell's r="...".

Strings are inline (t="inlineStr") so sharedStrings.xml is never touched. Date-times and durations
become Excel serial numbers (the 1900 date system).
"""

from __future__ import annotations

import datetime as dt
import math
from xml.sax.saxutils import escape

from pelotonxl.model.excel_values import cell_text, excel_serial, excel_value
from pelotonxl.xlsx.cell_edit import column_index_from_string, coordinate_from_string

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def area_bounds(area: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row) of "B2:E11" (or of one cell, "B2")."""
    first, _, last = area.partition(":")
    (left, top), (right, bottom) = (
        (column_index_from_string(column), row) for column, row in map(coordinate_from_string, (first, last or first))
    )
    return left, top, right, bottom


DURATION_FORMAT = "[h]:mm:ss"


# Excel shows TRUE/FALSE for booleans whatever the format; LibreOffice needs it spelled out.
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


clean_text = cell_text  # the one cleaner both writers share (model.excel_values)


def string_tail(text: str, s_attr: str = "") -> str:
    """A cell's XML after its r="..." attribute, for an inline string."""
    text = clean_text(text)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'{s_attr} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def number_tail(value: float | int, s_attr: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return f"{s_attr}><v>{value!r}</v></c>"


def value_tail(value: object, s_attr: str = "", date_attr: str = "", duration_attr: str = "") -> str | None:
    """Cell XML after r="..." for one value of any type (see `excel_values.excel_value`); None for a blank."""
    value = excel_value(value)
    if isinstance(value, str):
        return string_tail(value, s_attr)
    if value is None:
        return None
    if isinstance(value, bool):
        return f'{s_attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return number_tail(value, s_attr)
    if isinstance(value, (dt.datetime, dt.date)):
        return number_tail(excel_serial(value), date_attr)
    return number_tail(excel_serial(value), duration_attr)  # a timedelta
