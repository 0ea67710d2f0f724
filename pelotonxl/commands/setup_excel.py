"""`--setup-excel` and `--upgrade-workbook`: a workbook made ready for Excel, and what Excel will need said
in plain words (the checks live in excel_checks.py, the parts in template/parts.py). Refreshes nothing.

--setup-excel: a workbook without our parts gains them (VBA modules, ribbon, xlwings.conf sheet); then the
Python running the command and this project's folder go into its xlwings.conf sheet; then the checks.
--upgrade-workbook: this release's parts into a workbook made by an earlier one.

Exit status: 0 done and nothing left to do; 3 done, but Excel needs something more (each named); 1 refused,
the workbook untouched.
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import sys
from collections.abc import Callable
from pathlib import Path

from pelotonxl import excel_checks
from pelotonxl.commands.targets import open_in_excel as _open_in_excel
from pelotonxl.commands.targets import workbook_path
from pelotonxl.errors import WorkbookError

NEEDS_MORE = 3


def setup_excel(args: argparse.Namespace, workbook_dir: Path | None) -> int:
    """--setup-excel from the command line: the workbook it names (an .xlsx is made into an .xlsm beside it),
    else the default one, created from the template when missing."""
    if args.demo or args.full or args.export is not None:
        raise WorkbookError("--setup-excel only sets up the workbook: run it without --demo, --full or --export.")
    given = args.workbook.expanduser().resolve() if args.workbook is not None else None
    if given is not None and given.suffix.lower() == ".xlsx":  # made into an .xlsm beside it
        if not given.is_file():
            raise WorkbookError(f"Workbook not found: {given}.")
        workbook = given
    else:
        workbook = workbook_path(args, workbook_dir or Path.cwd(), checkout=workbook_dir is not None)
    # peloton_xl.py is what Excel imports; an installed `peloton-xl` has none (workbook_dir is None).
    project = workbook_dir.resolve() if workbook_dir and (workbook_dir / "peloton_xl.py").is_file() else None
    return set_up(workbook, project, open_in_excel=_open_in_excel)


def upgrade_workbook(args: argparse.Namespace) -> int:
    """--upgrade-workbook from the command line: it runs on its own, on the workbook it names."""
    if args.demo or args.full or args.export is not None or args.setup_excel or args.workbook is not None:
        raise WorkbookError("--upgrade-workbook only upgrades the workbook it names: run it on its own.")
    return upgrade(args.upgrade_workbook.expanduser().resolve(), open_in_excel=_open_in_excel)


def set_up(workbook: Path, project: Path | None, *, open_in_excel: Callable[[Path], bool]) -> int:
    """`workbook`: resolved by the caller (an .xlsm, created from the template when missing, or an .xlsx);
    `project`: the folder holding peloton_xl.py, or None for the installed command."""
    from pelotonxl.template import parts
    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION
    from pelotonxl.xlsx import xlwings_conf

    _check_xlwings(XLWINGS_VERSION)
    if open_in_excel(workbook):
        raise WorkbookError(f"{workbook.name} is open in Excel: close it there, then run --setup-excel again.")
    python = os.path.abspath(sys.executable)  # not resolved: a venv's python is a link to the base one
    refusal = excel_checks.interpreter_refusal(sys.platform, python, platform_module.release(), dict(os.environ))
    found = parts.inspect(workbook) if workbook.exists() else None
    if found is None or not found.ours:
        report = parts.add_parts(workbook)
        workbook = report.workbook
        print(
            f"Added the Peloton tab, the worksheet functions' VBA ({', '.join(report.modules)}), the "
            f"{xlwings_conf.SHEET} sheet"
            + (" and a Config sheet (type your Peloton email there)" if report.config else "")
            + f" to {workbook.name}; everything else in it is as it was."
        )
    if refusal is not None:
        print(f"peloton_xl: {refusal}", file=sys.stderr)
        return NEEDS_MORE if found is None or not found.ours else 1

    keys = xlwings_conf.interpreter_keys(sys.platform)
    values = dict.fromkeys(keys, python)
    if project is not None:
        values[xlwings_conf.PYTHONPATH] = str(project)
    dropped = xlwings_conf.write_settings(workbook, values)
    print(
        f"{workbook.name}: Excel now runs {python} ({' and '.join(keys)} on the {xlwings_conf.SHEET} sheet)"
        + (f" and finds peloton_xl.py in {project} (PYTHONPATH)." if project else ".")
    )
    if dropped:
        print(
            f"Removed {', '.join(dropped)} from the {xlwings_conf.SHEET} sheet: left empty or at xlwings' default "
            "there, they overrode your own xlwings settings."
        )
    if project is None:
        print(
            "peloton_xl.py was not found beside this command: keep a copy of it beside the workbook "
            "(PYTHONPATH left as it was).",
            file=sys.stderr,
        )
    checks = excel_checks.checks_for(sys.platform, python, workbook, XLWINGS_VERSION)
    for check in checks:
        print(("OK: " if check.ok else "To do: ") + check.line, file=sys.stdout if check.ok else sys.stderr)
    print(f"Now open {workbook.name} in Excel, enable macros and click Peloton → Refresh.")
    return 0 if all(check.ok for check in checks) else NEEDS_MORE


def upgrade(workbook: Path, *, open_in_excel: Callable[[Path], bool]) -> int:
    from pelotonxl import __version__
    from pelotonxl.template import parts
    from pelotonxl.xlsx import xlwings_conf

    if open_in_excel(workbook):
        raise WorkbookError(f"{workbook.name} is open in Excel: close it there, then run --upgrade-workbook again.")
    report = parts.upgrade_parts(workbook)
    print(
        f"{workbook.name} now has peloton_xl {__version__}'s Excel parts: the VBA modules "
        f"({', '.join(report.modules)}), the Peloton tab and the {xlwings_conf.SHEET} keys; your sheets, notes, "
        "charts, pivots and your own VBA are as they were."
    )
    if report.config_rows:
        print(f"The Config sheet gained {', '.join(report.config_rows)}, at its end.")
    if report.dropped_keys:
        print(
            f"Removed {', '.join(report.dropped_keys)} from the {xlwings_conf.SHEET} sheet: left empty or at "
            "xlwings' default there, they overrode your own xlwings settings; run --setup-excel to set the "
            "interpreter."
        )
    return 0


def _check_xlwings(pinned: str) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("xlwings")
    except PackageNotFoundError:
        installed = None
    if installed != pinned:
        raise WorkbookError(
            f"Excel needs xlwings {pinned} in this Python ({sys.executable}), which has "
            f"{installed or 'none'}: pip install xlwings=={pinned}, then run this again."
        )


def stale_parts_line(parts: str, workbook: Path) -> str | None:
    """One line when the workbook's Excel parts (`parts`: "<release> <xlwings>" from its VBA, "" before 0.2.0)
    are not this release's or not for the xlwings installed here, saying what to run; None when they match."""
    from importlib.metadata import PackageNotFoundError, version

    from pelotonxl import __version__
    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION

    release, _, their_xlwings = parts.partition(" ")
    try:
        installed = version("xlwings")
    except PackageNotFoundError:
        installed = "none"
    if installed != XLWINGS_VERSION:
        return (
            f"This Python has xlwings {installed}, but peloton_xl {__version__} is made for {XLWINGS_VERSION} "
            f"(the worksheet functions need exactly that one): pip install xlwings=={XLWINGS_VERSION}."
        )
    if release == __version__ and their_xlwings == installed:
        return None
    made = f"peloton_xl {release} with xlwings {their_xlwings}" if release else "a peloton_xl before 0.2.0"
    return (
        f"This workbook's Excel parts are from {made}, and this Python runs peloton_xl {__version__} with xlwings "
        f'{installed}: save and close it, then run python peloton_xl.py --upgrade-workbook "{workbook}".'
    )
