"""One refresh of a workbook at a time: a double click on the ribbon, or a scheduled run while the
member clicks Refresh, waits for the refresh already running (bounded) instead of fetching the same
workouts and graphs beside it and racing it to the save.

The lock is an OS file lock on a small file named after the workbook's full path, in the system's
temp folder (not beside the member's workbook): the OS releases it when the process ends, however
it ends, so a killed refresh never leaves it held. The file itself stays (removing it would let a
third process lock a file the second still waits on). Refreshes on other machines through a network
share are not serialised by it.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pelotonxl.errors import WorkbookError

WAIT_SECONDS = 120.0  # a refresh of a large account takes well under this once its store is filled
POLL_SECONDS = 0.2


def lock_path(workbook: Path) -> Path:
    key = hashlib.sha256(os.path.normcase(str(workbook.resolve())).encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "peloton_xl-locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{key}.lock"


@contextmanager
def refresh_lock(
    workbook: Path, wait: float | None = None, on_wait: Callable[[], object] | None = None
) -> Iterator[None]:
    """Hold the workbook's refresh lock; wait up to `wait` seconds (default WAIT_SECONDS) for another
    refresh to finish, calling `on_wait()` once when it has to, else raise WorkbookError (one line)."""
    wait = WAIT_SECONDS if wait is None else wait
    try:
        fd = os.open(lock_path(workbook), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # no usable temp folder (another user's, read-only): refresh unserialised
        yield
        return
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise WorkbookError(
                    f"Another refresh of {workbook.name} is still running: let it finish "
                    "(or close the program running it), then refresh again."
                )
            if on_wait:
                on_wait()
                on_wait = None
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
