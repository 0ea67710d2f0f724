"""LibreOffice as the real spreadsheet application of the tests: `convert` a workbook with soffice.

One LibreOffice profile per test process, made on the first conversion and reused: a new profile
costs about a second of every start, and parallel soffice runs must not share one (they block each
other), which a per-process folder guarantees under xdist. Tests that call this carry the
`libreoffice` marker; conftest skips them where soffice is not installed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_profile: Path | None = None


def _profile_folder() -> Path:
    global _profile
    if _profile is None:
        _profile = Path(tempfile.mkdtemp(prefix=f"pelotonxl-lo-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _profile, ignore_errors=True)
    return _profile


def convert(workbook: Path, target: str, outdir: Path, timeout: float = 180) -> Path:
    """soffice --convert-to `target` ("pdf", "ods", "xlsx", "xlsm:<filter>"): the converted file."""
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation={_profile_folder().as_uri()}",
         "--convert-to", target, "--outdir", str(outdir), str(workbook)],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    converted = outdir / f"{workbook.stem}.{target.split(':')[0]}"
    assert result.returncode == 0 and converted.is_file(), result.stdout + result.stderr
    return converted
