"""The FTP in effect for each ride, so every ride is scored against the FTP of its own date.

In order: the member's Config value (someone who tests elsewhere); Peloton's own, from the ride's
`ftp_info` (GET /api/workout/{id}, fetched once per ride); the most recent FTP test class before the
ride (95 % of its average output, as Peloton sets it); the estimate (95 % of the best 20 minutes of the
90 days before the ride); Peloton's current FTP from /api/me; else none, and the ride is scored by
heart rate instead.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

FTP_TEST_SHARE = 0.95
ESTIMATE_SHARE = 0.95
ESTIMATE_DAYS = 90
# "20 min FTP Test Ride"; not "10 min FTP Warm Up Ride".
_FTP_TEST = re.compile(r"\bftp\s+test\b", re.IGNORECASE)

CONFIG, PELOTON, TEST, ESTIMATE, TODAY = "Config", "Peloton", "FTP test", "estimate", "Peloton today"


@dataclass(frozen=True)
class RideFtpInput:
    """What one ride offers towards its FTP (rides are given oldest first)."""

    workout_id: str
    start: datetime | None
    peloton_ftp: float | None = None  # ftp_info.ftp; None or 0 when Peloton had none
    test_output: float | None = None  # average output, when the ride is an FTP test class
    best_20min: float | None = None  # the ride's best 20-minute average output


@dataclass(frozen=True)
class FtpInEffect:
    ftp: float | None
    source: str  # CONFIG, PELOTON, TEST, ESTIMATE, TODAY, or "" with no FTP


def is_ftp_test(title: object) -> bool:
    return isinstance(title, str) and bool(_FTP_TEST.search(title))


def _positive(value: float | None) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def ftp_in_effect(
    rides: Iterable[RideFtpInput], *, override: float | None = None, today: float | None = None
) -> dict[str, FtpInEffect]:
    """workout id -> the FTP it is scored against, and where that came from."""
    rides = list(rides)
    if _positive(override) is not None:
        return {r.workout_id: FtpInEffect(float(override or 0), CONFIG) for r in rides}
    result: dict[str, FtpInEffect] = {}
    last_test: float | None = None
    recent: deque[tuple[datetime, float]] = deque()  # (start, best 20 min) of the last ESTIMATE_DAYS
    now_ftp = _positive(today)
    for ride in rides:
        if ride.start is not None:
            while recent and recent[0][0] < ride.start - timedelta(days=ESTIMATE_DAYS):
                recent.popleft()
        own = _positive(ride.peloton_ftp)
        if own is not None:
            result[ride.workout_id] = FtpInEffect(own, PELOTON)
        elif last_test is not None:
            result[ride.workout_id] = FtpInEffect(last_test, TEST)
        elif recent:
            result[ride.workout_id] = FtpInEffect(round(ESTIMATE_SHARE * max(b for _, b in recent), 1), ESTIMATE)
        elif now_ftp is not None:
            result[ride.workout_id] = FtpInEffect(now_ftp, TODAY)
        else:
            result[ride.workout_id] = FtpInEffect(None, "")
        test = _positive(ride.test_output)
        if test is not None:  # counts from the next ride on
            last_test = round(FTP_TEST_SHARE * test, 1)
        best = _positive(ride.best_20min)
        if best is not None and ride.start is not None:
            recent.append((ride.start, best))
    return result
