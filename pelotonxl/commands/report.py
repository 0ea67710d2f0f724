"""What a finished refresh says at the terminal: the closing line, then the workouts it could not
fetch or read, one per line (stdout: the closing line; stderr: the rest)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl.wording import plural

if TYPE_CHECKING:
    from pelotonxl.refresh_job import RefreshResult

LISTED = 10  # failures listed one by one; the rest as a count (all with -v)

log = logging.getLogger("peloton_xl")


def report(
    result: RefreshResult, workbook: Path, through_excel: bool, verbose: bool = False, notes_dropped: int = 0
) -> None:
    new = result.sync.new
    pruned = f", {result.sync.pruned} removed" if result.sync.pruned else ""
    where = f"the open {workbook.name} in Excel (not saved yet: save it there)" if through_excel else workbook.name
    if result.imported is not None:
        _report_import(result, where, verbose)
        return
    notes = f"; your notes on {plural(notes_dropped, 'removed workout')} went with them" if notes_dropped else ""
    route = f"; {result.route_note}" if result.route_note else ""
    print(
        f"{plural(result.rows, 'workout')} ({new} new{pruned}) written to {where} in {result.seconds:.1f} s"
        f"{notes}{route}"
    )
    log.info(
        "%s, %s, %s fetched; workbook written in %.2f s",
        plural(result.requests, "Peloton request"),
        plural(result.sync.pages, "page"),
        plural(result.sync.graphs_fetched, "graph"),
        result.write_seconds,
    )
    if result.sync.refined or result.sync.coarse_left:
        log.warning(
            "%d stored graphs refined to the Graph sampling setting; %d to go, refined by the next refreshes",
            result.sync.refined,
            result.sync.coarse_left,
        )
    _list_problems(
        f"Details of {plural(len(result.failed), 'workout')} could not be fetched; "
        "they will be retried on the next refresh:",
        result.failed,
        verbose,
    )
    _list_problems(
        f"Details of {plural(len(result.sync.unavailable), 'workout')} have failed on several "
        "refreshes and seem unavailable on Peloton; they are tried quietly from now on "
        "(--full tries properly):",
        result.sync.unavailable,
        verbose,
    )
    _list_problems(
        f"{plural(len(result.sync.unreadable), 'workout')} came from Peloton with fields that cannot be read:",
        result.sync.unreadable,
        verbose,
    )


def _report_import(result: RefreshResult, where: str, verbose: bool) -> None:
    """The closing line of a CSV import, then each row that could not be read as it is."""
    imported = result.imported
    assert imported is not None
    print(
        f"{plural(result.rows, 'workout')} ({imported.added} new from {imported.file}) written to {where} in "
        f"{result.seconds:.1f} s"
    )
    if imported.problems:
        heading = f"{plural(len(imported.problems), 'row')} of {imported.file} could not be read as written:"
        _list_lines(heading, imported.problems, verbose)


def _list_problems(heading: str, problems: dict[str, str], verbose: bool) -> None:
    """A heading and one line per workout: the first LISTED of them, and a count of the rest unless -v."""
    if problems:
        _list_lines(heading, [f"{wid}: {why}" for wid, why in sorted(problems.items())], verbose)


def _list_lines(heading: str, lines: list[str], verbose: bool) -> None:
    print(heading, file=sys.stderr)
    for line in lines if verbose else lines[:LISTED]:
        print(f"  {line}", file=sys.stderr)
    if not verbose and len(lines) > LISTED:
        print(f"  … and {len(lines) - LISTED} more (run with -v to list them all)", file=sys.stderr)
