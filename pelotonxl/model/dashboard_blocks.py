"""What a Dashboard is made of: `Block`s (small tables, each a chart's data or a table on the sheet)
and `ChartSpec`s. Apart from `dashboard` so that it and `dashboard_power` share them without importing
each other; `dashboard_layout` places them for both writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

MONTH_FORMAT = "mmm yy"
# Columns stacked by category; a line over dates; lines of numbers against numbers (seconds), the
# "scatter_log" one on a log x axis with markers (the power curve).
ChartKind = Literal["stacked_column", "line", "scatter", "scatter_log"]
# How one series of a "line" chart is drawn. A chart whose series differ is a combination chart: one plot,
# the same date and value axes (Form as an area under the Fitness and Fatigue lines).
SeriesKind = Literal["line", "area", "column"]


@dataclass
class Block:
    """A small table: first column the categories (or row labels), then one column per series."""

    key: str
    title: str
    frame: pd.DataFrame
    number_formats: dict[str, str] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)  # column or row label -> RGB hex
    note: str = ""  # "no data yet" text; "" when there is data
    # Row label (first column) -> number format of that row's cells in columns without one above.
    row_formats: dict[str, str] = field(default_factory=dict)
    caption: str = ""  # a line under the block's rows that explains them (always shown when set)


@dataclass(frozen=True)
class ChartSpec:
    key: str  # the chart's name in the workbook: how a refresh finds it again
    title: str
    kind: ChartKind
    x_title: str
    y_title: str
    axis_format: str = ""  # number format of the category axis; "" for the block's own
    label_every: int = 1  # show every n-th category label (52 weeks do not all fit)
    # Series (by their block column) drawn otherwise than as lines; "line" charts only.
    drawn_as: tuple[tuple[str, SeriesKind], ...] = ()

    def __post_init__(self) -> None:
        if self.drawn_as and self.kind != "line":
            raise ValueError(f"{self.key}: only a line chart combines series kinds")

    def series_kind(self, name: str) -> SeriesKind:
        """How the series of block column `name` is drawn (a "line" chart's; the others' series are all alike)."""
        return dict(self.drawn_as).get(name, "line")
