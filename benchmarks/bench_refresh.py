"""Benchmark: is the refresh fast? (issue "Fast refresh: incremental by default, parallel where it is safe")

For each account size N it serves a demo account from the project's local Peloton server (in this
process, 127.0.0.1, port 0, with a fixed delay on every request) and measures, end to end:

  1. the serial, cache-less baseline (serial_baseline.py, the seed script's way), in a subprocess;
  2. peloton_xl's first refresh: the real CLI in a subprocess, empty state folder, fresh workbook copy;
  3. a refresh with nothing new (same state folder and workbook);
  4. a refresh after five new workouts.

Requests are counted by the server (every request, /oauth/token included); peak memory is the
subprocess's own ru_maxrss from os.wait4; the workbook write time is the CLI's -v line. The server's
CPU per request is shown too, to prove the figures measure the client and not the stand-in.
The report goes to stdout as Markdown; progress goes to stderr. Nothing is written outside a temp
dir, except benchmarks/out/ with --save.

    python -m benchmarks.bench_refresh [--sizes 100,1000,5000] [--latency 0.05] [--workers 4]
    python -m benchmarks.bench_refresh --quick          # seconds, for the smoke test
    python -m benchmarks.bench_refresh --series         # fine (5 s) against coarse (300 s) graphs

Run from the repository root (or with the package installed: `pip install -e .`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent

try:
    from pelotonxl.demo.account import make_account
    from pelotonxl.demo.server import FakePeloton
    from pelotonxl.settings import DEFAULT_EVERY_N
except ModuleNotFoundError as exc:
    if exc.name != "pelotonxl":
        raise
    sys.exit(
        f"{Path(__file__).name}: the pelotonxl package is not importable: run it from the repository "
        f"root as `python -m benchmarks.{Path(__file__).stem}`, or `pip install -e .` first."
    )

USERNAME = "bench@example.com"
PASSWORD = "bench-password"  # the local stand-in's, passed to children through the environment only
NEW_WORKOUTS = 5

BASELINE = "serial baseline"
FIRST = "first refresh"
NOTHING_NEW = "nothing new"
FIVE_NEW = f"{NEW_WORKOUTS} new"

RESULT_LINE = re.compile(r"^(\d+) workouts \((\d+) new")
WRITE_LINE = re.compile(r"workbook written in ([\d.]+) s")


@dataclass
class Run:
    """One measured subprocess."""

    wall: float
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    cpu: float = 0.0  # the child's user + system seconds: what the machine's load does not inflate


@dataclass
class Row:
    scenario: str
    n: int
    seconds: float
    requests: int
    write_seconds: float | None
    peak_mb: float | None
    server_cpu: float  # seconds of the stand-in's CPU: must stay small next to the latency
    speedup: float | None = None
    problems: list[str] = field(default_factory=list)  # the run did not do what it should have


# ---- running and measuring one subprocess ------------------------------------------------------


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run cmd to completion: wall time from spawn to exit, the child's own peak RSS and its CPU seconds."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True)
        # wait4 rather than proc.wait(): it hands back the child's rusage as it reaps it.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux (bytes on macOS).
        scale = 1024 * 1024 if sys.platform == "darwin" else 1024
        cpu = usage.ru_utime + usage.ru_stime
        return Run(wall, proc.returncode, out.read(), err.read(), usage.ru_maxrss / scale, cpu)


def child_env(server: FakePeloton, home: Path, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
    env.update(
        PELOTON_API_URL=server.url,
        PELOTON_AUTH_URL=server.url,
        PELOTON_USERNAME=USERNAME,
        PELOTON_PASSWORD=PASSWORD,
        PELOTON_XL_HOME=str(home),
        PELOTON_WORKERS=str(workers),
    )
    return env


def measure(
    scenario: str, n: int, server: FakePeloton, cmd: list[str], env: dict[str, str], cwd: Path
) -> tuple[Row, Run]:
    server.clear_requests()
    cpu_before = time.process_time()  # this process does nothing but serve while the child runs
    run = run_measured(cmd, env, cwd)
    server_cpu = time.process_time() - cpu_before
    log = server.requests
    row = Row(scenario, n, run.wall, len(log), None, run.peak_mb, server_cpu)
    if run.returncode != 0:
        row.problems.append(f"exit status {run.returncode}: {_tail(run.stderr)}")
        say(f"{scenario} N={n} failed; its stderr:\n{run.stderr}")
    bad = [r for r in log if r.status != 200]
    if bad:
        row.problems.append(f"{len(bad)} requests not answered 200, e.g. {bad[0].path} -> {bad[0].status}")
    return row, run


def run_baseline(n: int, server: FakePeloton, env: dict[str, str], cwd: Path) -> Row:
    cmd = [
        sys.executable,
        str(BENCH_DIR / "serial_baseline.py"),
        "--api-url",
        server.url,
        "--username",
        USERNAME,
        "--every-n",
        str(DEFAULT_EVERY_N),
    ]
    row, run = measure(BASELINE, n, server, cmd, env, cwd)
    if run.returncode == 0:
        counts = json.loads(run.stdout.strip().splitlines()[-1])
        if counts["graphs"] != n:
            row.problems.append(f"fetched {counts['graphs']} graphs, expected {n}")
    return row


def run_cli(
    scenario: str,
    n: int,
    server: FakePeloton,
    env: dict[str, str],
    cwd: Path,
    workbook: Path,
    expect_rows: int,
    expect_new: int,
) -> Row:
    cmd = [sys.executable, str(REPO / "peloton_xl.py"), "--workbook", str(workbook), "-v"]
    row, run = measure(scenario, n, server, cmd, env, cwd)
    written = WRITE_LINE.search(run.stderr)
    row.write_seconds = float(written.group(1)) if written else None
    result = next((m for m in map(RESULT_LINE.match, run.stdout.splitlines()) if m), None)
    if result is None:
        row.problems.append("no result line from the CLI")
    elif (int(result.group(1)), int(result.group(2))) != (expect_rows, expect_new):
        row.problems.append(
            f"wrote {result.group(1)} workouts ({result.group(2)} new), expected {expect_rows} ({expect_new} new)"
        )
    if run.returncode == 0 and written is None:
        row.problems.append("no 'workbook written in X s' line in the -v output")
    return row


def fresh_run(scratch: Path, tag: object) -> tuple[Path, Path, Path]:
    """A state folder, a working folder and a fresh copy of the template for one measured run."""
    home, work = scratch / f"home-{tag}", scratch / f"run-{tag}"
    work.mkdir()
    workbook = work / "PelotonWorkbook.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", workbook)
    return home, work, workbook


def bench_size(n: int, latency: float, workers: int, scratch: Path) -> list[Row]:
    say(f"N={n}: building the demo account")
    account = make_account(n)
    home, work, workbook = fresh_run(scratch, n)
    with FakePeloton(account, username=USERNAME, password=PASSWORD, latency=latency) as server:
        env = child_env(server, home, workers)
        say(f"N={n}: {BASELINE}")
        baseline = run_baseline(n, server, env, work)
        say(f"N={n}: {FIRST}")
        first = run_cli(FIRST, n, server, env, work, workbook, n, n)
        first.speedup = baseline.seconds / first.seconds
        say(f"N={n}: {NOTHING_NEW}")
        again = run_cli(NOTHING_NEW, n, server, env, work, workbook, n, 0)
        account.add_workouts(NEW_WORKOUTS)
        say(f"N={n}: {FIVE_NEW}")
        five = run_cli(FIVE_NEW, n, server, env, work, workbook, n + NEW_WORKOUTS, NEW_WORKOUTS)
    rows = [baseline, first, again, five]
    for row in rows:
        for problem in row.problems:
            say(f"  PROBLEM {row.scenario} N={row.n}: {problem}")
    return rows


# ---- targets -----------------------------------------------------------------------------------


@dataclass
class Target:
    text: str
    passed: bool | None  # None: not measured in this run
    measured: str


def check_targets(rows: list[Row], sizes: list[int]) -> list[Target]:
    def pick(preferred: int) -> int:
        # --quick and custom --sizes still get every check, at the nearest measured size.
        return preferred if preferred in sizes else min(sizes, key=lambda s: abs(s - preferred))

    def row(scenario: str, n: int) -> Row:
        return next(r for r in rows if r.scenario == scenario and r.n == n)

    mid, big = pick(1000), pick(5000)
    first, base = row(FIRST, mid), row(BASELINE, mid)
    again, five, large = row(NOTHING_NEW, mid), row(FIVE_NEW, mid), row(FIRST, big)
    clean = not (first.problems or base.problems)
    targets = [
        Target(
            f"first refresh of {mid:,} at the configured latency: >= 3x faster than the serial baseline",
            clean and first.speedup is not None and first.speedup >= 3,
            f"{first.speedup:.1f}x ({base.seconds:.1f} s -> {first.seconds:.1f} s)",
        ),
        Target(
            f"nothing new, {mid:,}: <= 3 requests and <= 4 s end to end, workbook included",
            not again.problems and again.requests <= 3 and again.seconds <= 4,
            f"{again.requests} requests, {again.seconds:.1f} s",
        ),
        Target(
            f"{NEW_WORKOUTS} new on top of {mid:,}: <= 10 requests",
            not five.problems and five.requests <= 10,
            f"{five.requests} requests",
        ),
        Target(
            f"{big:,}: workbook write <= 5 s, peak memory <= 400 MB",
            not large.problems
            and large.write_seconds is not None
            and large.write_seconds <= 5
            and large.peak_mb is not None
            and large.peak_mb <= 400,
            f"write {_num(large.write_seconds, 2)} s, peak {_num(large.peak_mb, 0)} MB",
        ),
    ]
    return targets


# ---- report ------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = f"{os.cpu_count()} cores" + (f" ({model})" if model else "")
    return (
        f"{cpu}; Python {platform.python_version()} on {platform.system()} {platform.release()}; "
        f"{datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}"
    )


def code_version() -> str:
    """Which code was measured: the commit, and whether pelotonxl/ or the workbook differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "pelotonxl", "peloton_xl.py", "PelotonWorkbook.xlsm")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {commit}" + (" plus uncommitted changes to the code or workbook" if dirty else "")


def report_head(name: str, settings: str) -> list[str]:
    """A report's title, the machine, the code and the settings it ran with, then a blank line."""
    return [f"# peloton_xl {name} benchmark", "", f"Machine: {machine()}", f"Code: {code_version()}", settings, ""]


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table: the first column (what was run) to the left, the figures to the right."""
    return [
        f"| {' | '.join(header)} |",
        "|---|" + "---:|" * (len(header) - 1),
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def report(rows: list[Row], targets: list[Target], args: argparse.Namespace, elapsed: float) -> str:
    settings = (
        f"Settings: latency {args.latency * 1000:g} ms per request, PELOTON_WORKERS={args.workers}, "
        f"every_n={DEFAULT_EVERY_N}, sizes {', '.join(f'{n:,}' for n in args.sizes)}"
    )
    header = (
        "scenario, N, seconds, Peloton requests, workbook write s, peak memory MB, speed-up vs baseline, server CPU s"
    )
    lines = report_head("refresh", settings) + markdown_table(
        header.split(", "),
        [
            [
                f"{r.scenario}{' (!)' if r.problems else ''}",
                f"{r.n:,}",
                f"{r.seconds:.2f}",
                f"{r.requests:,}",
                _num(r.write_seconds, 2),
                _num(r.peak_mb, 0),
                f"{r.speedup:.1f}x" if r.speedup is not None else "—",
                f"{r.server_cpu:.2f}",
            ]
            for r in rows
        ],
    )
    lines += ["", "Targets:", ""]
    for t in targets:
        verdict = "PASS" if t.passed else "FAIL"
        lines.append(f"- {verdict}: {t.text} — measured {t.measured}")
    lines += ["", stand_in_check(rows, args.latency)]
    problems = [f"- {r.scenario}, N={r.n:,}: {p}" for r in rows for p in r.problems]
    if problems:
        lines += ["", "Runs marked (!) did not do what they should have:", "", *problems]
    lines += ["", f"Benchmark finished in {elapsed / 60:.1f} min."]
    return "\n".join(lines)


def stand_in_check(rows: list[Row], latency: float) -> str:
    """The server shares this machine: show its CPU per request is small next to the latency."""
    busy = [r for r in rows if r.scenario in (BASELINE, FIRST)]
    worst = max(busy, key=lambda r: r.server_cpu / max(1, r.requests))
    per_request = 1000 * worst.server_cpu / max(1, worst.requests)
    return (
        f"Stand-in check: the local server used at most {per_request:.1f} ms of CPU per request "
        f"({worst.scenario}, N={worst.n:,}; idle polling included) against {latency * 1000:g} ms "
        "of injected latency."
    )


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Time peloton_xl's refresh against the serial baseline.")
    p.add_argument("--sizes", default="100,1000,5000", help="account sizes, comma-separated")
    p.add_argument("--latency", type=float, default=0.05, help="seconds the server waits on every request")
    p.add_argument("--workers", type=int, default=4, help="PELOTON_WORKERS for the refreshes")
    p.add_argument(
        "--quick", action="store_true", help="a few seconds' run (sizes 30, latency 0.005) for the smoke test"
    )
    p.add_argument(
        "--series",
        action="store_true",
        help="instead: the first refresh with fine (5 s) against coarse (300 s) graphs, and "
        "the store's size (bench_series.py)",
    )
    p.add_argument("--series-size", type=int, default=1000, help="workouts for --series")
    p.add_argument("--save", action="store_true", help="also write the report to benchmarks/out/")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.latency = "30", 0.005
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not args.sizes or min(args.sizes) < 1:
        p.error("--sizes needs positive whole numbers")
    return args


@contextlib.contextmanager
def refresh_record_kept():
    """The measured CLI runs record their refreshes machine-wide (state.refreshes_file, and the workbooks
    they saved, state.saved_workbooks_file): put the records back as they were, so the member's worksheet
    functions do not follow a deleted benchmark folder."""
    from pelotonxl.state import refreshes_file, saved_workbooks_file

    paths = (refreshes_file(), saved_workbooks_file())
    folder_existed = paths[0].parent.exists()
    before = [path.read_bytes() if path.exists() else None for path in paths]
    try:
        yield
    finally:
        for path, kept in zip(paths, before, strict=True):
            if kept is not None:
                path.write_bytes(kept)
            else:
                path.unlink(missing_ok=True)
        if not folder_existed:
            with contextlib.suppress(OSError):
                paths[0].parent.rmdir()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with refresh_record_kept():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.series:
        from benchmarks.bench_series import run_series

        text = run_series(args.series_size, args.latency, args.workers)
    else:
        rows: list[Row] = []
        with tempfile.TemporaryDirectory(prefix="peloton-bench-") as scratch:
            for n in args.sizes:
                rows += bench_size(n, args.latency, args.workers, Path(scratch))
        text = report(rows, check_targets(rows, args.sizes), args, time.perf_counter() - started)
    print(text)
    if args.save:
        out = BENCH_DIR / "out"
        out.mkdir(exist_ok=True)
        path = out / f"{'series' if args.series else 'refresh'}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(text + "\n", encoding="utf-8")
        say(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
