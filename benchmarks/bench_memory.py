"""Benchmark: does a refresh stay under 300 MB whatever the server sends and whatever the member's sheets
hold? (issue 19, "A hostile server and machine, round two")

Each case runs the real CLI in a subprocess against the project's local Peloton server (in this process,
127.0.0.1) and reads the child's own peak resident memory (ru_maxrss from os.wait4), its exit status and
wall time:

  1. baseline: a normal first refresh of a 40-workout demo account;
  2. a 100 MB workout list: the server streams a valid 100 MB JSON list (refused at the 32 MB cap);
  3. a 100 MB performance graph for every workout;
  4. a member's sheet of 2 MB compressed that expands to 2 GiB of XML, beside the refresh's sheets
     (copied across as its raw compressed bytes, never inflated nor deflated by the copy);

    python -m benchmarks.bench_memory [--expand-mib 2048]

The report goes to stdout as Markdown. Nothing is written outside a temp dir.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks.bench_refresh import PASSWORD, USERNAME, child_env, run_measured
from pelotonxl.demo.account import make_account
from pelotonxl.demo.server import FakePeloton, Reply, Request
from pelotonxl.xlsx import package as xp

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 300


def _big_list(megabytes: int) -> Iterator[bytes]:
    item = b'{"id": "0123456789abcdef0123456789abcdef", "title": "' + b"x" * 900 + b'"},'
    for _ in range(megabytes * 2**20 // len(item)):
        yield item
    yield b"{}]"


class HugeAnswers(FakePeloton):
    """The demo server, answering `huge` (a path suffix) with a streamed JSON list of `megabytes` MB."""

    huge: str | None = None
    megabytes = 100

    def respond(self, request: Request) -> Reply:
        if self.huge and request.path.endswith(self.huge):
            if self.huge.endswith("graph"):
                return Reply(200, b'{"metrics": [', stream=_big_list(self.megabytes))
            return Reply(200, b"", stream=_wrapped(_big_list(self.megabytes)))
        return super().respond(request)


def _wrapped(items: Iterator[bytes]) -> Iterator[bytes]:
    yield b'{"show_next": false, "data": ['
    yield from items
    yield b"}"


def member_sheet(workbook: Path, expand_mib: int) -> None:
    """Add a member's sheet whose XML expands to `expand_mib` MiB (compressed, a few MB)."""
    row = b'<row><c t="inlineStr"><is><t>' + b"member data " * 20 + b"</t></is></c></row>"
    with xp.open_package(workbook) as pkg:
        entry = xp.add_sheet(pkg, "Member data", "xl/worksheets/sheet99.xml")
        pkg.put(entry.part, b"")  # placeholder, replaced below by the streamed part
        tmp = workbook.with_suffix(".tmp")
        with open(tmp, "wb") as out:
            pkg.write_zip(out)
    # Rewrite with the big part streamed in, every other entry as it is.
    final = workbook.with_suffix(".big")
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(final, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet99.xml":
                dst.writestr(info, src.read(info.filename))
                continue
            big = zipfile.ZipInfo(info.filename, info.date_time)
            big.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(big, "w", force_zip64=True) as part:
                part.write(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                    b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                block = row * 4096
                for _ in range(expand_mib * 2**20 // len(block)):
                    part.write(block)
                part.write(b"</sheetData></worksheet>")
    tmp.unlink()
    final.replace(workbook)


def run_cli(server: FakePeloton, workbook: Path, home: Path) -> tuple[int, float, float, str]:
    """(exit status, peak RSS in MB, seconds, last stderr line) of one CLI refresh in a subprocess."""
    env = child_env(server, home, workers=4) | {"PYTHONPATH": str(REPO)}
    run = run_measured([sys.executable, str(REPO / "peloton_xl.py"), "--workbook", str(workbook), "-q"], env, REPO)
    lines = run.stderr.strip().splitlines()
    return run.returncode, run.peak_mb, run.wall, lines[-1][:140] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expand-mib", type=int, default=2048, help="what the member's sheet expands to")
    parser.add_argument("--megabytes", type=int, default=100, help="size of the huge answers")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        cases = ["baseline", "100 MB workout list", "100 MB graphs", f"member sheet expanding to {args.expand_mib} MiB"]
        for n, case in enumerate(cases):
            print(f"… {case}", file=sys.stderr)
            workbook = root / f"Book{n}.xlsm"
            shutil.copy(REPO / "PelotonWorkbook.xlsm", workbook)
            if n == 3:
                member_sheet(workbook, args.expand_mib)
            with HugeAnswers(make_account(40, seed=11), username=USERNAME, password=PASSWORD) as server:
                server.megabytes = args.megabytes
                server.huge = {1: "/workouts", 2: "/performance_graph"}.get(n)
                code, peak, seconds, last = run_cli(server, workbook, root / f"home{n}")
            size = workbook.stat().st_size / 2**20
            rows.append((case, code, peak, seconds, size, last))
    print("| case | exit | peak RSS (MB) | seconds | workbook (MB) | last stderr line |")
    print("|---|---|---|---|---|---|")
    for case, code, peak, seconds, size, last in rows:
        print(f"| {case} | {code} | {peak:.0f} | {seconds:.1f} | {size:.1f} | {last.replace('|', '/')} |")
    worst = max(peak for _, _, peak, *_ in rows)
    print(f"\nWorst peak: {worst:.0f} MB (limit {LIMIT_MB} MB): {'within' if worst < LIMIT_MB else 'OVER'}")
    return 0 if worst < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
