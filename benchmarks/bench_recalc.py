"""After a live refresh, what brings 10,000 =PELOTON_METRIC formulas up to date faster: re-entering the
PELOTON_ formulas (what the live writer does, pelotonxl/excel/recalc.py) or recalculating the whole book
(Excel's CalculateFull, which xlwings does not offer)? Measured in the xlwings stand-in of the tests.

    python -m benchmarks.bench_recalc [--workouts 1000] [--formulas 10000] [--repeat 3]

Run from the repository root. No Excel is involved: the stand-in (tests/support/xlwings_standin.py) holds
the book a live refresh of the demo account leaves (Config, Workouts, Metrics, PowerCurve, the Dashboard
and Ride sheets with their data, a calculated column of the member's in Workouts) plus a sheet of the
member's with `--formulas` PELOTON_METRIC formulas; tests/support/standin_calc.py calculates them by calling
the real worksheet function, as Excel's call into Python would. Each variant is timed `--repeat` times
(best shown) and counted: xlwings calls (round trips to Excel in real life) and formulas calculated.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the stand-in lives with the tests

try:
    from benchmarks.bench_udf import SLUGS  # the metrics its worksheet functions ask for
    from pelotonxl.demo.account import demo_end, make_account
    from pelotonxl.excel import live_writer, recalc
    from pelotonxl.model import dashboard as db
    from pelotonxl.model.ride_view import ride_view
    from pelotonxl.model.tables import build_tables
    from pelotonxl.model.workbook import RideSheet, WorkbookContent
    from pelotonxl.peloton.store import WorkoutStore
    from pelotonxl.state import StateFolder
except ModuleNotFoundError as exc:
    if exc.name not in ("pelotonxl", "benchmarks"):
        raise
    sys.exit(
        f"{Path(__file__).name}: the {exc.name} package is not importable: run it from the repository "
        f"root as `python -m benchmarks.{Path(__file__).stem}`, or `pip install -e .` first."
    )

EVERY_N = 30


def member_book(workouts: int, formulas: int):
    """A stand-in book as a live refresh of `workouts` demo workouts leaves it, plus the member's formulas."""
    from support.standin_calc import Calc
    from support.xlwings_standin import Book

    import peloton_xl

    account = make_account(workouts, end=demo_end())
    pairs = [(w, account.graph(w["id"], EVERY_N)) for w in account.workouts]
    home = Path(tempfile.mkdtemp(prefix="bench-recalc-"))
    os.environ["PELOTON_XL_HOME"] = str(home)
    state = StateFolder(home)
    state.ensure()
    state.remember_account(account.user_id)
    with WorkoutStore.for_account(home, account.user_id) as store:
        store.save_workouts([w for w, _ in pairs])
        store.save_graphs([(w["id"], g) for w, g in pairs if g is not None], EVERY_N)
    tables = build_tables(pairs)
    content = WorkbookContent(*tables, db.build_dashboard(*tables, time_now()), ride=RideSheet(ride_view(pairs)))

    book = Book(str(home / "PelotonWorkbook.xlsm"))
    book.sheets.add("Config")
    live_writer.write_tables_live(book, content)
    workouts_sheet = book.sheets["Workouts"]
    rng = workouts_sheet.tables["Workouts"].range
    col = rng.last_column + 1  # the member's calculated column, not a PELOTON_ one
    workouts_sheet.range((1, col)).value = "Double output"
    workouts_sheet.range((2, col), (rng.last_row, col)).value = [["=[@[Total Output (kJ)]]*2"]] * (rng.shape[0] - 1)
    workouts_sheet.tables["Workouts"].resize(workouts_sheet.range((rng.row, rng.column), (rng.last_row, col)))

    book.calc = Calc({"PELOTON_METRIC": peloton_xl.PELOTON_METRIC})
    ids = [w["id"] for w in account.workouts]
    pick = random.Random(1)
    rows = [[f'=PELOTON_METRIC("{pick.choice(ids)}", "{pick.choice(SLUGS)}")'] for _ in range(formulas)]
    mine = book.sheets.add("My Analysis", after=book.sheets[-1])
    half = formulas // 2  # two columns of formulas with a label column between them
    mine.range((1, 1), (half, 1)).formula2 = rows[:half]
    mine.range((1, 2), (half, 2)).value = [["label"]] * half
    mine.range((1, 3), (formulas - half, 3)).formula2 = rows[half:]
    return book, [content.dashboard.name, content.dashboard.data_sheet, "Ride", "Ride Data"]


def time_now():
    import datetime as dt

    return dt.datetime.now()


def measure(book, run, repeat: int) -> tuple[float, str, int]:
    best, transfers, calculated = float("inf"), "", 0
    for _ in range(repeat):
        book.calls.clear()
        before = book.calc.calls
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
        reads, writes = len(book.calls_of("formula2")), len(book.calls_of("formula2="))
        transfers = f"{reads} reads, {writes} writes" if reads or writes else "1 call"
        calculated = book.calc.calls - before
    return best, transfers, calculated


def main(argv: list[str] | None = None) -> int:
    from support.standin_calc import calculate_full

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workouts", type=int, default=1000)
    parser.add_argument("--formulas", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    book, drawn = member_book(args.workouts, args.formulas)
    cells = sum(len(s.cells) for s in book.sheets)
    formulas = sum(1 for s in book.sheets for c in s.cells if s.is_formula(c))
    cells_formula = recalc.recalculate_functions(book, skip=drawn)  # warm the function index once
    variants = [
        ("re-enter the PELOTON_ formulas (the live writer)", lambda: recalc.recalculate_functions(book, skip=drawn)),
        ("whole book (CalculateFull)", lambda: calculate_full(book)),
    ]
    print(
        f"Book after a live refresh of {args.workouts:,} demo workouts: {len(book.sheets)} sheets, {cells:,} "
        f"cells, {formulas:,} formulas of which {cells_formula:,} call PELOTON_ functions\n"
    )
    print(f"| variant | seconds (best of {args.repeat}) | formula transfers | functions called |")
    print("|---|---:|---:|---:|")
    results = []
    for name, run in variants:
        seconds, transfers, called = measure(book, run, args.repeat)
        results.append(seconds)
        print(f"| {name} | {seconds:.3f} | {transfers} | {called:,} |")
    faster = "re-entering" if results[0] <= results[1] else "the whole book"
    print(f"\nfaster in the stand-in: {faster} ({results[0]:.3f} s against {results[1]:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
