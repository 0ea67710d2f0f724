"""The stand-in's charts: records of what was asked (name, type, source range, plot_by, position,
series colours); nothing is drawn. Part of tests/support/xlwings_standin.py, kept apart for size.

Rules of Excel it models:
- `set_source_data` makes one series per column (`plot_by="columns"`) or per row (`"rows"`) of the
  source, named by the header row (or column) when its corner cell is empty; with no `plot_by`, Excel
  guesses from the shape: series in columns when there are more rows than columns, else in rows;
- re-pointing a chart keeps each series' formatting by position, as Excel does, so a series that moved
  keeps the colour (and the chart type) of whatever was there before unless it is set again;
- each series has a chart type: a new one takes the chart's; setting the chart's type gives it to every
  series (a combination chart becomes all of one type); setting a series' type makes the chart a
  combination, whose own type reads "combination" (xlCombination) while its series differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import xlwings.constants

from support.xlwings_standin_items import NamedItems

CHART_TYPES = {
    "column_stacked",
    "column_clustered",
    "line",
    "line_markers",
    "bar_stacked",
    "area",
    "pie",
    "xy_scatter",
    "xy_scatter_lines",
    "xy_scatter_lines_no_markers",
}
# A subset of xlwings' own names (xlwings.constants.chart_types): a name it lacks fails as it would there.
assert CHART_TYPES <= set(xlwings.constants.chart_types)
SERIES_COLOURS = ("fill_color", "line_color", "marker_foreground_color", "marker_background_color")
SERIES_SETTINGS = (*SERIES_COLOURS, "chart_type")  # what a series keeps by position when re-pointed


class Charts(NamedItems):
    def __init__(self, sheet: Any) -> None:
        super().__init__()
        self.sheet = sheet

    def add(
        self,
        left: float = 0,
        top: float = 0,
        width: float = 355,
        height: float = 211,
        chart_type: str | None = None,
        source: Any = None,
        plot_by: str | None = None,
        name: str | None = None,
        anchor: Any = None,
        style: int | None = 227,
    ) -> Chart:
        from support.xlwings_standin import Call

        chart = Chart(self.sheet, f"Chart {len(self._items) + 1}", (left, top, width, height))
        self._items.append(chart)
        self.sheet.book.calls.append(Call("charts.add", self.sheet.name, "", (left, top, width, height)))
        if name is not None:
            chart.name = name
        if chart_type is not None:
            chart.chart_type = chart_type
        if source is not None:
            chart.set_source_data(source, plot_by)
        return chart


class Chart:
    def __init__(self, sheet: Any, name: str, position: tuple[float, float, float, float]) -> None:
        self.parent = sheet
        self._name = name
        self._chart_type = "column_clustered"  # Excel's default chart
        self.position = position  # test helper: (left, top, width, height)
        self.source: Any = None  # test helper: the last set_source_data range
        self.plot_by: str | None = None  # how the series were taken, as asked or guessed
        self._series: list[ChartSeries] = []

    @property
    def left(self) -> float:
        return self.position[0]

    @property
    def top(self) -> float:
        return self.position[1]

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        from support.xlwings_standin import Call

        if any(c is not self and c.name.casefold() == value.casefold() for c in self.parent.charts):
            raise ValueError(f"a chart named {value} already exists on {self.parent.name}")
        self._name = value
        self.parent.book.calls.append(Call("chart.name=", self.parent.name, "", value))

    @property
    def chart_type(self) -> str:
        if len({s.chart_type for s in self._series}) > 1:
            return "combination"
        return self._chart_type

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        from support.xlwings_standin import Call

        if value not in CHART_TYPES:
            raise ValueError(f"xlwings has no chart type {value!r}")
        self._chart_type = value
        for series in self._series:
            series.chart_type = value
        self.parent.book.calls.append(Call("chart.chart_type=", self.parent.name, "", value))

    def set_source_data(self, source: Any, plot_by: str | None = None) -> None:
        from support.xlwings_standin import Call

        if plot_by not in (None, "rows", "columns"):
            raise ValueError(f"xlwings rejects plot_by={plot_by!r}")
        grid = source.sheet.grid(source)
        rows, cols = source.shape
        self.plot_by = plot_by or ("columns" if rows > cols else "rows")
        lines = grid if self.plot_by == "rows" else [list(c) for c in zip(*grid, strict=False)]
        labelled = grid[0][0] in (None, "")  # an empty corner: first row and column are labels
        names = [line[0] for line in lines[1:]] if labelled else [None] * len(lines)
        old = self._series
        self._series = [
            ChartSeries(str(n) if n is not None else f"Series{i + 1}", self._chart_type) for i, n in enumerate(names)
        ]
        for before, after in zip(old, self._series, strict=False):  # Excel keeps formatting by position
            for key in SERIES_SETTINGS:
                setattr(after, key, getattr(before, key))
        self.source = source
        self.parent.book.calls.append(
            Call("chart.set_source_data", source.sheet.name, source.address, (self.name, plot_by))
        )

    @property
    def series(self) -> ChartSeriesCollection:
        return ChartSeriesCollection(self._series)


class ChartSeriesCollection:
    def __init__(self, series: list[ChartSeries]) -> None:
        self._series = series

    def __iter__(self) -> Iterator[ChartSeries]:
        return iter(list(self._series))

    def __len__(self) -> int:
        return len(self._series)

    def __getitem__(self, index: int) -> ChartSeries:
        return self._series[index]


class ChartSeries:
    def __init__(self, name: str, chart_type: str = "column_clustered") -> None:
        self.name = name
        self._chart_type = chart_type
        self.fill_color: Any = None
        self.line_color: Any = None
        self.marker_foreground_color: Any = None
        self.marker_background_color: Any = None

    @property
    def chart_type(self) -> str:
        return self._chart_type

    @chart_type.setter
    def chart_type(self, value: str) -> None:
        if value not in CHART_TYPES:
            raise ValueError(f"xlwings has no chart type {value!r}")
        self._chart_type = value

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            if key != "name" and key not in SERIES_SETTINGS:
                raise NotImplementedError(f"the stand-in does not model ChartSeries.{key}")
            setattr(self, key, value)
