"""Replacing a file whole: a reader sees the old file or the new one, never half of either, and a crash
or power cut leaves one of them. The one way every file of ours is replaced (workbook, tokens, records,
exports, the built template).

    with replacing(path) as temp:   # write `temp` (beside `path`, same disk) however you like
        temp.write_bytes(data)
    # here: temp fsync'd, os.replace'd over path, the folder fsync'd; on any error the temp is gone
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(
    path: Path,
    temp: Path | None = None,
    *,
    mode: int | None = None,
    busy: Callable[[], Exception] | None = None,
) -> Iterator[Path]:
    """Yield the temp file to write; when the block ends, make it `path`.

    `temp`: its name (default `.<name>.<pid>.tmp` beside `path`); `mode`: created with these permissions
    before anything is written (tokens: 0o600 from the first byte); `busy`: the error to raise when the
    system refuses the replace because another program holds `path` open (Windows)."""
    temp = temp or path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if mode is not None:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode))
            os.chmod(temp, mode)  # a stale temp of the same name keeps its mode through O_CREAT
        yield temp
        with open(temp, "r+b") as written:  # r+: Windows flushes only what a handle may write
            os.fsync(written.fileno())
        try:
            os.replace(temp, path)
        except PermissionError:
            if busy is None:
                raise
            raise busy() from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no folder handles to flush)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
