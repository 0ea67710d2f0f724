"""How long the website's workout CSV takes to import, and what a later refresh leaves (issue 25).

    python -m benchmarks.bench_csv_import                  # 300 workouts
    python -m benchmarks.bench_csv_import --sizes 300,1000,5000

For each size N: the demo account's N workouts written as the website's CSV (`demo.csv_export`), then,
as a new member whose sign-in is broken would, the real CLI in a subprocess:
`peloton_xl.py --workbook <fresh copy> --import-csv <file>` (no token, no network), timed from outside
(the whole process: interpreter, imports, the workbook write; wall and CPU seconds, the CPU figure being
what a machine busy with other work does not inflate) and by its own closing line. Then the
same account served by the local Peloton stand-in (`FakePeloton`) with the app's password grant
switched off, so the refresh signs in by the website's route, and `peloton_xl.py --workbook <same>`:
the rows of the Workouts table afterwards (N, not 2N, when every CSV row gave way to the API's record)
and how many of them still carry a "From CSV" status. Every run has its own state folder and user data
folder (XDG_DATA_HOME), so nothing of yours is read or changed.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from pelotonxl.demo.account import make_account
from pelotonxl.demo.csv_export import workout_history_csv
from pelotonxl.demo.server import FakePeloton

REPO = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "bench@example.com", "bench-password"
CLOSING = re.compile(r"in (?P<seconds>[\d.]+) s")


def _cli(workbook: Path, env: dict[str, str], *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (user + system: what a busy machine does not inflate) and the run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO / "peloton_xl.py"), "--workbook", str(workbook), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def _workouts(workbook: Path) -> tuple[int, int]:
    """Rows of the Workouts table, and how many say From CSV."""
    ws = load_workbook(workbook, read_only=True)["Workouts"]
    rows = list(ws.iter_rows(values_only=True))
    status = rows[0].index("Status")
    body = [r for r in rows[1:] if r and r[0]]
    return len(body), sum(1 for r in body if r[status] == "From CSV")


def measure(n: int) -> dict[str, object]:
    account = make_account(n)
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        folder = Path(tmp)
        csv_file = folder / "workouts.csv"
        csv_file.write_text(workout_history_csv(account), encoding="utf-8")
        csv_kb = csv_file.stat().st_size / 1024
        workbook = folder / "Bench.xlsm"
        shutil.copy(REPO / "PelotonWorkbook.xlsm", workbook)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
        env.update(
            PELOTON_XL_HOME=str(folder / "home"),
            XDG_DATA_HOME=str(folder / "user data"),
            PELOTON_USERNAME=USERNAME,
        )
        wall, cpu, done = _cli(workbook, env, "--import-csv", str(csv_file))
        if done.returncode != 0:
            raise SystemExit(f"the import failed ({done.returncode}): {done.stderr.strip()}")
        own = float(CLOSING.search(done.stdout)["seconds"])  # type: ignore[index]
        imported_rows, _ = _workouts(workbook)
        with FakePeloton(account, username=USERNAME, password=PASSWORD) as server:
            server.website.faults.add("no-password-grant")
            env.update(PELOTON_API_URL=server.url, PELOTON_AUTH_URL=server.url, PELOTON_PASSWORD=PASSWORD)
            refresh_wall, _, refreshed = _cli(workbook, env)
        if refreshed.returncode != 0:
            raise SystemExit(f"the refresh failed ({refreshed.returncode}): {refreshed.stderr.strip()}")
        rows, still_csv = _workouts(workbook)
    return {
        "n": n,
        "csv_kb": csv_kb,
        "import_wall": wall,
        "import_own": own,
        "import_cpu": cpu,
        "imported_rows": imported_rows,
        "refresh_wall": refresh_wall,
        "rows_after": rows,
        "still_csv": still_csv,
        "website": "website's sign-in" in refreshed.stdout,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300", help="comma-separated account sizes (default 300)")
    args = parser.parse_args(argv)
    print(
        "| N | CSV kB | import s (process) | import CPU s (process) | import s (own) | rows after import "
        "| refresh s | rows after refresh | still From CSV | signed in by |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        r = measure(n)
        print(
            f"| {r['n']:,} | {r['csv_kb']:.0f} | {r['import_wall']:.2f} | {r['import_cpu']:.2f} | "
            f"{r['import_own']:.2f} | "
            f"{r['imported_rows']:,} | {r['refresh_wall']:.2f} | {r['rows_after']:,} | {r['still_csv']} | "
            f"{'website' if r['website'] else 'app'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
