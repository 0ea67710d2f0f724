"""The refresh benchmark runs end to end in --quick mode and reports what it should.

Timings are not asserted (they flake on a busy machine); request counts are, because they are
deterministic: the server counts every request the refresh makes.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e
TABLE_ROW = re.compile(r"^\| (?P<scenario>[^|]+?) \| (?P<n>[\d,]+) \| (?P<seconds>[\d.]+) \| (?P<requests>[\d,]+) \|")


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
    env["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("user data"))  # the refresh record, on Linux
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_refresh", "--quick"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(report: str) -> dict[str, dict[str, str]]:
    return {m["scenario"]: m.groupdict() for m in map(TABLE_ROW.match, report.splitlines()) if m}


@pytest.mark.slow
def test_report_has_the_table_and_every_target(quick_report):
    assert "| scenario | N | seconds | Peloton requests | workbook write s | peak memory MB |" in quick_report
    assert set(_rows(quick_report)) == {"serial baseline", "first refresh", "nothing new", "5 new"}
    targets = [line for line in quick_report.splitlines() if re.match(r"- (PASS|FAIL): ", line)]
    assert len(targets) == 4
    for words in ("faster than the serial baseline", "nothing new", "5 new on top of", "workbook write"):
        assert any(words in line for line in targets), words
    assert "Machine: " in quick_report and "cores" in quick_report
    # Every run did what it should have (right rows written, every request answered 200).
    assert "(!)" not in quick_report


@pytest.mark.slow
def test_request_counts_are_incremental(quick_report):
    rows = _rows(quick_report)
    n = int(rows["first refresh"]["n"])
    # Sign-in, the pages of 100, one graph per workout: both sides do the same work the first time;
    # peloton_xl also reads /api/me once per refresh, for the FTP Peloton holds.
    everything = 1 + math.ceil(n / 100) + n
    assert int(rows["serial baseline"]["requests"]) == everything
    assert int(rows["first refresh"]["requests"]) == everything + 1
    assert int(rows["nothing new"]["requests"]) <= 3
    assert int(rows["5 new"]["requests"]) <= 10
    # The request-only target is judged PASS by the report itself.
    assert any(line.startswith("- PASS: 5 new on top of") for line in quick_report.splitlines())


def test_the_udf_benchmark_runs_both_variants_on_todays_store(capsys, monkeypatch, tmp_path):
    # It once read a column the store no longer has (graphs are compressed since store version 2).
    from benchmarks import bench_udf

    monkeypatch.setattr(bench_udf.tempfile, "mkdtemp", lambda prefix: str(tmp_path / "home"))
    assert bench_udf.main(["--workouts", "20", "--calls", "50"]) == 0
    report = capsys.readouterr().out
    assert "| baseline: read the store on every call (from 50 calls) |" in report
    assert "| peloton_xl: in-memory index" in report
    assert re.search(r"^target: 50 calls well under 1 s: (PASS|FAIL)$", report, re.MULTILINE)


def test_the_speed_benchmarks_stand_in_serves_what_the_demo_server_would_from_bytes_made_beforehand(tmp_path):
    # Issue 22: the stand-in's own work per request must be a lookup, or the benchmark measures the server.
    import requests

    from benchmarks.bench_speed import EVERY_N, PAGE_QUERY, PrebuiltPeloton
    from pelotonxl.demo.account import make_account
    from pelotonxl.demo.server import FakePeloton

    account = make_account(150, seed=3)
    with PrebuiltPeloton(account, pooled_graphs=False) as prebuilt, FakePeloton(account) as plain:
        prebuilt.prebuild()
        headers = {}
        for server in (prebuilt, plain):
            token = requests.post(
                server.url + "/oauth/token",
                json={
                    "grant_type": "password",
                    "username": server.username,
                    "password": server.password,
                    "client_id": server.client_id,
                },
                timeout=10,
            ).json()["access_token"]
            headers[server.url] = {"Authorization": f"Bearer {token}"}
        paths = [
            (f"/api/user/{account.user_id}/workouts", {**PAGE_QUERY, "page": "1"}),
            (f"/api/workout/{account.workouts[7]['id']}/performance_graph", {"every_n": str(EVERY_N)}),
            ("/api/me", {}),
        ]
        for path, query in paths:
            got = [
                requests.get(s.url + path, params=query, headers=headers[s.url], timeout=10) for s in (prebuilt, plain)
            ]
            assert got[0].status_code == got[1].status_code == 200
            assert got[0].json() == got[1].json(), path
        assert prebuilt.misses == 0
