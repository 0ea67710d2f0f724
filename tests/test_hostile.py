"""A hostile server and machine (issue 11): every fault ends in one clear line or a partial result,
never a hang, a traceback or an hour of retries; the workbook and the store stay intact.

The CLI runs in this process against the local Peloton server (tests/support/faulty_peloton.py);
docs/what-happens-when.md has a row for each story.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import re
import runpy
import sqlite3
import sys
import time
import types
import uuid
from email.utils import formatdate
from pathlib import Path

import pytest
from support import CLI, one_line_error, table_rows, table_values

from pelotonxl import atomic_file
from pelotonxl.commands import refresh, targets
from pelotonxl.errors import LoginError
from pelotonxl.peloton import client as api
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.store import WorkoutStore, is_finished
from pelotonxl.peloton.sync import UNAVAILABLE_AFTER
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import safety

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

N = 40  # the conftest account


def finished(account) -> int:
    return sum(1 for w in account.workouts if is_finished(w))


def store_counts(home: Path, account) -> tuple[int, int]:
    with sqlite3.connect(WorkoutStore.path_for(home, account.user_id)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return (
            db.execute("SELECT COUNT(*) FROM workouts").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM graphs").fetchone()[0],
        )


def workout_rows(path: Path) -> dict[str, dict]:
    """The Workouts table as Workout ID -> {header: value}."""
    header, *rows = table_values(path, "Workouts")[1]
    return {row[0]: dict(zip(header, row, strict=False)) for row in rows}


def requests_to(server, suffix: str) -> list:
    return [r for r in server.requests if r.path.endswith(suffix)]


class ScaledTime:
    """A clock that runs `factor` times faster than the wall: Retry-After and backoff waits are
    honoured in full on it while the test sleeps only a fraction of them."""

    def __init__(self, factor: float = 50.0):
        self.factor = factor
        self.start = time.monotonic()

    def clock(self) -> float:
        return (time.monotonic() - self.start) * self.factor

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds / self.factor)


class WaitOnlyTime:
    """A clock that moves only when the code waits: the time a request takes on a busy machine costs
    nothing, so a budget counts waits alone and the number of tries it allows is the same everywhere."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def pacers(monkeypatch):
    """Every Pacer a run makes, on scaled time, kept for inspection."""
    made: list[api.Pacer] = []
    scaled = ScaledTime()
    real = api.Pacer

    def make(**kwargs):
        kwargs.setdefault("clock", scaled.clock)
        kwargs.setdefault("sleep", scaled.sleep)
        pacer = real(**kwargs)
        made.append(pacer)
        return pacer

    monkeypatch.setattr(api, "Pacer", make)
    return made


# --- 1. paging that never ends -----------------------------------------------------------------


def _first_page(edit):
    """A list rewrite that works from page 0's workouts on every page (the account fits on one)."""
    first: list[dict] = []

    def rewrite(body: dict, query: dict) -> dict:
        first[:] = first or body["data"]
        return edit({**body, "data": list(first)})

    return rewrite


@_first_page
def _same_page_forever(body: dict) -> dict:
    return {**body, "show_next": True, "page_count": 10**6}


@_first_page
def _past_its_page_count(body: dict) -> dict:
    fresh = [{**w, "id": uuid.uuid4().hex} for w in body["data"]]  # new ids: only page_count can tell
    return {**body, "data": fresh, "show_next": True, "page_count": 2}


@_first_page
def _endless_new_pages(body: dict) -> dict:
    fresh = [{**w, "id": uuid.uuid4().hex} for w in body["data"][:5]]
    return {**body, "data": fresh, "show_next": True, "page_count": None}


@pytest.mark.parametrize(
    "server_fault, pages, words",
    [
        (_same_page_forever, 2, "page 1 with nothing new"),
        (_past_its_page_count, 2, "page 3 of 2"),
        (_endless_new_pages, 4, "more than 4 pages"),
    ],
)
def test_paging_that_never_ends_stops_with_one_line_and_the_workbook_untouched(
    server, workbook, home, run_cli, monkeypatch, server_fault, pages, words
):
    monkeypatch.setattr(api, "MAX_PAGES", 4)  # the sane bound, scaled down
    server.rewrite(r"/workouts$", server_fault)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert words in message and "stopped listing" in message
    assert len(requests_to(server, "/workouts")) == pages
    assert workbook.read_bytes() == before


# --- 2. a graph that always fails --------------------------------------------------------------


def test_a_graph_that_always_fails_is_tried_once_per_refresh_then_reported_once_as_unavailable(
    server, workbook, home, account, run_cli, pacers
):
    bad = account.workouts[5]["id"]
    server.always_fail_graph(bad, status=500)
    result = run_cli(server, workbook, home)
    assert result.returncode == 3 and f"  {bad}:" in result.stderr
    assert 2 <= len(requests_to(server, f"{bad}/performance_graph")) <= 5  # a new workout: retried properly

    # A nothing-new refresh without the fault, for the cost to compare with.
    seen = []
    for run in range(2, UNAVAILABLE_AFTER + 3):
        server.clear_requests()
        result = run_cli(server, workbook, home)
        seen.append(
            (
                result.returncode,
                len(requests_to(server, f"{bad}/performance_graph")),
                len(server.requests),
                sum(p.waits != [] for p in pacers[-1:]),
            )
        )
        if run < UNAVAILABLE_AFTER:
            assert "could not be fetched" in result.stderr and f"  {bad}:" in result.stderr
        elif run == UNAVAILABLE_AFTER:
            assert "seem unavailable on Peloton" in result.stderr and f"  {bad}:" in result.stderr
        else:
            assert bad not in result.stderr and result.stderr == ""
        assert len(table_rows(workbook, "Workouts")) == N
    # One try per refresh, no backoff, exit 3 until it is reported as unavailable, then 0.
    assert [s[0] for s in seen] == [3] * (UNAVAILABLE_AFTER - 1) + [0, 0]
    assert [s[1] for s in seen] == [1] * len(seen)
    assert [s[3] for s in seen] == [0] * len(seen)

    server.always_fail_graph(None)
    server.always_fail_graph(account.workouts[6]["id"])  # not owed: the store has its graph
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    normal = len(server.requests)
    assert all(s[2] <= 2 * normal for s in seen)  # at most twice a normal nothing-new refresh
    assert store_counts(home, account) == (N, finished(account))

    # --full tries properly again, and says so.
    server.always_fail_graph(bad, status=500)
    server.clear_requests()
    result = run_cli(server, workbook, home, "--full")
    assert result.returncode == 3 and f"  {bad}:" in result.stderr
    assert len(requests_to(server, f"{bad}/performance_graph")) >= 2


# --- 3. a burst of rate limiting ---------------------------------------------------------------


def test_a_burst_of_429_with_retry_after_is_waited_out_by_the_whole_pool(
    server, workbook, home, account, run_cli, pacers
):
    server.fail_next(r"/performance_graph$", status=429, times=20, headers={"Retry-After": "1"})
    result = run_cli(server, workbook, home, "--workers", "4")
    assert result.returncode == 0, result.stderr
    assert [r.status for r in server.requests].count(429) == 20
    assert store_counts(home, account) == (N, finished(account))
    assert len(table_rows(workbook, "Workouts")) == N
    (pacer,) = pacers
    assert pacer.waits.count(1.0) == 20  # every Retry-After honoured, for the whole pool


def test_a_rate_limit_that_never_lifts_gives_up_when_the_budget_is_spent(server, workbook, home, run_cli, monkeypatch):
    scaled = WaitOnlyTime()  # on a wall-based clock a loaded machine spent the budget on requests alone
    monkeypatch.setattr(
        api, "Pacer", functools.partial(api.Pacer, clock=scaled.clock, sleep=scaled.sleep, give_up_after=10.0)
    )
    server.fail_next(r"/workouts$", status=429, times=10_000, headers={"Retry-After": "1"})
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    seconds = int(re.search(r"kept failing for (\d+) seconds", one_line_error(result)).group(1))
    assert 5 <= seconds <= 10  # the time really spent waiting, within the 10 s budget
    # More than the 5 attempts of other faults (a Retry-After costs none), bounded by the budget.
    assert 5 < len(requests_to(server, "/workouts")) <= 12
    assert workbook.read_bytes() == before


def test_retry_after_as_seconds_or_an_http_date():
    class Reply:
        def __init__(self, value):
            self.headers = {"Retry-After": value} if value is not None else {}

    now = 1_700_000_000.0
    assert api._retry_after(Reply("7"), now=lambda: now) == 7.0
    assert api._retry_after(Reply(formatdate(now + 30, usegmt=True)), now=lambda: now) == 30.0
    assert api._retry_after(Reply(formatdate(now - 30, usegmt=True)), now=lambda: now) == 0.0
    assert api._retry_after(Reply("soon"), now=lambda: now) is None
    assert api._retry_after(Reply("nan"), now=lambda: now) is None
    assert api._retry_after(Reply(None), now=lambda: now) is None


# --- 4. foreseeable conditions: one line, exit 1, before any request -------------------------------


def test_a_state_folder_that_refuses_writes_is_named_before_the_sign_in(server, workbook, home, run_cli, monkeypatch):
    home.mkdir(parents=True)
    real = Path.write_bytes

    def refuse(self, data):  # chmod does not stop root: refuse the way a read-only folder does
        if self.parent == home:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", refuse)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert str(home) in message and "Permission denied" in message and "PELOTON_XL_HOME" in message
    assert server.requests == [] and workbook.read_bytes() == before


def test_a_new_workbook_in_a_read_only_folder_is_refused_before_any_request(
    server, tmp_path, home, run_cli, monkeypatch
):
    folder = tmp_path / "read-only"
    folder.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == folder else real(p, mode, **kw))
    result = run_cli(server, folder / "New.xlsm", home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "read-only" in message and str(folder) in message and "--workbook" in message
    assert server.requests == [] and list(folder.iterdir()) == []


@pytest.mark.parametrize("full_folder", ["workbook", "state"])
def test_a_nearly_full_disk_is_refused_before_any_request(server, workbook, home, run_cli, monkeypatch, full_folder):
    real = targets.shutil.disk_usage
    home.mkdir(parents=True)
    crowded = workbook.parent if full_folder == "workbook" else home

    def usage(path):
        found = real(path)
        return found._replace(free=2**20) if Path(path) == crowded else found

    monkeypatch.setattr(targets.shutil, "disk_usage", usage)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "is full (1 MB free" in message and f"the {full_folder}" in message
    assert server.requests == [] and workbook.read_bytes() == before


def test_the_disk_filling_up_during_the_save_is_one_line_and_the_workbook_intact(
    server, workbook, home, account, run_cli, monkeypatch
):
    def full_disk(self, stream):
        stream.write(b"PK\x03\x04 half a workbook")
        raise OSError(errno.ENOSPC, "No space left on device", stream.name)

    monkeypatch.setattr(xp.Package, "write_zip", full_disk)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "the disk is full writing" in message and "workbook is unchanged" in message
    assert workbook.read_bytes() == before
    assert not list(workbook.parent.glob(f"{safety.TEMP_PREFIX}*"))
    assert store_counts(home, account) == (N, finished(account))  # the download is kept


def test_the_disk_filling_up_under_the_store_is_one_line(server, workbook, home, account, run_cli, monkeypatch):
    def full_disk(self, graphs, every_n):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(WorkoutStore, "save_graphs", full_disk)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "local store could not be written (database or disk is full)" in message
    assert workbook.read_bytes() == before
    assert store_counts(home, account)[1] == 0


@pytest.mark.parametrize("lifetime", ["soon", "inf", -5, True])
def test_a_token_reply_with_an_unreadable_lifetime_is_one_line(server, workbook, home, run_cli, lifetime):
    server.rewrite(r"^/oauth/token$", lambda body, query: {**body, "expires_in": lifetime})
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert f"unreadable lifetime (expires_in {str(lifetime)!r})" in one_line_error(result)
    assert server.request_count("/api") == 0 and workbook.read_bytes() == before


# --- 5. one bad workout must not sink the others ------------------------------------------------


def test_unreadable_workouts_are_named_exit_3_and_every_other_one_lands(server, workbook, home, account, run_cli):
    text_created, text_work, number_id = (account.workouts[i]["id"] for i in (1, 2, 3))

    def spoil(body: dict, query: dict) -> dict:
        data = []
        for w in body["data"]:
            if w["id"] == text_created:
                w = {**w, "created_at": "yesterday"}
            elif w["id"] == text_work:
                w = {**w, "total_work": "lots"}
            elif w["id"] == number_id:
                w = {**w, "id": 12345}
            data.append(w)
        return {**body, "data": data}

    server.rewrite(r"/workouts$", spoil)
    result = run_cli(server, workbook, home)
    assert result.returncode == 3
    assert result.stdout.startswith(f"{N - 2} workouts ({N - 2} new) written to")
    assert "3 workouts came from Peloton with fields that cannot be read:" in result.stderr
    assert f"  {text_created}: skipped: its created_at 'yesterday' is not a time" in result.stderr
    assert f"  {text_work}: kept, but total_work 'lots' is not a number: left blank" in result.stderr
    assert "  12345: skipped: its id 12345 is not text" in result.stderr
    rows = workout_rows(workbook)
    assert len(rows) == N - 2 and text_created not in rows and text_work in rows
    assert rows[text_work]["Total Output (kJ)"] is None and rows[text_work]["Start"] is not None
    assert store_counts(home, account)[0] == N - 2


# --- 6. the smaller ones -------------------------------------------------------------------------


def test_ctrl_c_while_the_libraries_import_is_one_line_without_traceback(monkeypatch, capsys):
    class Interrupted(types.ModuleType):
        def __getattr__(self, name):
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "pelotonxl.cli", Interrupted("pelotonxl.cli"))
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(CLI), run_name="__main__")
    out, err = capsys.readouterr()
    assert exit_.value.code == 130 and out == ""
    assert err.strip().splitlines() == ["peloton_xl: interrupted before the refresh started; nothing was changed."]


def test_ctrl_c_just_after_the_workbook_was_replaced_does_not_say_it_is_unchanged(
    server, workbook, home, run_cli, monkeypatch
):
    real_fsync_folder = atomic_file.fsync_folder

    def interrupted(folder):
        if folder == workbook.parent:  # the workbook's replace, not the state folder's files
            raise KeyboardInterrupt  # lands after os.replace, while the folder is flushed
        real_fsync_folder(folder)

    monkeypatch.setattr(atomic_file, "fsync_folder", interrupted)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert "after the workbook was written" in message and "unchanged" not in message
    assert workbook.read_bytes() != before and len(table_rows(workbook, "Workouts")) == N


def test_ctrl_c_before_the_save_still_says_the_workbook_is_unchanged(server, workbook, home, run_cli, monkeypatch):
    def interrupted(self, stream):
        raise KeyboardInterrupt

    monkeypatch.setattr(xp.Package, "write_zip", interrupted)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1 and "the workbook is unchanged" in one_line_error(result)
    assert workbook.read_bytes() == before


def test_ctrl_c_after_the_closing_line_keeps_the_real_exit_status(server, workbook, home, run_cli, monkeypatch):
    closes = itertools.count()

    class Progress(refresh.TerminalProgress):
        def close(self):
            super().close()
            if next(closes) == 1:  # the second close: as the run winds down, after the closing line
                raise KeyboardInterrupt

    monkeypatch.setattr(refresh, "TerminalProgress", Progress)
    result = run_cli(server, workbook, home)
    assert result.returncode == 0 and result.stdout.startswith(f"{N} workouts ({N} new) written")
    assert result.stderr == ""


def test_an_unknown_time_zone_is_said_once(server, workbook, home, account, run_cli):
    odd = {account.workouts[i]["id"] for i in (0, 4, 8)}
    server.rewrite(
        r"/workouts$",
        lambda body, query: {
            **body,
            "data": [{**w, "timezone": "Mars/Olympus_Mons"} if w["id"] in odd else w for w in body["data"]],
        },
    )
    result = run_cli(server, workbook, home)
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        (
            "peloton_xl: 3 workouts have a time zone this computer does not know (Mars/Olympus_Mons): "
            "their times are shown in UTC (-v lists them)."
        )
    ]
    rows = workout_rows(workbook)
    assert {rows[wid]["Time Zone"] for wid in odd} == {"UTC"}


def test_a_long_run_of_failures_lists_ten_and_a_count(server, workbook, home, account, run_cli, pacers):
    for w in account.workouts[:15]:
        server.always_fail_graph(w["id"], status=404)
    result = run_cli(server, workbook, home)
    assert result.returncode == 3
    listed = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(listed) == 11 and listed[-1] == "  … and 5 more (run with -v to list them all)"


# --- messages that blamed the wrong thing ---------------------------------------------------------


def test_an_invalid_sign_in_url_blames_the_setting_not_the_connection(server, workbook, home, run_cli):
    result = run_cli(server, workbook, home, PELOTON_AUTH_URL="htp//auth.example")
    assert result.returncode == 1
    message = one_line_error(result)
    assert "Check the Sign-in URL setting" in message and "connection" not in message


def test_a_huge_username_is_not_echoed_in_full(server, workbook, home, run_cli):
    result = run_cli(server, workbook, home, PELOTON_USERNAME="x" * 100_000 + "@example.com")
    assert result.returncode == 1
    message = one_line_error(result)
    assert "refused the sign-in for xxx" in message and len(message) < 400


def test_a_401_that_survives_renewal_says_where_the_saved_sign_in_is(server, workbook, home, run_cli):
    server.fail_next(r"/workouts$", status=401, times=2)
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert f"delete the saved sign-in {home / 'tokens'}" in message


def test_an_empty_password_at_the_prompt_says_so(settings, home):
    settings.password = ""
    auth = Authenticator(settings, TokenStore(home, settings.username), api.new_session(1), lambda: "")
    with pytest.raises(LoginError, match="No password was typed"):
        auth.access_token()
