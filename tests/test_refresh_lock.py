"""Two refreshes of one workbook at once: the second waits for the first, or stops with one line."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import CLI, cli_env

from pelotonxl.errors import WorkbookError
from pelotonxl.refresh_lock import refresh_lock


def test_a_second_refresh_stops_with_one_line_when_the_first_outlasts_the_wait(tmp_path: Path):
    book = tmp_path / "Book.xlsm"
    with refresh_lock(book):
        with pytest.raises(WorkbookError, match=r"^Another refresh of Book\.xlsm is still running: let it finish"):
            with refresh_lock(book, wait=0):
                pass
    with refresh_lock(book, wait=0):  # released: the next one goes ahead at once
        pass


def test_a_second_refresh_waits_for_the_first_then_runs(tmp_path: Path):
    book = tmp_path / "Book.xlsm"
    order: list[str] = []
    holding, waiting = threading.Event(), threading.Event()

    def first() -> None:
        with refresh_lock(book):
            holding.set()
            waiting.wait(30)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(30)
    with refresh_lock(book, wait=60, on_wait=waiting.set):
        order.append("second runs")
    thread.join()
    assert order == ["first done", "second runs"]


def test_two_cli_refreshes_at_once_both_succeed_and_fetch_each_graph_once(server, account, workbook, home):
    server.slow_next(r"/performance_graph$", seconds=0.3, times=12)  # both would be syncing at once
    env = cli_env(server, home)
    runs = [
        subprocess.Popen(
            [sys.executable, str(CLI), "--workbook", str(workbook)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _ in results] == [0, 0], results
    graphs = [w["id"] for w in account.workouts]
    fetched = {wid: server.request_count(f"/api/workout/{wid}/performance_graph") for wid in graphs}
    assert sum(fetched.values()) > 0
    assert max(fetched.values()) == 1, {w: n for w, n in fetched.items() if n > 1}
