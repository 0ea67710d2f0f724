"""What went wrong in a refresh, as one record, and the one place it is worded.

A refresh's problems (workouts whose details could not be fetched, ones that seem unavailable, ones that
cannot be read, notes that went with removed workouts, rows of an imported CSV that could not be read)
are a `Problems` record, built by `Problems.found` from what the refresh knows. The terminal
(`commands/report.py`), the ribbon's closing box (`ribbon.py`) and the Config sheet's Last result
(`WorkbookContent.status`) only render it: a heading and one line a workout, one sentence, one line. A
new kind of problem is a member of `Kind`, a row of `_WORDS` and an argument of `Problems.found`, and every
surface says it (tests/test_problems_generated.py checks that they do).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from pelotonxl.wording import plural

Surface = Literal["terminal", "excel"]


class Kind(enum.Enum):
    FAILED = "failed"  # details (the graph) not fetched this time: retried on the next refresh
    UNAVAILABLE = "unavailable"  # failed on several refreshes: tried quietly from now on
    UNREADABLE = "unreadable"  # fields Peloton sent that cannot be read: skipped, or kept without them
    NOTES_DROPPED = "notes_dropped"  # a --full took the notes of workouts gone from Peloton with them
    CSV_ROWS = "csv_rows"  # rows of an imported CSV left out, or with a cell left blank


@dataclass(frozen=True)
class _Words:
    what: str  # what happened; {count} is "N workouts" (or rows), {file} the imported file's name
    todo: str  # what happens next or what to do ("" when nothing); {full}: the surface's full refresh
    noun: str = "workout"
    exit_3: bool = True  # the refresh exits with status 3: something the member asked for is missing
    named: int = 3  # items the Config cell names (the rest are counted): Workout IDs are short, CSV lines not


_WORDS: dict[Kind, _Words] = {
    Kind.FAILED: _Words("the details of {count} could not be fetched", "the next refresh retries them"),
    Kind.UNAVAILABLE: _Words(
        "the details of {count} seem unavailable on Peloton after failing on several refreshes",
        "they are tried quietly from now on, properly by {full}",
    ),
    Kind.UNREADABLE: _Words("{count} came from Peloton with fields that cannot be read", ""),
    Kind.NOTES_DROPPED: _Words(
        "your notes on {count} removed from Peloton went with them",
        "",
        exit_3=False,  # what a full refresh does when asked: nothing the member lacks
    ),
    Kind.CSV_ROWS: _Words(
        "{count} of {file} could not be read as written", "the rest were imported", noun="row", named=1
    ),
}
_FULL_REFRESH: dict[Surface, str] = {"terminal": "--full", "excel": "a Full refresh"}


@dataclass(frozen=True)
class Problem:
    """One kind of problem: how many, and which (a label, a Workout ID or a CSV line, and why)."""

    kind: Kind
    count: int
    items: tuple[tuple[str, str], ...] = ()
    file: str = ""  # the imported CSV's name (CSV_ROWS)

    def what(self, surface: Surface) -> str:
        """What happened, and what next, as a clause: `the details of 2 workouts could not be fetched (the
        next refresh retries them)`."""
        words = _WORDS[self.kind]
        what = self._say(words.what, surface)
        return f"{what} ({self._say(words.todo, surface)})" if words.todo else what

    def heading(self) -> str:
        """The terminal's heading of the list of items: a sentence ending in a colon."""
        words = _WORDS[self.kind]
        text = self._say(words.what, "terminal") + (f"; {self._say(words.todo, 'terminal')}" if words.todo else "")
        return _capital(text) + (":" if self.items else ".")

    def lines(self) -> list[str]:
        """One line an item, in order: `<Workout ID>: <why>`."""
        return [f"{label}: {why}" if why else label for label, why in self.items]

    def one_line(self) -> str:
        """The Config cell's part: the clause, then the first items' labels."""
        labels, shown = [label for label, _ in self.items], _WORDS[self.kind].named
        named = ", ".join(labels[:shown]) + (f" and {len(labels) - shown} more" if len(labels) > shown else "")
        return self.what("excel") + (f": {named}" if named else "")

    @property
    def exit_3(self) -> bool:
        return _WORDS[self.kind].exit_3

    def _say(self, template: str, surface: Surface) -> str:
        noun = _WORDS[self.kind].noun
        return template.format(count=plural(self.count, noun), file=self.file, full=_FULL_REFRESH[surface])


@dataclass(frozen=True)
class Problems:
    """A refresh's problems, one `Problem` a kind present, in `Kind`'s order."""

    each: tuple[Problem, ...] = ()

    @classmethod
    def found(
        cls,
        *,
        failed: Mapping[str, str] | None = None,
        unavailable: Mapping[str, str] | None = None,
        unreadable: Mapping[str, str] | None = None,
        notes_dropped: int = 0,
        csv_rows: Iterable[str] = (),
        csv_file: str = "",
    ) -> Problems:
        """The record of what a refresh (or an import) found: workout id (or label) -> why, for the
        workouts; the dropped notes' count; the CSV's problem lines ("file, line N, column C: why")."""
        each = [
            Problem(kind, len(ids), tuple(sorted(ids.items())))
            for kind, ids in ((Kind.FAILED, failed), (Kind.UNAVAILABLE, unavailable), (Kind.UNREADABLE, unreadable))
            if ids
        ]
        if notes_dropped:
            each.append(Problem(Kind.NOTES_DROPPED, notes_dropped))
        rows = tuple((line, "") for line in csv_rows)
        if rows:
            each.append(Problem(Kind.CSV_ROWS, len(rows), rows, csv_file))
        return cls(tuple(each))

    def with_notes_dropped(self, count: int) -> Problems:
        """These problems and `count` workouts' notes dropped (what only the writer finds out)."""
        if not count:
            return self
        kept = [p for p in self.each if p.kind is not Kind.NOTES_DROPPED]
        return replace(self, each=tuple(sorted([*kept, Problem(Kind.NOTES_DROPPED, count)], key=_order)))

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.each)

    def __bool__(self) -> bool:
        return bool(self.each)

    @property
    def exit_code(self) -> int:
        """3 when a workout (or a CSV row) is missing or incomplete; dropped notes alone are 0."""
        return 3 if any(p.exit_3 for p in self.each) else 0

    def sentence(self, surface: Surface = "excel") -> str:
        """Every problem in one clause list: `the details of 2 workouts could not be fetched (…); …`."""
        return "; ".join(p.what(surface) for p in self.each)

    def one_line(self) -> str:
        """The Config sheet's Last result: every problem, with the first workouts of each named."""
        return _capital("; ".join(p.one_line() for p in self.each))


def _order(problem: Problem) -> int:
    return list(Kind).index(problem.kind)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
