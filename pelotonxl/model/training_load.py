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
from typing import TypedDict

import numpy as np

from pelotonxl.model.athlete import TRIMP_K

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
THRESHOLD_SHARE_OF_MAX = 0.90  # threshold heart rate estimated as 90 % of the maximum


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


@dataclass(frozen=True)
class BatchPower:
    """Many rides' power figures at once (one entry or row per ride)."""

    seconds: np.ndarray
    avg_power: np.ndarray
    normalized_power: np.ndarray  # NaN: shorter than the 30-second window
    zone_seconds: np.ndarray  # rides x ZONES; all 0 for a ride without an FTP (NaN in `ftps`)


def batch_power(outputs: list[np.ndarray], every_n: int, ftps: np.ndarray) -> BatchPower:
    """`power_figures` and `zone_seconds` of rides sharing one sampling, vectorised: the rides lie end to
    end in one array, each ride's rolling windows are those that start and end inside it, and each
    ride's sums are one `np.add.reduceat` (no Python loop per ride or per sample)."""
    count = len(outputs)
    lengths = np.array([len(o) for o in outputs], dtype="int64")
    empty = np.zeros(count)
    if not count or not lengths.sum():
        nan = np.full(count, np.nan)
        return BatchPower(lengths * float(every_n), empty, nan, np.zeros((count, ZONES)))
    values = np.nan_to_num(np.concatenate(outputs).astype("float64"), nan=0.0)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    has = lengths > 0
    totals = np.zeros(count)
    totals[has] = np.add.reduceat(values, starts[has])
    avg = np.divide(totals, lengths, out=np.zeros(count), where=has)
    # NP: the rolling averages of every window inside its ride, to the 4th power, summed per ride.
    width = window_samples(every_n)
    total = np.concatenate([[0.0], np.cumsum(values)])
    windows = len(values) - width + 1
    normalized = np.full(count, np.nan)
    fits = lengths >= width
    if windows > 0 and fits.any():
        fourth = ((total[width:] - total[:windows]) / width) ** 4
        bounds = np.empty(2 * int(fits.sum()), dtype="int64")
        bounds[0::2] = starts[fits]
        bounds[1::2] = starts[fits] + lengths[fits] - width + 1
        sums = np.add.reduceat(fourth, bounds[:-1] if bounds[-1] >= windows else bounds)[0::2]
        normalized[fits] = (sums / (lengths[fits] - width + 1)) ** 0.25
    # Zones: each sample's share of its ride's FTP.
    ride_of = np.repeat(np.arange(count), lengths)
    ftp_of = np.repeat(np.asarray(ftps, dtype="float64"), lengths)
    scored = np.isfinite(ftp_of) & (ftp_of > 0)
    # As zone_seconds: a sample above bound x FTP is in a higher zone (on it, in the lower one).
    zone = (values[scored, None] > ftp_of[scored, None] * np.asarray(ZONE_BOUNDS)[None, :]).sum(axis=1)
    counts = np.bincount(ride_of[scored] * ZONES + zone, minlength=count * ZONES).reshape(count, ZONES)
    return BatchPower(lengths * float(every_n), avg, normalized, counts * float(every_n))


class PowerRecord(TypedDict):
    """One ride's output as the store can keep it (JSON): see `power_records`."""

    every_n: int
    seconds: float
    avg: float
    np: float | None
    watts: list[float]  # each distinct wattage, ascending
    counts: list[int]  # samples at each


def power_records(outputs: list[np.ndarray], every_n: int) -> list[PowerRecord]:
    """What the store can keep of each ride's output so that no later refresh reads its samples: its
    length, average and NP (none needs the FTP) and each distinct wattage with how many samples held it,
    from which the zones at any FTP follow exactly."""
    power = batch_power(outputs, every_n, np.full(len(outputs), np.nan))
    records: list[PowerRecord] = []
    for i, output in enumerate(outputs):
        watts, counts = np.unique(np.nan_to_num(np.asarray(output, dtype="float64"), nan=0.0), return_counts=True)
        normalized = float(power.normalized_power[i])
        records.append(
            {
                "every_n": int(every_n),
                "seconds": float(power.seconds[i]),
                "avg": float(power.avg_power[i]),
                "np": None if np.isnan(normalized) else normalized,
                "watts": watts.tolist(),
                "counts": counts.tolist(),
            }
        )
    return records


def zone_seconds_of(record: PowerRecord, ftp: float) -> np.ndarray:
    """`zone_seconds` from a `power_records` record: the same comparison, made once per distinct wattage."""
    watts = np.asarray(record["watts"], dtype="float64")
    counts = np.asarray(record["counts"], dtype="float64")
    zone = np.searchsorted(np.asarray(ZONE_BOUNDS) * ftp, watts, side="left")
    return np.bincount(zone, weights=counts, minlength=ZONES)[:ZONES] * float(record["every_n"])


def ride_power(workout: dict, graph: dict | None) -> PowerRecord | None:
    """The derived "power" record of one workout (model/derived.py): a Bike ride's `power_records` record
    from its output samples, None for anything else."""
    from pelotonxl.model.power_curve import every_n_of, is_bike, metric_samples

    if not (isinstance(workout, dict) and isinstance(graph, dict) and is_bike(workout)):
        return None
    output = metric_samples(graph, "output")
    if output is None or not len(output):
        return None
    return power_records([output], every_n_of(graph))[0]
