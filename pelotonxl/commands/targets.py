"""Which workbook a command works on, and how it is written: the file on disk (headless) or the same
workbook open in a running Excel (through Excel)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pelotonxl.errors import WorkbookError
from pelotonxl.file_names import CHECKOUT_WORKBOOK_NAME, DEMO_WORKBOOK_NAME, WORKBOOK_NAME
from pelotonxl.model.workbook import Written

if TYPE_CHECKING:
    import xlwings as xw

    from pelotonxl.model.workbook import WorkbookContent


def workbook_path(
    args: argparse.Namespace,
    workbook_dir: Path,
    on_created: Callable[[Path], object] | None = None,
    *,
    checkout: bool = False,
) -> Path:
    """The workbook the command works on; a missing one is copied from the template (`on_created` told).
    `checkout`: the default is MyPelotonWorkbook.xlsm beside peloton_xl.py, never the tracked template."""
    name = CHECKOUT_WORKBOOK_NAME if checkout else WORKBOOK_NAME
    default = workbook_dir / (DEMO_WORKBOOK_NAME if args.demo else name)
    path = (args.workbook or default).expanduser().resolve()
    if path.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{path.name} is not a macro-enabled workbook: give a .xlsm path.")
    if path.is_dir():
        raise WorkbookError(f"{path} is a folder, not a workbook: give the path of a .xlsm file.")
    if not path.exists():
        if not path.parent.is_dir():
            raise WorkbookError(f"The folder {path.parent} does not exist.")
        if not os.access(path.parent, os.W_OK):
            raise WorkbookError(
                f"The folder {path.parent} is read-only: a new {path.name} cannot be "
                "created there; give --workbook a path in a folder you can write to."
            )
        from pelotonxl.template.new_workbook import create_from_template

        if create_from_template(path):  # False: another process created it meanwhile
            if on_created is not None:
                on_created(path)
            if not args.quiet:
                print(f"Created {path.name} from the template.", file=sys.stderr)
    return path


def check_room(folder: Path, needed: int, what: str, fix: str) -> None:
    """Refuse up front when the disk is nearly full: failing later means after every download."""
    while not folder.exists() and folder.parent != folder:  # a state folder not made yet
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # cannot tell: the write itself will say
    if free < needed:
        raise WorkbookError(
            f"The disk holding {what} ({folder}) is full ({free // 2**20} MB free, "
            f"{needed // 2**20 + 1} MB needed): free some space, or {fix}."
        )


class FileTarget:
    """The workbook file on disk, written headless (Excel is not holding it)."""

    through_excel = False

    def __init__(self, path: Path):
        from pelotonxl.xlsx import status_cells

        self.path = path
        self.checked = status_cells.check_writable(path)  # before any network: a locked file fails fast

    def shown(self) -> str | None:
        """The stamp of what the file shows (refresh_job writes only what changed since)."""
        from pelotonxl.xlsx import status_cells

        return status_cells.written_stamp(self.path)

    def read_config(self) -> dict:
        from pelotonxl.xlsx import config_sheet

        return config_sheet.read_config(self.path)

    def write(self, content: WorkbookContent) -> Written:
        from pelotonxl.xlsx import safety

        # Unchanged since it was checked: the writers' output passes the same checks, and says so.
        checked = safety.identity(self.path) == self.checked
        if content.status_only:  # nothing new today: the writer and pandas are not even loaded
            from pelotonxl.xlsx import status_cells

            status_cells.write_status_only(self.path, content.status, content.stamp, checked=checked)
            return Written()
        from pelotonxl.xlsx import writer

        return Written(writer.write_tables(self.path, content, checked=checked).notes_dropped)


class ExcelTarget:
    """The same workbook open in a running Excel: write through Excel instead of fighting it."""

    through_excel = True

    def __init__(self, book: xw.Book) -> None:
        self.book = book

    def read_config(self) -> dict:
        from pelotonxl.excel import workbook_link

        return workbook_link.read_config(self.book)

    def write(self, content: WorkbookContent) -> Written:
        from pelotonxl.excel import live_writer

        return live_writer.write_for_refresh(self.book, content)


def open_target(workbook: Path) -> FileTarget | ExcelTarget:
    if sys.platform not in ("win32", "darwin"):  # no Excel to ask: skip loading xlwings
        return FileTarget(workbook)
    from pelotonxl.excel import workbook_link

    book = workbook_link.find_open_book(workbook)
    return ExcelTarget(book) if book is not None else FileTarget(workbook)


def open_in_excel(workbook: Path) -> bool:
    if sys.platform not in ("win32", "darwin"):
        return False  # no Excel here; a ~$ lock file beside the workbook is still refused by the writer
    from pelotonxl.excel import workbook_link

    return workbook_link.find_open_book(workbook) is not None
