"""What Excel will need, checked from the Python that `--setup-excel` runs in, and said in plain words.

xlwings 0.37.8's VBA (xlwings.bas) decides what works:
- RunPython (the ribbon) starts the `Interpreter_Win` / `Interpreter_Mac` of the xlwings.conf sheet: a path
  Windows or macOS can start, never a Linux or WSL one;
- the worksheet functions (Windows) load `xlwings64-<version>.dll` by `LoadLibrary` from the interpreter's
  folder, else one folder up (XLPyLoadDLL), and nowhere else. pip puts the DLL in the environment's data
  folder: beside python.exe for a plain install, one folder above Scripts\\python.exe for a virtual
  environment, but in %APPDATA%\\Python for `pip install --user` and in the Store's package folder for the
  Microsoft Store Python, where xlwings never looks;
- on a Mac, RunPython goes through `xlwings-<version>.applescript` in
  ~/Library/Application Scripts/com.microsoft.Excel (`xlwings runpython install` puts it there);
- a workbook downloaded from the internet carries Windows' mark of the web (a Zone.Identifier stream
  saying ZoneId=3), and Excel then blocks its macros outright.

Standard library only; every input is a parameter, so each case is tested on any system.
"""

from __future__ import annotations

import ntpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath


@dataclass(frozen=True)
class Check:
    ok: bool  # False: Excel will fail at this unless the member acts
    line: str  # one line: what was found, and what to do when not ok


def interpreter_refusal(platform: str, python: str, release: str, environ: dict[str, str]) -> str | None:
    """Why `python` cannot be Excel's interpreter, or None. Excel runs on Windows and macOS only."""
    if platform in ("win32", "darwin"):
        if platform == "win32" and re.match(r"^\\\\wsl(\$|\.localhost)\\", python, re.I):
            return (
                f"{python} is a Python inside WSL, which Windows Excel cannot start: run --setup-excel "
                "with a Windows Python (python.exe from python.org, in a virtual environment)."
            )
        return None
    wsl = "microsoft" in release.lower() or "WSL_DISTRO_NAME" in environ
    where = "WSL" if wsl else "Linux"
    return (
        f"Excel runs on Windows or a Mac and cannot start this {where} Python ({python}), so no interpreter "
        "was written: run --setup-excel again there, with the Python Excel should use"
        + (" (a Windows python.exe, not this WSL one)." if wsl else ".")
    )


def dll_check(python: str, dll_name: str, installed_at: Iterable[str]) -> Check:
    """Will xlwings find its DLL for `python` (a Windows path)? `installed_at`: where pip put the files
    named `dll_name` (from the xlwings distribution's RECORD)."""
    beside, above = ntpath.dirname(python), ntpath.dirname(ntpath.dirname(python))
    places = [ntpath.normcase(ntpath.normpath(p)) for p in installed_at]
    folders = {ntpath.dirname(p) for p in places}
    if ntpath.normcase(beside) in folders or ntpath.normcase(above) in folders:
        return Check(
            True, f"The worksheet functions will find {dll_name} (xlwings looks beside {python} and one folder up)."
        )
    found = (
        f"pip put it in {ntpath.dirname(places[0])} (as it does for pip --user and the Microsoft Store Python)"
        if places
        else "this Python's xlwings has none"
    )
    return Check(
        False,
        f"The worksheet functions will show 'Could not load {dll_name}': xlwings looks for it only in {beside} "
        f"and {above}, and {found}. The ribbon works. Fix: make a virtual environment "
        "(py -m venv %USERPROFILE%\\peloton-venv), install the requirements into it and run --setup-excel "
        "with its python.exe.",
    )


def xlwings_dll_files(dll_name: str) -> list[str]:
    """Where pip installed xlwings' `dll_name` for this Python (empty: not installed, as on Linux or a Mac)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("xlwings")
    except PackageNotFoundError:
        return []
    return [str(dist.locate_file(f)) for f in dist.files or () if PurePath(str(f)).name.lower() == dll_name.lower()]


def mac_runpython_check(home: Path, version: str, python: str) -> Check:
    script = home / "Library" / "Application Scripts" / "com.microsoft.Excel" / f"xlwings-{version}.applescript"
    if script.is_file():
        return Check(True, f"Excel may start Python: {script.name} is installed.")
    return Check(
        False,
        f"Excel cannot start Python yet ({script.name} is not in {script.parent}): run "
        f"{python} -m xlwings runpython install once. Excel for Mac has no Python worksheet functions: "
        "=PELOTON_METRIC answers from the Metrics table.",
    )


def trust_check(workbook: Path) -> Check | None:
    """Windows' mark of the web on the workbook (its Zone.Identifier stream), where it can be read."""
    try:
        mark = Path(f"{workbook}:Zone.Identifier").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # no mark, or a file system without alternate data streams
    zone = re.search(r"^ZoneId=(\d+)", mark, re.M)
    if zone is None or int(zone.group(1)) < 3:
        return None
    return Check(
        False,
        f"Windows marks {workbook.name} as downloaded from the internet, and Excel blocks its macros: "
        "right-click it → Properties → tick Unblock (or PowerShell: Unblock-File), then open it.",
    )


def checks_for(platform: str, python: str, workbook: Path, version: str, home: Path | None = None) -> list[Check]:
    """Every check that applies to Excel on `platform` (the one --setup-excel runs on)."""
    results: list[Check] = []
    if platform == "win32":
        dll = f"xlwings64-{version}.dll"  # 64-bit Excel, Microsoft 365's default (pip installs both)
        results.append(dll_check(python, dll, xlwings_dll_files(dll)))
    elif platform == "darwin":
        results.append(mac_runpython_check(home or Path.home(), version, python))
    trust = trust_check(workbook)
    if trust is not None:
        results.append(trust)
    return results
