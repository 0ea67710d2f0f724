"""Benchmark for issue 22 ("Speed, round two"): the client measured before and after, in one run.

Every figure of the issue's goals table is measured twice on this machine in the same invocation: with
the code of the commit before the work (BASELINE, checked out with `git worktree add` into a temporary
folder) and with this checkout's. Each refresh is the real CLI (`python peloton_xl.py`) of that checkout
in a subprocess, against one stand-in served from this process.

The stand-in serves pre-built payloads: every workout page, graph and /api/me is rendered to bytes
before the measured runs (`PrebuiltPeloton`), so a request costs the stand-in a dictionary lookup and
its HTTP handling; its CPU per request is measured (this process does nothing else while a child runs)
and printed. Each workout is served the graph of the first workout of its kind and length (rendering
16,000 graphs would take minutes): the samples repeat, which changes no count, no size and no code path.

    python -m benchmarks.bench_speed                 # everything (~15 min on 2 idle cores)
    python -m benchmarks.bench_speed --quick         # sizes 40/60/80, 5 ms: a smoke run

Figures: wall time from spawning the subprocess to its exit (interpreter start and imports included);
requests counted by the stand-in; peak memory the child's ru_maxrss; a nothing-new refresh is the best
of `--repeat` runs. Tests assert no time: this prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_refresh import PASSWORD, USERNAME, Run, child_env, machine, refresh_record_kept, run_measured
from pelotonxl.demo.account import DemoAccount, make_account
from pelotonxl.demo.server import FakePeloton, Reply, Request

REPO = Path(__file__).resolve().parent.parent
BASELINE = "bb19e2d"  # main before issue 22's work
EVERY_N = 5
PAGE_QUERY = {"joins": "ride,ride.instructor", "limit": "100", "sort_by": "-created"}
UDF_SCRIPT = """
import json, random, sys, time
import peloton_xl
ids = json.loads(open(sys.argv[1]).read())
slugs = ["avg_output", "Avg Cadence", "calories", "total_output", "max_heart_rate"]
rng = random.Random(1)
calls = [(rng.choice(ids), rng.choice(slugs)) for _ in range(int(sys.argv[2]))]
started, cpu = time.perf_counter(), time.process_time()
peloton_xl.PELOTON_METRIC(calls[0][0], calls[0][1])
first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
started, cpu = time.perf_counter(), time.process_time()
for wid, slug in calls:
    peloton_xl.PELOTON_METRIC(wid, slug)
spent, spent_cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"first": first, "first_cpu": first_cpu, "calls": spent, "calls_cpu": spent_cpu}))
"""


# ---- the stand-in ------------------------------------------------------------------------------


class PrebuiltPeloton(FakePeloton):
    """FakePeloton answering every GET /api/ request from bytes rendered beforehand (`prebuild`)."""

    def __init__(self, account: DemoAccount, *, pooled_graphs: bool, **kwargs: object) -> None:
        super().__init__(account, **kwargs)  # type: ignore[arg-type]
        self.pooled_graphs = pooled_graphs
        self.rendered: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}
        self.valid_tokens: set[str] = set()
        self.misses = 0
        self._pool: dict[tuple, bytes] = {}

    @staticmethod
    def key(path: str, query: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return path, tuple(sorted(query.items()))

    def prebuild(self) -> None:
        """Render every page, every graph at EVERY_N and /api/me (again after the account changed)."""
        uid, workouts = self.account.user_id, list(self.account.workouts)
        self.rendered.clear()
        self.rendered[self.key("/api/me", {})] = _json(self.account.me)
        for page in range(max(1, math.ceil(len(workouts) / 100))):
            query = {**PAGE_QUERY, "page": str(page)}
            self.rendered[self.key(f"/api/user/{uid}/workouts", query)] = _json(self._workouts_page(uid, query)[1])
        for w in workouts:
            self.rendered[self.key(f"/api/workout/{w['id']}/performance_graph", {"every_n": str(EVERY_N)})] = (
                self._graph_bytes(w)
            )

    def _graph_bytes(self, workout: dict) -> bytes:
        if not self.pooled_graphs:
            return _json(self.account.graph(workout["id"], EVERY_N))
        plan = self.account.plan(workout["id"])
        kind = (workout["fitness_discipline"], plan.kind, round(plan.duration / 300))
        if kind not in self._pool:
            self._pool[kind] = _json(self.account.graph(workout["id"], EVERY_N))
        return self._pool[kind]

    def respond(self, request: Request) -> Reply:
        if request.method == "GET" and request.path.startswith("/api/"):
            if request.authorization not in self.valid_tokens:
                reply = super().respond(request)  # checks the token the slow way, once per token
                if reply.status != 401:
                    self.valid_tokens.add(request.authorization)
                return reply
            data = self.rendered.get(self.key(request.path, request.query))
            if data is not None:
                return Reply(200, data)
            self.misses += 1
        return super().respond(request)


def _json(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


# ---- the two checkouts -------------------------------------------------------------------------


@dataclass
class Checkout:
    label: str
    root: Path
    home: Path
    workbook: Path

    def refresh(self, server: FakePeloton, workers: int) -> tuple[Run, int]:
        server.clear_requests()
        env = child_env(server, self.home, workers)
        run = run_measured(
            [sys.executable, str(self.root / "peloton_xl.py"), "--workbook", str(self.workbook), "-q"],
            env,
            self.workbook.parent,
        )
        if run.returncode != 0:
            raise SystemExit(f"{self.label}: the refresh failed ({run.returncode}):\n{run.stderr[-2000:]}")
        bad = [r for r in server.requests if r.status != 200]
        if bad:
            raise SystemExit(f"{self.label}: {len(bad)} requests not answered 200, e.g. {bad[0].path}")
        return run, len(server.requests)


def baseline_checkout(scratch: Path) -> Path:
    root = scratch / "baseline"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(root), BASELINE],
        check=True,
        capture_output=True,
    )
    return root


def drop_checkout(root: Path) -> None:
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(root)], capture_output=True)


def checkouts(roots: dict[str, Path], scratch: Path, tag: str) -> list[Checkout]:
    made = []
    for label, root in roots.items():
        folder = scratch / f"{tag}-{label}"
        folder.mkdir()
        workbook = folder / "PelotonWorkbook.xlsm"
        shutil.copy(root / "PelotonWorkbook.xlsm", workbook)
        made.append(Checkout(label, root, folder / "home", workbook))
    return made


# ---- measuring ---------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    goal: str
    values: dict[str, str] = field(default_factory=dict)  # checkout label -> shown value
    met: dict[str, bool | None] = field(default_factory=dict)


@dataclass
class Bench:
    args: argparse.Namespace
    roots: dict[str, Path]
    scratch: Path
    figures: list[Figure] = field(default_factory=list)
    server_cpu: float = 0.0
    served: int = 0
    misses: int = 0

    def figure(self, name: str, goal: str) -> Figure:
        self.figures.append(Figure(name, goal))
        return self.figures[-1]

    def timed(self, checkout: Checkout, server: PrebuiltPeloton) -> tuple[Run, int]:
        cpu = time.process_time()
        run, requests = checkout.refresh(server, self.args.workers)
        self.server_cpu += time.process_time() - cpu
        self.served += requests
        return run, requests


def say(message: str) -> None:
    print(f"[bench_speed] {message}", file=sys.stderr, flush=True)


def bench_first_and_new(bench: Bench, n: int, latency: float) -> dict[str, Checkout]:
    """First refresh of n (against the bound), nothing new, 5 new; returns the filled checkouts."""
    say(f"{n:,} workouts: building the account and its payloads")
    account = make_account(n)
    done = {c.label: c for c in checkouts(bench.roots, bench.scratch, f"n{n}")}
    first = bench.figure(
        f"first refresh, {n:,} workouts, {latency * 1000:g} ms, {bench.args.workers} in flight",
        "≤ 1.15 × ⌈requests / 4⌉ × round trip",
    )
    nothing = bench.figure(f"nothing new, same day, {n:,}", "1 request; ≤ 0.5 s")
    five = bench.figure(f"+5 new on {n:,}", "≤ 6 requests")
    with PrebuiltPeloton(account, pooled_graphs=True, username=USERNAME, password=PASSWORD, latency=latency) as srv:
        srv.prebuild()
        for checkout in done.values():
            say(f"{n:,}: first refresh, {checkout.label}")
            run, requests = bench.timed(checkout, srv)
            bound = math.ceil(requests / bench.args.workers) * latency
            first.values[checkout.label] = (
                f"{run.wall:.2f} s = {run.wall / bound:.2f} × bound ({requests:,} requests; CPU {run.cpu:.1f} s)"
            )
            first.met[checkout.label] = run.wall <= 1.15 * bound
            nothing_new(bench, nothing, checkout, srv)
        account.add_workouts(5)
        srv.prebuild()
        for checkout in done.values():
            say(f"{n:,}: 5 new, {checkout.label}")
            run, requests = bench.timed(checkout, srv)
            five.values[checkout.label] = f"{requests} requests, {run.wall:.2f} s (CPU {run.cpu:.2f} s)"
            five.met[checkout.label] = requests <= 6
        bench.misses += srv.misses
    return done


def nothing_new(bench: Bench, figure: Figure, checkout: Checkout, server: PrebuiltPeloton) -> float:
    walls, cpus, counts = [], [], []
    for _ in range(bench.args.repeat):
        run, requests = bench.timed(checkout, server)
        walls.append(run.wall)
        cpus.append(run.cpu)
        counts.append(requests)
    best = min(walls)
    figure.values[checkout.label] = (
        f"{max(counts)} request{'s' if max(counts) > 1 else ''}, {best:.2f} s "
        f"(median {statistics.median(walls):.2f}; CPU {min(cpus):.2f} s)"
    )
    figure.met[checkout.label] = max(counts) == 1 and best <= 0.5
    return best


def bench_big(bench: Bench, n: int, latency: float, memory: bool) -> dict[str, Checkout]:
    """A history of n: filled by a first refresh (its peak memory measured when `memory`), then nothing new."""
    say(f"{n:,} workouts: building the account and its payloads")
    account = make_account(n)
    done = {c.label: c for c in checkouts(bench.roots, bench.scratch, f"n{n}")}
    peak = bench.figure(f"peak memory, first refresh of {n:,}", "≤ 200 MB") if memory else None
    nothing = bench.figure(f"nothing new, same day, {n:,}", "1 request; ≤ 0.5 s")
    with PrebuiltPeloton(account, pooled_graphs=True, username=USERNAME, password=PASSWORD, latency=latency) as srv:
        srv.prebuild()
        filled: Checkout | None = None
        for checkout in reversed(list(done.values())):  # this checkout first: it can fill the other's store
            if memory or filled is None:
                say(f"{n:,}: first refresh, {checkout.label}")
                srv.latency = latency if memory else 0.0  # filling a history nobody times needs no latency
                run, _ = bench.timed(checkout, srv)
                filled = checkout
                if peak is not None:
                    peak.values[checkout.label] = f"{run.peak_mb:.0f} MB ({run.wall:.1f} s, CPU {run.cpu:.1f} s)"
                    peak.met[checkout.label] = run.peak_mb <= 200
            else:  # the same store in the before-code's layout, and one refresh to write its workbook
                say(f"{n:,}: the store copied for {checkout.label}")
                older_store(filled.home, checkout.home)
                srv.latency = 0.0
                checkout.refresh(srv, bench.args.workers)
            srv.latency = latency
            nothing_new(bench, nothing, checkout, srv)
        bench.misses += srv.misses
    return done


def older_store(home: Path, into: Path) -> None:
    """A copy of a state folder whose store the BASELINE code reads: version 2, without the derived records
    (version 3 only added that table and notes in `meta`, which version 2 never reads)."""
    shutil.copytree(home, into)
    for store_file in into.glob("accounts/*/store.sqlite"):
        with contextlib.closing(sqlite3.connect(store_file)) as db:
            db.execute("DROP TABLE IF EXISTS derived")
            db.execute("PRAGMA user_version = 2")
            db.commit()


def bench_udf(bench: Bench, filled: dict[str, Checkout], n: int) -> None:
    figure = bench.figure(
        f"{bench.args.calls:,} PELOTON_METRIC calls, {n:,} workouts (first call)", "≤ 50 ms; first call ≤ 0.25 s"
    )
    for checkout in filled.values():
        store_file = next(checkout.home.glob("accounts/*/store.sqlite"))
        # Read-only and without WorkoutStore, which would upgrade the before-code's store to its layout.
        with contextlib.closing(sqlite3.connect(f"file:{store_file}?mode=ro", uri=True)) as db:
            ids = [row[0] for row in db.execute("SELECT id FROM workouts")]
        id_file = bench.scratch / f"ids-{len(ids)}.json"
        id_file.write_text(json.dumps(ids))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
        env["PELOTON_XL_HOME"] = str(checkout.home)
        done = subprocess.run(
            [sys.executable, "-c", UDF_SCRIPT, str(id_file), str(bench.args.calls)],
            cwd=checkout.root,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"{checkout.label}: the worksheet-function run failed:\n{done.stderr[-2000:]}")
        got = json.loads(done.stdout.strip().splitlines()[-1])
        figure.values[checkout.label] = (
            f"{got['calls'] * 1000:.0f} ms, CPU {got['calls_cpu'] * 1000:.0f} ms "
            f"(first call {got['first']:.2f} s, CPU {got['first_cpu']:.2f} s)"
        )
        figure.met[checkout.label] = got["calls"] <= 0.05 and got["first"] <= 0.25


def bench_help(bench: Bench) -> None:
    figure = bench.figure("`peloton_xl.py --help` (best of 5)", "≤ 0.1 s")
    start = bench.figure("(for scale: `python -c pass`, the interpreter alone, best of 5)", "—")
    for label, root in bench.roots.items():
        for fig, cmd in ((figure, [str(root / "peloton_xl.py"), "--help"]), (start, ["-c", "pass"])):
            runs = [run_measured([sys.executable, *cmd], dict(os.environ), root) for _ in range(5)]
            best = min(runs, key=lambda r: r.wall)
            fig.values[label] = f"{best.wall:.3f} s (CPU {min(r.cpu for r in runs):.3f} s)"
            if fig is figure:
                fig.met[label] = best.wall <= 0.1


# ---- report ------------------------------------------------------------------------------------


def report(bench: Bench, load: tuple[float, float], elapsed: float) -> str:
    labels = list(bench.roots)
    lines = [
        "# peloton_xl speed, round two (issue 22): before and after, one run",
        "",
        f"Machine: {machine()}; load average {load[0]:.2f} at the start, {load[1]:.2f} at the end",
        f"Before: commit {BASELINE}; after: {_head()}",
        f"Stand-in: pre-built payloads, {bench.server_cpu / max(1, bench.served) * 1000:.2f} ms of its CPU per "
        f"request ({bench.served:,} requests; HTTP handling included; {bench.misses} rendered on demand)",
        "",
        f"| figure | goal | {' | '.join(labels)} |",
        f"|---|---|{'---|' * len(labels)}",
    ]
    for f in bench.figures:
        cells = [f"{f.values.get(label, '—')}{_mark(f.met.get(label))}" for label in labels]
        lines.append(f"| {f.name} | {f.goal} | {' | '.join(cells)} |")
    lines += ["", f"✓ goal met, ✗ not met. Benchmark finished in {elapsed / 60:.1f} min."]
    return "\n".join(lines)


def _mark(met: bool | None) -> str:
    return "" if met is None else (" ✓" if met else " ✗")


def _head() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "pelotonxl", "peloton_xl.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "this checkout"
    return f"commit {commit}" + (" plus uncommitted changes" if dirty else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Issue 22's figures, before and after, in one run.")
    p.add_argument("--sizes", default="1000,5000,10000", help="the first-refresh, memory and largest sizes")
    p.add_argument("--latency", type=float, default=0.05, help="seconds the stand-in waits on every request")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="nothing-new runs per checkout (the best is shown)")
    p.add_argument("--calls", type=int, default=10_000, help="PELOTON_METRIC calls")
    p.add_argument("--quick", action="store_true", help="sizes 40,60,80, latency 5 ms, repeat 1: a smoke run")
    p.add_argument("--only-after", action="store_true", help="measure this checkout only (no baseline)")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.latency, args.repeat, args.calls = "40,60,80", 0.005, 1, 500
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if len(args.sizes) != 3:
        p.error("--sizes takes three sizes: first refresh, memory, largest")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    with refresh_record_kept(), tempfile.TemporaryDirectory(prefix="peloton-speed-") as folder:
        scratch = Path(folder)
        roots = {} if args.only_after else {f"before ({BASELINE})": baseline_checkout(scratch)}
        roots["after (this checkout)"] = REPO
        bench = Bench(args, roots, scratch)
        try:
            small, middle, large = args.sizes
            bench_first_and_new(bench, small, args.latency)
            filled = bench_big(bench, middle, args.latency, memory=True)
            bench_udf(bench, filled, middle)
            bench_big(bench, large, args.latency, memory=False)
            bench_help(bench)
        finally:
            for root in roots.values():
                if root != REPO:
                    drop_checkout(root)
        text = report(bench, (load_start, os.getloadavg()[0]), time.perf_counter() - started)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
