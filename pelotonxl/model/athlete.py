"""What the training load knows of the member: the Config sheet's values first, else Peloton's profile
(/api/me). Apart from `workout_load` so a refresh with nothing new builds it without loading pandas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POUNDS_TO_KG = 0.45359237
TRIMP_K = 1.92  # Banister's weighting; 1.67 is the figure published for women
DEFAULT_RESTING_HR = 60.0


@dataclass(frozen=True)
class Athlete:
    """The member as the load sees them (None: not known)."""

    ftp_override: float | None = None
    today_ftp: float | None = None  # Peloton's FTP now (/api/me)
    weight_kg: float | None = None
    max_hr: float | None = None
    resting_hr: float = DEFAULT_RESTING_HR
    threshold_hr: float | None = None
    trimp_k: float = TRIMP_K


def _positive(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def athlete(settings: Any, me: Mapping[str, Any] | None, today_ftp: float | None) -> Athlete:
    """Config values (0 = not set) before /api/me's: `weight` there is in pounds, as Peloton keeps it."""
    me = me or {}
    pounds = _positive(me.get("weight"))
    max_hr = _positive(getattr(settings, "max_hr", 0)) or _positive(me.get("customized_max_heart_rate"))
    return Athlete(
        ftp_override=_positive(getattr(settings, "ftp", 0)),
        today_ftp=today_ftp,
        weight_kg=_positive(getattr(settings, "weight_kg", 0)) or (pounds * POUNDS_TO_KG if pounds else None),
        max_hr=max_hr or _positive(me.get("default_max_heart_rate")),
        resting_hr=_positive(getattr(settings, "resting_hr", 0)) or DEFAULT_RESTING_HR,
        threshold_hr=_positive(getattr(settings, "threshold_hr", 0)),
        trimp_k=_positive(getattr(settings, "trimp_k", 0)) or TRIMP_K,
    )
