"""A one-line progress display for terminals; silent when output is piped or --quiet."""

from __future__ import annotations

import sys
import time
from typing import TextIO

LABELS = {
    "workouts": "Listing workouts",
    "graphs": "Fetching workout details",
    "tables": "Building tables",
    "workbook": "Writing the workbook",
}


class TerminalProgress:
    def __init__(self, enabled: bool, stream: TextIO = sys.stderr, width: int = 28):
        self.enabled = enabled
        self.stream = stream
        self.width = width
        self._last_draw = 0.0
        self._shown = False

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = total is not None and done >= total
        if now - self._last_draw < 0.1 and not finished and done:
            return  # a redraw per request would cost more than the request
        self._last_draw = now
        label = LABELS.get(stage, stage)
        if total:  # a bar only when the total is known
            filled = int(self.width * done / total)
            line = f"{label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
        else:
            line = f"{label}… {done}" if done else f"{label}…"
        self.stream.write("\r\x1b[2K" + line)
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False
