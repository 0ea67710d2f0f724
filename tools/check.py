"""The project's checks, in the order CI runs them: lint, format, types, then the tests.

    python3 tools/check.py                # all of it (what .ci/run runs)
    python3 tools/check.py -m "not e2e"   # arguments after the gates go to pytest
    python3 tools/check.py --gates        # the gates only (a few seconds)

Each gate's rules live in pyproject.toml; this only says which run, and stops at the first that fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATES = (
    ("ruff check", ("ruff", "check", ".")),
    ("ruff format --check", ("ruff", "format", "--check", ".")),
    ("mypy", ("mypy",)),
)
FIXES = {
    "ruff check": "fix what it lists (`python3 -m ruff check --fix .` fixes some)",
    "ruff format --check": "run `python3 -m ruff format .`",
    "mypy": "annotate or fix what it lists",
}


def main(argv: list[str]) -> int:
    gates_only = argv[:1] == ["--gates"]
    for name, command in GATES:
        if subprocess.call([sys.executable, "-m", *command], cwd=ROOT) != 0:
            print(f"check: {name} failed: {FIXES[name]}, then run the checks again.", file=sys.stderr)
            return 1
    if gates_only:
        return 0
    return subprocess.call([sys.executable, "-m", "pytest", *argv], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
