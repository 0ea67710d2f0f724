"""What a value becomes when the live writer hands it to xlwings: `excel_values.excel_value`, with
durations as day fractions and text that Excel would convert on entry kept as text.

Excel treats a string assigned to a cell as if it were typed: "TRUE" becomes a boolean, "50%" 0.5, "1/2"
the 2nd of January, "12:30" a time, "$5" a currency amount, "=x" a formula. A leading apostrophe is
Excel's own way to say "this is text": it is not part of the cell's value (the formula bar shows it,
the cell and every formula see the text), and it leaves the cell's number format alone, so a notes column
stays General and what the member types there later behaves as anywhere else. An apostrophe on a string
Excel would NOT have converted changes nothing but the formula bar, so the test below errs on the side of
adding one: any text that starts like a number, date, time, currency amount, error value, boolean or
formula (in English, Excel's default parsing; other locales convert a subset of the same shapes).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pelotonxl.model.excel_values import excel_value as plain_value

_FORMULA_STARTS = ("=", "+", "-", "@", "'")  # "'": a text that starts with an apostrophe keeps it
_ERRORS = {
    "#N/A",
    "#VALUE!",
    "#REF!",
    "#DIV/0!",
    "#NUM!",
    "#NAME?",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#BUSY!",
    "#UNKNOWN!",
    "#GETTING_DATA",
}
# A digit, a decimal point, "(5)" (a negative number), a currency sign, TRUE/FALSE, or a month name
# followed by a number ("Jan 2", "March 2024", "Sep-24").
_CONVERTIBLE = re.compile(
    r"[\d.(]|[$€£¥]|(?:true|false)$"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s\-/,]*\d",
    re.IGNORECASE,
)


def excel_value(value: Any) -> Any:
    """One value as xlwings should assign it."""
    value = plain_value(value)
    if isinstance(value, str):
        return keep_text(value)
    if isinstance(value, timedelta):
        return value / timedelta(days=1)
    return value


def keep_text(text: str) -> str:
    """`text` as a string Excel stores as that very text."""
    return "'" + text if would_convert(text) else text


def would_convert(text: str) -> bool:
    """Might Excel turn this string into something other than text when it is entered?"""
    stripped = text.strip()
    if not stripped:
        return False
    return (
        text.startswith(_FORMULA_STARTS)
        or stripped.startswith(_FORMULA_STARTS)
        or stripped.upper() in _ERRORS
        or _CONVERTIBLE.match(stripped) is not None
    )
