"""--setup-excel: write this Python and this project into the workbook's xlwings.conf sheet, so Excel's
buttons and worksheet functions run this very environment. Refreshes nothing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pelotonxl.commands.targets import open_in_excel, workbook_path
from pelotonxl.errors import WorkbookError


def setup_excel(args: argparse.Namespace, workbook_dir: Path | None) -> int:
    """--setup-excel: this Python and this project, written into the workbook's xlwings.conf sheet."""
    from importlib.metadata import PackageNotFoundError, version

    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION
    from pelotonxl.xlsx import xlwings_conf

    if args.demo or args.full or args.export is not None:
        raise WorkbookError("--setup-excel only sets up the workbook: run it without --demo, --full or --export.")
    try:
        installed = version("xlwings")
    except PackageNotFoundError:
        installed = None
    if installed != XLWINGS_VERSION:
        raise WorkbookError(
            f"Excel needs xlwings {XLWINGS_VERSION} in this Python ({sys.executable}), which has "
            f"{installed or 'none'}: pip install xlwings=={XLWINGS_VERSION}, then run this again."
        )
    workbook = workbook_path(args, workbook_dir or Path.cwd())
    if open_in_excel(workbook):
        raise WorkbookError(f"{workbook.name} is open in Excel: close it there, then run --setup-excel again.")
    keys = xlwings_conf.interpreter_keys(sys.platform)
    python = os.path.abspath(sys.executable)  # not resolved: a venv's python is a link to the base one
    values = dict.fromkeys(keys, python)
    # peloton_xl.py is what Excel imports; an installed `peloton-xl` has none (workbook_dir is None).
    project = workbook_dir.resolve() if workbook_dir and (workbook_dir / "peloton_xl.py").is_file() else None
    if project is not None:
        values[xlwings_conf.PYTHONPATH] = str(project)
    xlwings_conf.write_settings(workbook, values)
    print(
        f"{workbook.name}: Excel now runs {python} ({' and '.join(keys)} on the {xlwings_conf.SHEET} sheet)"
        + (f" and finds peloton_xl.py in {project} (PYTHONPATH)." if project else ".")
    )
    if project is None:
        print(
            "peloton_xl.py was not found beside this command: keep a copy of it beside the workbook "
            "(PYTHONPATH left as it was).",
            file=sys.stderr,
        )
    if sys.platform == "darwin":
        print(
            "On a Mac, once: run `xlwings runpython install` (with this same Python) so Excel may start "
            "Python; it copies xlwings' AppleScript into ~/Library/Application Scripts/com.microsoft.Excel. "
            "Excel for Mac has no Python worksheet functions: =PELOTON_METRIC answers from the Metrics table."
        )
    print(f"Now open {workbook.name} in Excel, enable macros and click Peloton → Refresh.")
    return 0
