"""One cell's SpreadsheetML: values of every type the tables hold, as the XML after a cell's r="...".

Strings are inline (t="inlineStr") so sharedStrings.xml is never touched. Date-times and durations
become Excel serial numbers (the 1900 date system).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re

import numpy as np
import pandas as pd
from openpyxl.utils.datetime import to_excel

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


DURATION_FORMAT = "[h]:mm:ss"


# Excel shows TRUE/FALSE for booleans whatever the format; LibreOffice needs it spelled out.
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'


MAX_CELL_TEXT = 32767                      # Excel's limit per cell


EXCEL_EPOCH = pd.Timestamp("1899-12-30")   # serial 0 in the 1900 date system (leap-year bug included)


ONE_DAY = pd.Timedelta(days=1)


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'





def clean_text(value: object) -> str:
    return _ILLEGAL_XML.sub("", str(value))[:MAX_CELL_TEXT]


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def string_tail(text: str, s_attr: str = "") -> str:
    """A cell's XML after its r="..." attribute, for an inline string."""
    text = clean_text(text)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'{s_attr} t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def number_tail(value: float | int, s_attr: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return f"{s_attr}><v>{value!r}</v></c>"



def value_tail(value: object, s_attr: str = "", date_attr: str = "", duration_attr: str = "") -> str | None:
    """Cell XML after r="..." for one Python value of any supported type."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return f'{s_attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Real):   # Python and NumPy ints and floats
        return number_tail(value.item() if hasattr(value, "item") else value, s_attr)
    if isinstance(value, (dt.datetime, dt.date)):
        return number_tail(to_excel(_wall_clock(value)), date_attr)
    if isinstance(value, dt.timedelta):
        return number_tail(to_excel(value), duration_attr)
    return string_tail(str(value), s_attr)


def _wall_clock(value: dt.datetime | dt.date) -> dt.datetime | dt.date:
    """A date-time as the member saw it: its time zone dropped, not converted."""
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value
