"""What a finished refresh says at the terminal: the closing line (stdout), then each of its problems
(`RefreshResult.problems`) with a list: a heading and one line a workout or CSV row (stderr)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl.wording import plural

if TYPE_CHECKING:
    from pelotonxl.model.problems import Problems
    from pelotonxl.refresh_job import RefreshResult

LISTED = 10  # failures listed one by one; the rest as a count (all with -v)

log = logging.getLogger("peloton_xl")


def report(result: RefreshResult, workbook: Path, through_excel: bool, verbose: bool = False) -> None:
    new = result.sync.new
    pruned = f", {result.sync.pruned} removed" if result.sync.pruned else ""
    where = f"the open {workbook.name} in Excel (not saved yet: save it there)" if through_excel else workbook.name
    problems = result.problems
    if result.imported is not None:
        added = f"{result.imported.added} new from {result.imported.file}"
        print(f"{plural(result.rows, 'workout')} ({added}) written to {where} in {result.seconds:.1f} s")
        _list_problems(problems, verbose)
        return
    # A problem without a list (the notes a --full dropped) is said in the closing line.
    said = "".join(f"; {p.what('terminal')}" for p in problems if not p.items)
    route = f"; {result.route_note}" if result.route_note else ""
    print(
        f"{plural(result.rows, 'workout')} ({new} new{pruned}) written to {where} in {result.seconds:.1f} s"
        f"{said}{route}"
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
    _list_problems(problems, verbose)


def _list_problems(problems: Problems, verbose: bool) -> None:
    """Each problem with a list on stderr: its heading, then one line an item, the first LISTED of them
    and a count of the rest unless -v."""
    for problem in problems:
        if not problem.items:
            continue
        lines = problem.lines()
        print(problem.heading(), file=sys.stderr)
        for line in lines if verbose else lines[:LISTED]:
            print(f"  {line}", file=sys.stderr)
        if not verbose and len(lines) > LISTED:
            print(f"  … and {len(lines) - LISTED} more (run with -v to list them all)", file=sys.stderr)
