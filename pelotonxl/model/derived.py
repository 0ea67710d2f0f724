"""The per-workout records kept in the store, so a refresh never parses an old graph again.

A facet is one JSON object per workout, computed from that workout's `(workout, graph)` alone (the
store's side of the contract is in `peloton/store.py`'s docstring):

- "rows" (`tables.row_record`): its Workouts cells, its Metrics values and names, what picks the Ride
  sheet's ride; the tables, the worksheet functions' index and the Ride sheet's choice read these.
- "efforts" (`power_curve.ride_efforts`): a Bike ride's best average output per duration; the power
  curve, the FTP estimate and its history read these. `null` for a workout that is not such a ride.

Adding a facet (the training-load figures, say): write `derive(workout, graph) -> dict | None` in the
model, add a `Facet` to FACETS naming the modules its result depends on, and read it with `load`. Each
facet's version is its number plus a digest of those modules' source, so a change to the code that
computes it recomputes every record once, on the next refresh; nobody has to remember to bump it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from pelotonxl.peloton.store import WorkoutStore

MODEL = Path(__file__).resolve().parent
BATCH = 200  # workouts derived per store transaction: bounded memory, few commits


@dataclass(frozen=True)
class Facet:
    name: str
    number: int  # bump for a change the digest cannot see (a dependency outside `sources`)
    function: str  # "module:function", imported only when something needs deriving
    sources: tuple[str, ...]  # the model modules (file names) whose code decides the result
    samples: bool  # whether it reads the graph's samples (else they are left out when reading)

    @property
    def version(self) -> str:
        return f"{self.number}-{_digest(self.sources)}"

    def derive(self) -> Callable[[dict, dict | None], dict[str, Any] | None]:
        module, name = self.function.split(":")
        return getattr(import_module(module), name)


ROWS = Facet("rows", 1, "pelotonxl.model.tables:row_record", ("tables.py", "catalog.py"), samples=False)
EFFORTS = Facet("efforts", 1, "pelotonxl.model.power_curve:ride_efforts", ("power_curve.py", "tables.py"), samples=True)
FACETS = (ROWS, EFFORTS)


@cache
def _digest(sources: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for name in sources:
        h.update((MODEL / name).read_bytes())
    return h.hexdigest()[:12]


def derive_records(
    pairs: Iterable[tuple[dict, dict | None]], facets: Iterable[Facet] = FACETS
) -> dict[str, list[tuple[str, str]]]:
    """facet name -> [(workout id, JSON text)] for these (workout, graph) pairs."""
    facets = list(facets)
    functions = [f.derive() for f in facets]
    out: dict[str, list[tuple[str, str]]] = {f.name: [] for f in facets}
    for workout, graph in pairs:
        wid = workout.get("id") if isinstance(workout, dict) else None
        if not isinstance(wid, str):
            continue
        for facet, function in zip(facets, functions, strict=True):
            out[facet.name].append((wid, json.dumps(function(workout, graph), separators=(",", ":"))))
    return out


def save(store: WorkoutStore, pairs: Iterable[tuple[dict, dict | None]], facets: Iterable[Facet] = FACETS) -> None:
    """Derive and keep the facets of these pairs (the graphs just fetched, still in memory)."""
    facets = list(facets)
    for name, rows in derive_records(pairs, facets).items():
        facet = next(f for f in facets if f.name == name)
        store.save_derived(facet.name, facet.version, rows)


def save_fetched(store: WorkoutStore, graphs: list[tuple[str, dict]]) -> None:
    """sync's `on_saved`: the records of workouts whose graphs just arrived, from those graphs in memory."""
    workouts = store.workouts_of([wid for wid, _ in graphs])
    save(store, ((workouts[wid], graph) for wid, graph in graphs if wid in workouts))


def update(store: WorkoutStore, facets: Iterable[Facet] = FACETS) -> int:
    """Derive what the store lacks (new workouts, a changed workout, records of older code); returns
    how many workouts were read. A store that is up to date costs one query per facet."""
    read = 0
    for facet in facets:
        stale = store.stale_derived(facet.name, facet.version)
        for start in range(0, len(stale), BATCH):
            batch = stale[start : start + BATCH]
            save(store, store.records_of(batch, samples=facet.samples), [facet])
            read += len(batch)
    return read


def load(store: WorkoutStore, facet: Facet) -> Iterator[tuple[str, Any]]:
    """(workout id, record or None) of every workout, newest first, after `update`."""
    for wid, data in store.derived(facet.name, facet.version):
        yield wid, json.loads(data)


def read_only(store: WorkoutStore, facet: Facet) -> list[tuple[str, Any]]:
    """Every workout's record, newest first, writing nothing (the worksheet functions): a workout whose
    record the store lacks (no refresh since this code was installed) is derived in memory."""
    kept = {wid: json.loads(data) for wid, data in store.derived(facet.name, facet.version)}
    missing = store.stale_derived(facet.name, facet.version)
    if missing:
        derive = facet.derive()
        for workout, graph in store.records_of(missing, samples=facet.samples):
            kept[workout["id"]] = derive(workout, graph)
    return [(wid, kept[wid]) for wid in store.ids() if wid in kept]
