"""One refresh of a workbook at a time: a double click on the ribbon, or a scheduled run while the
member clicks Refresh, waits for the refresh already running (bounded) instead of fetching the same
workouts and graphs beside it and racing it to the save.

The lock is `filelock`'s OS file lock on a small file named after the workbook's full path, in the
system's temp folder (not beside the member's workbook): the OS releases it when the process ends,
however it ends, so a killed refresh never leaves it held. Refreshes on other machines through a
network share are not serialised by it. Both entry points (the CLI and the ribbon) take it, whichever
writer they then use.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

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
    lock = _acquired(workbook, WAIT_SECONDS if wait is None else wait, on_wait)
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _acquired(workbook: Path, wait: float, on_wait: Callable[[], object] | None) -> FileLock | None:
    try:
        lock = FileLock(lock_path(workbook))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait:
                on_wait()
            lock.acquire(timeout=wait, poll_interval=POLL_SECONDS)
    except Timeout:
        raise WorkbookError(
            f"Another refresh of {workbook.name} is still running: let it finish "
            "(or close the program running it), then refresh again."
        ) from None
    except OSError:  # no usable temp folder (another user's, read-only): refresh unserialised
        return None
    return lock
