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


def _soffice(workbook: Path, target: str, outdir: Path, timeout: float) -> None:
    result = subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={_profile_folder().as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(workbook),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def convert(workbook: Path, target: str, outdir: Path, timeout: float = 180) -> Path:
    """soffice --convert-to `target` ("pdf", "ods", "xlsx", "xlsm:<filter>"): the converted file."""
    _soffice(workbook, target, outdir, timeout)
    converted = outdir / f"{workbook.stem}.{target.split(':')[0]}"
    assert converted.is_file(), f"soffice wrote no {converted.name}"
    return converted


# Every sheet to its own CSV, UTF-8, each cell as shown (token 9): the text a member reads.
SHOWN_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def sheets_as_shown(workbook: Path, outdir: Path, timeout: float = 180) -> dict[str, Path]:
    """Each sheet of the workbook as LibreOffice displays it, one CSV per sheet, by sheet name."""
    _soffice(workbook, SHOWN_CSV, outdir, timeout)
    prefix = f"{workbook.stem}-"
    return {p.stem[len(prefix) :]: p for p in outdir.glob(f"{workbook.stem}-*.csv")}
