"""Every surface says every problem a refresh had, with its count, and none it did not have.

Hypothesis draws a refresh's (or an import's) problems in any combination; the terminal (`commands/report.py`),
the ribbon's closing box (`ribbon.closing_message`) and the Config sheet's Last result (the `Status` the
refresh or the import hands the writer, with the notes the writer dropped) are each rendered, and each must
name every kind present, with its count, and no kind absent. A new kind of problem fails here until the test
knows a phrase of it, and then until every surface says it.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pelotonxl.commands.report import LISTED, report
from pelotonxl.import_job import import_status
from pelotonxl.model.problems import Kind
from pelotonxl.model.workbook import STATUS_NAMES
from pelotonxl.peloton.sync import SyncReport
from pelotonxl.refresh_job import ImportSummary, RefreshResult, refresh_status
from pelotonxl.ribbon import closing_message
from pelotonxl.wording import plural

# A phrase each kind is said with on every surface, and the noun it is counted in (this test's own list).
SAID = {
    Kind.FAILED: ("could not be fetched", "workout"),
    Kind.UNAVAILABLE: ("seem unavailable", "workout"),
    Kind.UNREADABLE: ("cannot be read", "workout"),
    Kind.NOTES_DROPPED: ("your notes", "workout"),
    Kind.CSV_ROWS: ("could not be read as written", "row"),
}
ROWS = 987  # the workouts written: a count no problem is drawn with
CSV = "workouts.csv"


def test_the_test_knows_every_kind():
    assert set(SAID) == set(Kind)


def ids(first: int) -> st.SearchStrategy[dict[str, str]]:
    """Up to 14 workouts (past the ten the terminal lists), ids from their own range so kinds never share one."""
    return st.sets(st.integers(first, first + 999), max_size=14).map(
        lambda numbers: {f"{n:032x}": "HTTP 500" for n in numbers}
    )


refreshes = st.fixed_dictionaries(
    {
        Kind.FAILED: ids(0),
        Kind.UNAVAILABLE: ids(1000),
        Kind.UNREADABLE: ids(2000),
        Kind.NOTES_DROPPED: st.integers(0, 14),
        Kind.CSV_ROWS: st.just(0),
    }
)
imports = st.fixed_dictionaries(
    {
        Kind.FAILED: st.just({}),
        Kind.UNAVAILABLE: st.just({}),
        Kind.UNREADABLE: st.just({}),
        Kind.NOTES_DROPPED: st.just(0),
        Kind.CSV_ROWS: st.integers(0, 14),
    }
)


def count_of(drawn: dict, kind: Kind) -> int:
    value = drawn[kind]
    return len(value) if isinstance(value, dict) else value


def result_of(drawn: dict) -> RefreshResult:
    sync = SyncReport(
        total=ROWS,
        failed=drawn[Kind.FAILED],
        unavailable=drawn[Kind.UNAVAILABLE],
        unreadable=drawn[Kind.UNREADABLE],
    )
    imported = None
    if drawn.get("import"):
        lines = [f"{CSV}, line {n + 2}, column Title: empty (row left out)" for n in range(drawn[Kind.CSV_ROWS])]
        imported = ImportSummary(CSV, 5, 5 + len(lines), lines)
    return RefreshResult(
        sync,
        ROWS,
        1.0,
        0.5,
        3,
        failed=dict(drawn[Kind.FAILED]),
        imported=imported,
        notes_dropped=drawn[Kind.NOTES_DROPPED],
    )


def terminal(result: RefreshResult, verbose: bool) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        report(result, Path("PelotonWorkbook.xlsm"), through_excel=False, verbose=verbose)
    return out.getvalue(), err.getvalue()


def last_result(result: RefreshResult) -> str:
    """Last result as the writer writes it: the refresh's (or the import's) status, with the notes it dropped."""
    status = import_status(result.imported) if result.imported else refresh_status(result.sync, 5)
    return str(status.cells(result.notes_dropped)[STATUS_NAMES["last_result"][0]])


def assert_says_exactly(text: str, drawn: dict, surface: str) -> None:
    """Each kind present is said in a part of `text` (a line, or a clause between semicolons) that carries
    its count; no kind absent is said at all."""
    parts = [part for line in text.splitlines() for part in line.split("; ")]
    for kind, (phrase, noun) in SAID.items():
        saying = [part for part in parts if phrase in part.lower()]
        count = count_of(drawn, kind)
        if not count:
            assert not saying, f"{surface} says {kind.name}, which did not happen: {text!r}"
            continue
        counted = re.compile(rf"(?<!\d){re.escape(plural(count, noun))}\b")
        assert any(counted.search(part) for part in saying), f"{surface} misses {count} {kind.name}: {text!r}"


@given(drawn=st.one_of(refreshes, imports.map(lambda d: {**d, "import": True})), verbose=st.booleans())
def test_every_surface_says_every_problem_with_its_count_and_no_other(drawn, verbose):
    result = result_of(drawn)
    present = {kind for kind in Kind if count_of(drawn, kind)}

    out, err = terminal(result, verbose)
    assert_says_exactly(out + err, drawn, "the terminal")
    box = closing_message(result, [])
    assert (box is None) == (not present)
    assert_says_exactly(box or "", drawn, "the box")
    cell = last_result(result)
    assert_says_exactly(cell, drawn, "Last result")
    assert cell.startswith("OK") == (not present)

    # The terminal lists each workout (or row) of a kind under its heading: ten and a count, or all with -v.
    listed = [line for line in err.splitlines() if line.startswith("  ") and not line.startswith("  … and")]
    with_lists = [count_of(drawn, kind) for kind in present if kind is not Kind.NOTES_DROPPED]
    assert len(listed) == sum(n if verbose else min(n, LISTED) for n in with_lists)
    assert err.count("more (run with -v to list them all)") == (0 if verbose else sum(n > LISTED for n in with_lists))
    # Exit status 3 from the same record: anything but dropped notes.
    assert result.exit_code == (3 if present - {Kind.NOTES_DROPPED} else 0)
