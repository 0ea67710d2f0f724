"""Calculation for the xlwings stand-in: the PELOTON_* worksheet functions, called as Excel would call them.

Only formulas of the form `=NAME(arg, …)` whose NAME is one of the given functions are calculated;
arguments are text in double quotes, numbers, TRUE/FALSE or a cell of the same sheet (A1). Any other
formula keeps the stand-in's placeholder result. What it models of Excel: a formula is calculated when
it is written (Excel's automatic calculation), and `calculate_full` recalculates every formula of a book
(Application.CalculateFull). A function that is not volatile is otherwise never recalculated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_CALL = re.compile(r"=\s*([A-Za-z_][A-Za-z0-9_.]*)\((.*)\)\s*", re.DOTALL)
_ARG = re.compile(r'\s*("(?:[^"]|"")*"|[^,]*)\s*(?:,|$)')
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


class Calc:
    def __init__(self, functions: dict[str, Callable[..., Any]]) -> None:
        self.functions = {name.upper(): f for name, f in functions.items()}
        self.calls = 0  # how many function calls the book's formulas made

    def evaluate(self, sheet: Any, formula: str) -> Any:
        match = _CALL.fullmatch(formula)
        if match is None or match[1].upper() not in self.functions:
            return 0.0
        self.calls += 1
        return self.functions[match[1].upper()](*[_argument(sheet, a) for a in _arguments(match[2])])


def calculate_full(book: Any) -> int:
    """Every formula of every sheet calculated again (what Excel's CalculateFull does); returns how many."""
    count = 0
    for sheet in book.sheets:
        for cell in [c for c in sheet.cells if sheet.is_formula(c)]:
            sheet.results[cell] = book.calc.evaluate(sheet, sheet.cells[cell])
            count += 1
    return count


def _arguments(text: str) -> list[str]:
    if not text.strip():
        return []
    args, at = [], 0
    while at < len(text):
        match = _ARG.match(text, at)
        args.append(match[1].strip())
        at = match.end()
    return args


def _argument(sheet: Any, text: str) -> Any:
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    cell = _CELL.fullmatch(text)
    if cell:
        col = 0
        for ch in cell[1].upper():
            col = col * 26 + ord(ch) - 64
        return sheet.values(sheet.range((int(cell[2]), col)))[0][0]
    return float(text) if text else None
