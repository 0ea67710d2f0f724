"""Finding and reading a workbook open in Excel: the open book at a path (what the CLI asks before
writing a file Excel holds), its Config sheet, and the status bar and message boxes a live refresh
uses. xlwings is imported inside functions only, so this module imports on any machine.

The xlwings calls used here: xw.apps (iterate) -> app.books (iterate) -> book.fullname, book.name,
xw.XlwingsError, book.app.status_bar (get/set),
book.app.alert(prompt, title=, buttons=, mode=), sheet.used_range.options(ndim=2).value.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pelotonxl.errors import WorkbookError
from pelotonxl.excel.live_writer import _sheet_named
from pelotonxl.model.workbook import CONFIG_SHEET
from pelotonxl.progress import LABELS
from pelotonxl.settings import field_for_label

if TYPE_CHECKING:
    import xlwings as xw

log = logging.getLogger(__name__)


ALERT_TITLE = "Peloton refresh"


STATUS_INTERVAL = 0.25  # seconds between status-bar updates: each one is a round trip to Excel


def find_open_book(path: str | os.PathLike) -> xw.Book | None:
    """The workbook at `path` if a running Excel has it open, else None (always None on Linux).

    Each Excel instance and each workbook gets its own try: one whose path cannot be read (a OneDrive
    URL xlwings cannot map to a folder, a window without a workbook) is passed over, not the end of
    the search."""
    try:
        import xlwings as xw

        apps = list(xw.apps)
    except Exception:  # no Excel, no xlwings engine (Linux), a busy COM server: all mean "not open"
        log.debug("no open workbook found through xlwings", exc_info=True)
        return None
    target = _comparable_path(path)
    for app in apps:
        try:
            books = list(app.books)
        except Exception:  # an instance that cannot list its books holds none we can use
            log.debug("an Excel instance did not list its workbooks", exc_info=True)
            continue
        for book in books:
            try:
                if _comparable_path(book.fullname) == target:
                    return book
            except Exception:  # this book is not the one, whatever it is
                log.debug("an open workbook whose path cannot be read", exc_info=True)
    return None


def book_file(book: xw.Book) -> Path:
    """The workbook's file on this computer.

    With AutoSave on, Excel names a OneDrive or SharePoint workbook by its web address; xlwings maps
    that to the synced folder and raises when it cannot find the file there."""
    import xlwings as xw

    try:
        return Path(book.fullname)
    except xw.XlwingsError:
        log.debug("xlwings could not map the workbook's address to a file", exc_info=True)
        raise WorkbookError(
            f"Cannot find the file of {book.name} on this computer (Excel names it by its OneDrive or "
            "SharePoint address): add your synced folder to the xlwings.conf sheet as "
            "ONEDRIVE_CONSUMER_WIN, ONEDRIVE_COMMERCIAL_WIN or SHAREPOINT_WIN (_MAC on a Mac), "
            "or save a copy in a local folder."
        ) from None


def read_config(book: xw.Book) -> dict[str, str]:
    """Field name -> Config value text, from one bulk read of the Config sheet's used range."""
    sheet = _sheet_named(book, CONFIG_SHEET)
    if sheet is None:
        log.warning("the workbook has no %s sheet: using environment and defaults", CONFIG_SHEET)
        return {}
    rows = sheet.used_range.options(ndim=2).value or []
    return config_from_rows(rows)


def config_from_rows(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """Field name -> value text for rows whose column A is a settings label (trimmed, any case).

    Cell values become the text the file reader (workbook_file.read_config) gives for the same
    cell, so a Config sheet means the same thing live and headless.
    """
    config: dict[str, str] = {}
    for row in rows:
        name = field_for_label(row[0]) if row else None
        if name is not None:
            config[name] = _cell_text(row[1] if len(row) > 1 else None)
    return config


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # Excel hands every number over as a float: 300.0 means 300
    return str(value)


class StatusBarProgress:
    """Progress as Excel status-bar text, e.g. "Peloton: fetching workout details 120/400".

    Called from the refresh's own thread (sync reports progress from there, never from its
    worker pool), which matters: Excel's COM objects belong to the thread that made them.
    """

    def __init__(
        self, app: Any, interval: float = STATUS_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.interval = interval
        self.clock = clock
        self._stage: str | None = None
        self._last = -math.inf

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = self.clock()
        finished = total is not None and done >= total
        if stage == self._stage and not finished and now - self._last < self.interval:
            return
        self._stage, self._last = stage, now
        self.app.status_bar = status_text(stage, done, total)


def status_text(stage: str, done: int, total: int | None) -> str:
    label = LABELS.get(stage, stage)
    label = label[:1].lower() + label[1:]
    if total:
        return f"Peloton: {label} {done}/{total}"
    return f"Peloton: {label}… {done}" if done else f"Peloton: {label}…"


def _alert(app: Any, message: str, mode: str) -> None:
    app.alert(message, title=ALERT_TITLE, buttons="ok", mode=mode)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "no details given"


def _keep_stderr_quiet() -> None:
    """On macOS, RunPython shows anything on stderr as an error box: log warnings go nowhere.

    (Without a handler, Python prints WARNING records to stderr; the message box already says
    what the member needs.)
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def _comparable_path(path: str | os.PathLike) -> str:
    return os.path.normcase(str(Path(path).expanduser().resolve(strict=False)))
