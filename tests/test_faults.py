"""Faults and bad input, end to end: a refresh never loses data, never corrupts the workbook.

Every story goes through the real pieces: the local Peloton server with a fault switched on, the
real CLI (in this process, stdin not a terminal; as a subprocess with stdin closed, like a scheduler,
where exit statuses, the entry script or a kill are the point), the real SQLite store and a copy of
the committed workbook. tests/test_workbook_faults.py has the workbook's own faults;
docs/what-happens-when.md is the member-facing version of both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from support import CLI, PASSWORD, USERNAME, cli_env, one_line_error, table_rows
from support import run_cli as run_cli_subprocess
from support.faulty_peloton import FaultyPeloton
from support.workbook_samples import (
    SampleTable,
    read_parts,
    sample_content,
    sheet_parts,
)

from pelotonxl.demo.account import make_account
from pelotonxl.model.workbook import Status
from pelotonxl.peloton import client as api
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.store import WorkoutStore, is_finished
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import writer
from pelotonxl.xlsx.safety import TEMP_PREFIX

# openpyxl reads back workbooks holding data bars and sparklines on other sheets: it says it would drop them.
# Every story here is a whole refresh against a misbehaving server: the end-to-end tier.
pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")]

N = 60  # workouts in the account: enough for pages, pools and batches, small enough to run often


@pytest.fixture
def account():
    return make_account(N, seed=11)


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def scaled_backoff(monkeypatch):
    """Exponential backoff scaled down a hundredfold; a Retry-After is still waited in full."""
    monkeypatch.setattr(api, "Pacer", functools.partial(api.Pacer, base=0.01, cap=0.6))


def store_file(home: Path, account) -> Path:
    return WorkoutStore.path_for(home, account.user_id)


def store_counts(home: Path, account) -> tuple[int, int]:
    """(workouts, graphs) in the account's store, after SQLite's own integrity check."""
    with sqlite3.connect(store_file(home, account)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return (
            db.execute("SELECT COUNT(*) FROM workouts").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM graphs").fetchone()[0],
        )


def token_posts(server: FaultyPeloton) -> list[int | None]:
    return [r.status for r in server.requests if r.path == "/oauth/token"]


def finished_count(account) -> int:
    return sum(1 for w in account.workouts if is_finished(w))


def make_stored_token_due(home: Path) -> None:
    """Time passes: the saved access token is due for renewal (instead of sleeping its life away)."""
    store = TokenStore(home, USERNAME)
    store.save(dataclasses.replace(store.load(), expires_at=time.time()))


# --- signing in ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user, password",
    [pytest.param(USERNAME, "wrong password", marks=pytest.mark.e2e), ("nobody@example.com", PASSWORD)],
)
def test_wrong_password_or_unknown_user_is_one_line_and_the_workbook_is_untouched(
    server, workbook, home, run_cli, user, password
):
    before = workbook.read_bytes()
    run = run_cli_subprocess if user == USERNAME else run_cli  # one through the entry script, as a shell sees it
    result = run(server, workbook, home, password=password, PELOTON_USERNAME=user)
    assert result.returncode == 1
    message = one_line_error(result)
    assert user in message and "email and password" in message
    assert password not in message
    assert workbook.read_bytes() == before
    assert server.request_count("/api") == 0


def test_a_configuration_pointing_at_the_dead_login_explains_the_change(server, workbook, home, run_cli):
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home, PELOTON_AUTH_URL=server.url + "/auth/login")
    assert result.returncode == 1
    message = one_line_error(result)
    assert "/auth/login" in message and "October 2025" in message
    assert workbook.read_bytes() == before


@pytest.mark.slow
def test_an_access_token_expiring_mid_run_is_renewed_and_the_run_completes(workbook, home, run_cli):
    account = make_account(80, seed=5)
    # Tokens live 2 s; 80 graphs at 50 ms each over 2 workers take longer than that. No clock is
    # read here: the token posts below show the renewals (a run too quick to need one fails there).
    with FaultyPeloton(account, username=USERNAME, password=PASSWORD, token_lifetime=2, latency=0.05) as srv:
        result = run_cli(srv, workbook, home, "--workers", "2")
        assert result.returncode == 0, result.stderr
        posts = token_posts(srv)
        api_calls = srv.request_count("/api")
    assert store_counts(home, account) == (80, finished_count(account))
    assert len(table_rows(workbook, "Workouts")) == 80
    # Renewed a few times (about every second), not before each of the 80+ requests.
    assert 2 <= len(posts) <= api_calls // 4 and set(posts) == {200}


def test_a_refused_refresh_token_falls_back_to_the_password_and_without_one_says_how_to_sign_in(
    workbook, home, run_cli
):
    account = make_account(20, seed=6)
    with FaultyPeloton(account, username=USERNAME, password=PASSWORD) as srv:
        assert run_cli(srv, workbook, home).returncode == 0
        make_stored_token_due(home)
        srv.revoke_refresh_tokens()
        srv.clear_requests()
        result = run_cli(srv, workbook, home)
        assert result.returncode == 0, result.stderr
        assert token_posts(srv) == [403, 200]  # refresh refused, then the password sign-in

        make_stored_token_due(home)
        srv.revoke_refresh_tokens()
        before = workbook.read_bytes()
        result = run_cli(srv, workbook, home, password=None)
        assert result.returncode == 1
        message = one_line_error(result)
        assert "expired" in message and "PELOTON_PASSWORD" in message and "paste" in message
        assert workbook.read_bytes() == before


# --- a server that pushes back ------------------------------------------------------------------


@pytest.mark.slow
def test_transient_faults_are_retried_and_the_run_completes(server, workbook, home, account, scaled_backoff, run_cli):
    """429 with and without Retry-After, a 5xx and a connection reset, all in one run."""
    ids = [account.workouts[i]["id"] for i in (2, 30, 50)]
    server.fail_next(r"/workouts$", status=429, headers={"Retry-After": "2"})
    server.fail_next(rf"/{ids[0]}/performance_graph$", status=429)
    server.fail_next(rf"/{ids[1]}/performance_graph$", status=503)
    server.reset_next(rf"/{ids[2]}/performance_graph$")
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    listing = [r for r in server.requests if r.path.endswith("/workouts")]
    # Waited the full Retry-After: a lower bound the client's sleep guarantees, measured at the server.
    assert listing[1].at - listing[0].at >= 2

    def statuses(suffix: str) -> list[int | None]:
        return [r.status for r in server.requests if r.path.endswith(suffix)]

    assert statuses("/workouts")[:2] == [429, 200]
    for wid, first in zip(ids, (429, 503, None), strict=False):
        assert statuses(f"/{wid}/performance_graph") == [first, 200]
    assert store_counts(home, account) == (N, finished_count(account))
    assert len(table_rows(workbook, "Workouts")) == N


def test_retry_after_is_capped_and_a_read_timeout_is_retried(server, settings):
    auth = Authenticator(settings, TokenStore(settings.home_path, settings.username), api.new_session(1))
    pacer = api.Pacer(sleep=lambda seconds: None)  # record the waits instead of sleeping them
    # A read timeout of 1 s: the good third answer must arrive within it on a loaded machine too.
    client = api.PelotonClient(settings, auth, pacer=pacer, timeout=(2, 1.0))
    server.fail_next(r"^/api/me$", status=429, headers={"Retry-After": "86400"})
    server.slow_next(r"^/api/me$", seconds=2.5)
    assert client.get_json("/api/me")["id"] == server.account.user_id
    assert pacer.waits[0] == 120.0  # a day's Retry-After is capped at two minutes
    # Then the read timeout: the second strike's backoff, 2 s with equal jitter.
    assert len(pacer.waits) == 2 and 1.0 <= pacer.waits[1] <= 2.0


@pytest.fixture
def quick_backoff(monkeypatch):
    """Backoff scaled down so exhausting the retries takes no time."""
    monkeypatch.setattr(
        api, "Pacer", functools.partial(api.Pacer, base=0.01, cap=0.2, retry_after_cap=0.05, give_up_after=1.0)
    )


@pytest.mark.parametrize("fault", ["503", "429", "reset"])
def test_a_list_that_keeps_failing_exits_1_and_leaves_the_workbook_alone(
    server, workbook, home, capsys, monkeypatch, quick_backoff, fault, run_cli
):
    before = workbook.read_bytes()
    if fault == "reset":
        server.reset_next(r"/workouts$", times=100)
    else:
        server.fail_next(r"/workouts$", status=int(fault), times=100)
    result = run_cli(server, workbook, home)
    code, out, err = result.returncode, result.stdout, result.stderr
    assert code == 1 and out == ""
    assert "/workouts" in err and len(err.strip().splitlines()) == 1
    max_attempts = inspect.signature(api.PelotonClient).parameters["max_attempts"].default
    assert len([r for r in server.requests if r.path.endswith("/workouts")]) == max_attempts
    assert workbook.read_bytes() == before


def test_graphs_that_keep_failing_are_named_exit_3_and_are_fetched_next_time(
    server, workbook, home, account, scaled_backoff, run_cli
):
    bad = [account.workouts[3]["id"], account.workouts[40]["id"]]
    server.always_fail_graph(bad[0], status=503)
    server.always_fail_graph(bad[1], status=500)
    result = run_cli(server, workbook, home)
    assert result.returncode == 3
    assert result.stdout.startswith(f"{N} workouts ({N} new) written to")
    for wid in bad:
        assert result.stderr.count(wid) == 2  # once as "  <id>: …", once inside the endpoint it names
    assert "could not be fetched; the next refresh retries them:" in result.stderr
    assert store_counts(home, account) == (N, finished_count(account) - 2)
    assert len(table_rows(workbook, "Workouts")) == N
    attempts = [r for r in server.requests if r.path.endswith(f"{bad[0]}/performance_graph")]
    assert 2 <= len(attempts) <= 5  # retried, but bounded

    server.always_fail_graph(None)
    server.clear_requests()
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    graphs = sorted(r.path.split("/")[3] for r in server.requests if r.path.endswith("/performance_graph"))
    assert graphs == sorted(bad)  # only what was owed
    assert store_counts(home, account) == (N, finished_count(account))


def test_graphs_still_failing_after_every_retry_exit_3_in_process(
    server, workbook, home, account, capsys, monkeypatch, quick_backoff, run_cli
):
    """Peloton down for graphs: the run gives up after its failure budget instead of retrying for hours."""
    server.fail_next(r"/performance_graph$", status=503, times=10_000)
    result = run_cli(server, workbook, home)
    code, out, err = result.returncode, result.stdout, result.stderr
    assert code == 3 and f"{N} workouts ({N} new) written" in out
    # The first ten named, the rest counted (-v lists them all).
    assert err.count("/performance_graph") == 10
    assert f"… and {finished_count(account) - 10} more (run with -v to list them all)" in err
    assert "kept failing" in err
    assert "kept failing for 0 seconds" not in err  # those stopped by the others' failures say so
    assert server.request_count("/api/workout/") < 4 * finished_count(account)  # not 5 tries each
    assert len(table_rows(workbook, "Workouts")) == N


@pytest.mark.parametrize("kind", ["html 200", "html 403", "malformed"])
def test_html_or_malformed_json_for_the_list_is_named_exit_1(server, workbook, home, kind, run_cli):
    before = workbook.read_bytes()
    if kind == "malformed":
        server.malformed_json_next(r"/workouts$", times=10)
    else:
        server.html_error_next(r"/workouts$", status=int(kind[5:]), times=10)
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    message = one_line_error(result)
    assert f"/api/user/{server.account.user_id}/workouts" in message
    assert ("HTML" if kind.startswith("html") else "malformed JSON") in message
    assert workbook.read_bytes() == before


@pytest.mark.parametrize("kind", ["html", "malformed"])
def test_html_or_malformed_json_for_a_graph_is_named_exit_3(server, workbook, home, account, kind, run_cli):
    wid = account.workouts[7]["id"]
    if kind == "html":
        server.html_error_next(rf"/{wid}/performance_graph$", status=200, times=10)
    else:
        server.malformed_json_next(rf"/{wid}/performance_graph$", times=10)
    result = run_cli(server, workbook, home)
    assert result.returncode == 3
    line = next(line for line in result.stderr.splitlines() if line.startswith(f"  {wid}:"))
    assert f"/api/workout/{wid}/performance_graph" in line
    assert ("HTML" if kind == "html" else "malformed JSON") in line
    assert len(table_rows(workbook, "Workouts")) == N


# --- killed midway ------------------------------------------------------------------------------

STATUS = Status(last_refresh=dt.datetime(2024, 5, 1, 6, 0), workout_count=4000, last_result="OK")


BIG_ROWS = 1000  # a save long enough for kills to land all over it; the timing scales with it
# Random kills land all over the save; the two moments that matter (just before and just after the
# file is swapped in) are then hit for certain, so a dozen random ones are enough.
KILL_TRIALS = 12


def big_tables(version: int, rows: int = BIG_ROWS) -> list[SampleTable]:
    rng = np.random.default_rng(version)
    ids = [f"v{version}-{i:06d}" for i in range(rows)]
    cols: dict = {
        "Workout ID": ids,
        "Start": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, rows), unit="s"),
    }
    for j in range(20):
        cols[f"Metric {j}"] = rng.normal(100, 20, rows).round(2)
    cols["Title"] = [f"{20 + i % 40} min Ride with instructor {version}" for i in range(rows)]
    return [
        SampleTable("Workouts", pd.DataFrame(cols), {"Start": "yyyy-mm-dd hh:mm"}),
        SampleTable("Metrics", pd.DataFrame({"Workout ID": ids, "Avg Output": cols["Metric 0"]})),
    ]


def owned_content(path: Path) -> tuple[bytes, ...]:
    """The parts a write replaces; reading them also checks every CRC of the zip."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    parts = read_parts(path)
    sheets = sheet_parts(path)
    names = [sheets["Workouts"], sheets["Metrics"], sheets["Config"]]
    return tuple(parts[name] for name in names + [table_part(path, "Workouts"), table_part(path, "Metrics")])


def table_part(path: Path, sheet: str) -> str:
    with xp.open_package(path) as pkg:
        return xp.table_part_of(pkg, xp.find_sheet(pkg, sheet))


def _write_and_exit(path: Path, tables: list[SampleTable]) -> None:
    writer.write_tables(path, sample_content(tables, STATUS))
    os._exit(0)


def _write_and_die_at_the_replace(path: Path, tables: list[SampleTable], after: bool) -> None:
    """SIGKILL this process just before (or just after) the save swaps the new file in."""
    real_replace = os.replace

    def replace(src, dst):
        if after:
            real_replace(src, dst)
        os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace
    writer.write_tables(path, sample_content(tables, STATUS))


@pytest.mark.e2e
def test_killed_at_random_points_of_the_save_the_workbook_is_old_or_new_never_corrupt(workbook):
    versions = {1: big_tables(1), 2: big_tables(2)}
    # Two writes each way first, so styles have settled and each version has one exact form.
    for v in (1, 2, 1, 2):
        writer.write_tables(workbook, sample_content(versions[v], STATUS))
    fork = multiprocessing.get_context("fork")
    started = time.perf_counter()  # timed in a child, the way the trials run
    child = fork.Process(target=_write_and_exit, args=(workbook, versions[1]))
    child.start()
    child.join()
    write_seconds = time.perf_counter() - started
    content = {1: owned_content(workbook)}
    assert openpyxl.load_workbook(workbook, read_only=True)
    writer.write_tables(workbook, sample_content(versions[2], STATUS))
    content[2] = owned_content(workbook)
    assert openpyxl.load_workbook(workbook, read_only=True)
    current = 2

    rng = random.Random(20240501)
    outcomes = {"old": 0, "new": 0, "temp left": 0}
    for _ in range(KILL_TRIALS):
        target = 3 - current
        child = fork.Process(target=_write_and_exit, args=(workbook, versions[target]))
        child.start()
        time.sleep(rng.uniform(0, write_seconds * 1.6))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        now = owned_content(workbook)
        assert now in (content[1], content[2]), "the workbook is neither the old nor the new version"
        outcomes["new" if now == content[target] else "old"] += 1
        outcomes["temp left"] += any(workbook.parent.glob(f"{TEMP_PREFIX}*"))
        current = 1 if now == content[1] else 2
    # The two moments that matter, hit for certain rather than by chance: killed just before the new
    # file is swapped in (the old one stays, a temp is left), and just after (the new one is there).
    for after, expected in ((False, current), (True, 3 - current)):
        child = fork.Process(target=_write_and_die_at_the_replace, args=(workbook, versions[3 - current], after))
        child.start()
        child.join()
        assert child.exitcode == -signal.SIGKILL
        assert owned_content(workbook) == content[expected]
        assert any(workbook.parent.glob(f"{TEMP_PREFIX}*")) is not after
        current = expected
    assert outcomes["old"] + outcomes["new"] == KILL_TRIALS, outcomes

    writer.write_tables(workbook, sample_content(versions[1], STATUS))  # the next run
    assert list(workbook.parent.glob(f"{TEMP_PREFIX}*")) == []
    assert owned_content(workbook) == content[1]
    assert len(table_rows(workbook, "Metrics")) == BIG_ROWS


@pytest.mark.e2e
def test_killed_at_random_points_of_a_sync_the_next_refresh_completes_the_work(workbook, home, run_cli):
    account = make_account(150, seed=8)
    rng = random.Random(7)
    with FaultyPeloton(account, username=USERNAME, password=PASSWORD, latency=0.01) as srv:
        env = cli_env(srv, home)
        graphs_seen = []
        for trial in range(4):
            srv.clear_requests()
            proc = subprocess.Popen(
                [sys.executable, str(CLI), "--workbook", str(workbook), "--workers", "2"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # Kill once a random number of graphs has gone out (the first trial: while signing in / listing).
            threshold = 0 if trial == 0 else rng.randint(10, 140)
            deadline = time.monotonic() + 30
            while srv.request_count("/api/workout/") < threshold and proc.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            if trial == 0:
                time.sleep(rng.uniform(0.3, 1.5))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if store_file(home, account).exists():
                graphs_seen.append(store_counts(home, account)[1])  # integrity_check inside
        assert any(0 < n < finished_count(account) for n in graphs_seen), graphs_seen

        result = run_cli(srv, workbook, home)
    assert result.returncode == 0, result.stderr
    assert store_counts(home, account) == (150, finished_count(account))
    assert len(table_rows(workbook, "Workouts")) == 150
    assert list(workbook.parent.glob(f"{TEMP_PREFIX}*")) == []
