"""Per-workout training load: normalized power, intensity, TSS and power zones for rides; heart-rate
TRIMP for the rest. Pure functions on sample arrays, so the store can keep their results per workout.

Samples are `every_n` seconds apart (the Graph sampling setting). NP's 30-second rolling average is
ceil(30 / every_n) samples: at the default 5-second sampling a 6-sample window, exactly 30 s; at 1 s
the textbook 30 samples. Sampling coarser than the second already averages the output over each
sample, so NP from 5-second samples reads slightly lower than from 1-second ones on sprints shorter
than 5 s, and the same on steady riding. A missing sample counts as 0 W (not pedalling), as in the
power curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NP_WINDOW_SECONDS = 30
# Upper bounds of power zones 1-6 as a share of FTP; zone 7 is everything above 150 %.
# A sample on a bound belongs to the lower zone (55 % of FTP is zone 1).
ZONE_BOUNDS = (0.55, 0.75, 0.90, 1.05, 1.20, 1.50)
ZONES = len(ZONE_BOUNDS) + 1
ZONE_NAMES = (
    "Z1 Active Recovery",
    "Z2 Endurance",
    "Z3 Tempo",
    "Z4 Threshold",
    "Z5 VO2 Max",
    "Z6 Anaerobic",
    "Z7 Neuromuscular",
)
TRIMP_K = 1.92  # Banister's weighting; 1.67 is the figure published for women
THRESHOLD_SHARE_OF_MAX = 0.90  # threshold heart rate estimated as 90 % of the maximum
DEFAULT_RESTING_HR = 60.0


@dataclass(frozen=True)
class PowerFigures:
    """What a ride's output samples say before any FTP is known: all that the store needs to keep."""

    seconds: float  # samples x every_n
    avg_power: float  # mean of the samples (a missing one as 0 W)
    normalized_power: float | None  # None: shorter than the 30-second window


def window_samples(every_n: int) -> int:
    """Samples in NP's 30-second rolling average: rounded up, never less than one."""
    return max(1, -(-NP_WINDOW_SECONDS // max(1, int(every_n))))


def normalized_power(output: np.ndarray, every_n: int) -> float | None:
    """4th root of the mean of the 4th powers of the 30-second rolling average (None if too short)."""
    watts = np.nan_to_num(np.asarray(output, dtype="float64"), nan=0.0)
    width = window_samples(every_n)
    if len(watts) < width:
        return None
    total = np.concatenate([[0.0], np.cumsum(watts)])
    rolling = (total[width:] - total[:-width]) / width
    return float(np.mean(rolling**4) ** 0.25)


def power_figures(output: np.ndarray, every_n: int) -> PowerFigures:
    watts = np.nan_to_num(np.asarray(output, dtype="float64"), nan=0.0)
    return PowerFigures(
        float(len(watts) * every_n),
        float(watts.mean()) if len(watts) else 0.0,
        normalized_power(watts, every_n),
    )


def zone_seconds(output: np.ndarray, every_n: int, ftp: float) -> np.ndarray:
    """Seconds in each of the 7 power zones (by share of `ftp`); a missing sample is 0 W, zone 1."""
    watts = np.nan_to_num(np.asarray(output, dtype="float64"), nan=0.0)
    zone = np.searchsorted(np.asarray(ZONE_BOUNDS) * ftp, watts, side="left")
    return np.bincount(zone, minlength=ZONES)[:ZONES].astype("float64") * every_n


def intensity_factor(normalized: float, ftp: float) -> float:
    return normalized / ftp


def tss(seconds: float, normalized: float, ftp: float) -> float:
    """Training Stress Score: seconds x NP x IF / (FTP x 3600) x 100 (an hour at FTP is 100)."""
    return seconds * normalized * (normalized / ftp) / (ftp * 3600) * 100


def threshold_hr(max_hr: float, configured: float | None = None) -> float:
    """The member's threshold heart rate, else THRESHOLD_SHARE_OF_MAX of their maximum."""
    return float(configured) if configured else THRESHOLD_SHARE_OF_MAX * max_hr


def trimp(minutes: float, avg_hr: float, rest_hr: float, max_hr: float, k: float = TRIMP_K) -> float:
    """Banister's TRIMP: minutes x HRr x 0.64 x e^(k x HRr), HRr the heart-rate reserve used."""
    if max_hr <= rest_hr:
        return 0.0
    reserve = min(max((avg_hr - rest_hr) / (max_hr - rest_hr), 0.0), 1.0)
    return minutes * reserve * 0.64 * math.exp(k * reserve)


def hr_load(
    minutes: float,
    avg_hr: float,
    *,
    rest_hr: float,
    max_hr: float,
    threshold: float,
    k: float = TRIMP_K,
) -> float:
    """TRIMP scaled like TSS: an hour at threshold heart rate scores 100."""
    hour_at_threshold = trimp(60.0, threshold, rest_hr, max_hr, k)
    if hour_at_threshold <= 0:
        return 0.0
    return 100.0 * trimp(minutes, avg_hr, rest_hr, max_hr, k) / hour_at_threshold
