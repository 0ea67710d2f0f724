"""A missing workbook starts as a copy of the template shipped inside the package.

The template (`PelotonWorkbook.xlsm` in this folder) is package data, written by build.py and
byte-identical to the one at the top of the repository; nothing is built at run time.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx.safety import TEMP_PREFIX

TEMPLATE_NAME = "PelotonWorkbook.xlsm"


def template_bytes() -> bytes:
    return resources.files(__package__).joinpath(TEMPLATE_NAME).read_bytes()


def create_from_template(path: Path) -> bool:
    """Create the workbook `path` as a copy of the template. False if another process got there first.

    The copy is written under this process's own temp name beside `path` (the name the refresh's
    stale-temp sweep knows), then linked into place. A link never replaces an existing file and
    never shows a half-written one, so two processes creating the same workbook both carry on.
    """
    staged = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.tmp")
    try:
        try:
            with resources.files(__package__).joinpath(TEMPLATE_NAME).open("rb") as source, open(staged, "wb") as copy:
                shutil.copyfileobj(source, copy)
                copy.flush()
                os.fsync(copy.fileno())
            return _place(staged, path)
        finally:
            staged.unlink(missing_ok=True)
    except OSError as exc:
        raise WorkbookError(f"Cannot create {path}: {exc.strerror or exc}.") from exc


def _place(staged: Path, path: Path) -> bool:
    try:
        os.link(staged, path)
        return True
    except FileExistsError:
        return False
    except OSError:
        pass  # no hard links on this file system (FAT, some network shares)
    if os.name == "nt":
        try:
            os.rename(staged, path)  # on Windows rename refuses an existing target
            return True
        except FileExistsError:
            return False
    try:  # exclusive create: never replaces another's file, though it is briefly partial
        with open(path, "xb") as target, open(staged, "rb") as source:
            shutil.copyfileobj(source, target)
        return True
    except FileExistsError:
        return False
