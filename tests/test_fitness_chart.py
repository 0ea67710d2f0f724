"""Issue 21, the Dashboard's "Fitness, fatigue and form" chart: lines for Fitness (CTL) and Fatigue (ATL),
an area for Form (TSB), in one plot on the same date and value axes (a combination chart). The headless
writer's chart part is checked against the ECMA-376 schemas and read back by LibreOffice; the live writer
gives the Form series its type through xlwings' ChartSeries (autospecs of xlwings' own classes)."""

from __future__ import annotations

import math
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from support import REPO, libreoffice
from support.hand_made import NOW, hand_account
from support.ooxml_check import assert_valid
from support.xlwings_autospec import real_api
from support.xlwings_standin import Book

from pelotonxl.excel import live_writer
from pelotonxl.model import dashboard as db
from pelotonxl.model import fitness
from pelotonxl.model.dashboard_blocks import ChartSpec
from pelotonxl.model.dashboard_layout import plan
from pelotonxl.model.dashboard_load import FITNESS_CHART
from pelotonxl.model.tables import build_tables
from pelotonxl.model.workbook import WorkbookContent
from pelotonxl.model.workout_load import fitness_table
from pelotonxl.xlsx import writer

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
LINES, AREA = ["Fitness (CTL)", "Fatigue (ATL)"], ["Form (TSB)"]


def content() -> WorkbookContent:
    """The hand-made account, with a Fitness table of a year of loads that rise and fall (Form both sides of 0)."""
    workouts, metrics = build_tables(hand_account())
    days = pd.date_range(end=pd.Timestamp(NOW.date()), periods=400, freq="D")
    loads = [60 + 50 * math.sin(i / 9) if i % 3 else 0.0 for i in range(len(days))]
    table = fitness_table(fitness.fitness_frame(fitness.daily_load(days.date, loads)))
    board = db.build_dashboard(workouts, metrics, NOW, fitness=table)
    return WorkbookContent(workouts, metrics, board, fitness=table)


def fitness_chart(book: Path) -> etree._Element:
    with zipfile.ZipFile(book) as z:
        parts = [z.read(n) for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    return next(etree.fromstring(p) for p in parts if b"Fitness, fatigue and form" in p)


def names_by_group(chart: etree._Element, sheet_values: dict[str, str]) -> dict[str, list[str]]:
    """Each chart group of the plot (lineChart, areaChart) -> its series' names, read from the cells."""
    plot = chart.find(f"{C}chart/{C}plotArea")
    return {
        etree.QName(group).localname: [sheet_values[s.findtext(f"{C}tx//{C}f")] for s in group.iterfind(f"{C}ser")]
        for group in plot
        if etree.QName(group).localname.endswith("Chart")
    }


def test_the_spec_says_how_each_series_is_drawn():
    assert [FITNESS_CHART.series_kind(n) for n in LINES + AREA] == ["line", "line", "area"]
    refs = next(p for p in plan(content().dashboard).charts if p.spec.key == FITNESS_CHART.key).series
    assert [(r.name, r.kind) for r in refs] == [(n, "line") for n in LINES] + [(AREA[0], "area")]
    with pytest.raises(ValueError, match="only a line chart"):
        ChartSpec("X", "x", "stacked_column", "x", "y", drawn_as=(("a", "area"),))


def test_the_file_holds_one_plot_with_an_area_under_two_lines_on_shared_axes(tmp_path: Path):
    book = tmp_path / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    board = content()
    writer.write_tables(book, board)
    assert_valid(book)  # the ECMA-376 schemas, and every crossAx names an axis of its plot

    chart = fitness_chart(book)
    place = next(p for p in plan(board.dashboard).charts if p.spec.key == FITNESS_CHART.key)
    headers = {ref.name_ref: ref.name for ref in place.series}
    assert len(chart.findall(f".//{C}plotArea")) == 1
    # The area first: LibreOffice draws the groups in order, so the lines stay in front.
    assert names_by_group(chart, headers) == {"areaChart": AREA, "lineChart": LINES}
    plot = chart.find(f"{C}chart/{C}plotArea")
    axes = {
        etree.QName(a).localname: a.find(f"{C}axId").get("val") for a in plot if etree.QName(a).localname.endswith("Ax")
    }
    assert set(axes) == {"dateAx", "valAx"}  # one date axis and one value axis, no second pair
    for group in ("areaChart", "lineChart"):
        assert [a.get("val") for a in plot.find(f"{C}{group}").iterfind(f"{C}axId")] == [axes["dateAx"], axes["valAx"]]
    # Series order follows the block (the legend's order), whichever group holds a series.
    orders = {headers[s.findtext(f"{C}tx//{C}f")]: int(s.find(f"{C}order").get("val")) for s in plot.iter(f"{C}ser")}
    assert sorted(orders, key=orders.__getitem__) == LINES + AREA
    area = plot.find(f"{C}areaChart/{C}ser")
    assert area.find(f"{C}spPr/*").tag.endswith("solidFill") and area.find(f"{C}marker") is None


@pytest.mark.libreoffice
def test_libreoffice_reads_the_combination_chart_and_draws_it(tmp_path: Path):
    book = tmp_path / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    board = content()
    writer.write_tables(book, board)
    # What LibreOffice read, written back out: the area and the lines are still one plot on shared axes.
    saved = libreoffice.convert(book, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    chart = fitness_chart(saved)
    groups = [
        etree.QName(g).localname
        for g in chart.find(f"{C}chart/{C}plotArea")
        if etree.QName(g).localname.endswith("Chart")
    ]
    assert sorted(groups) == ["areaChart", "lineChart"]
    area_names = [t.text for t in chart.iterfind(f".//{C}areaChart/{C}ser/{C}tx//{C}v")]
    line_names = [t.text for t in chart.iterfind(f".//{C}lineChart/{C}ser/{C}tx//{C}v")]
    assert (area_names, line_names) == (AREA, LINES)
    pdf = libreoffice.convert(book, "pdf", tmp_path / "pdf")
    assert pdf.stat().st_size > 10_000


def test_the_live_writer_draws_form_as_an_area_on_the_line_charts_axes():
    book = Book()
    book.sheets.add("Config")
    live_writer.write_tables_live(real_api(book), content())
    chart = next(c for c in book.sheets["Dashboard"].charts if c.name == FITNESS_CHART.key)
    assert [(s.name, s.chart_type) for s in chart._series] == [(n, "line") for n in LINES] + [(AREA[0], "area")]
    assert chart.chart_type == "combination"
    # Filled in the layout's colour (an area has no line to colour), as the headless writer fills it.
    assert chart._series[2].fill_color == "#" + content().dashboard.block("fitness").colours[AREA[0]]


def test_an_older_all_line_chart_gets_its_area_and_a_members_own_type_stays():
    book = Book()
    book.sheets.add("Config")
    live_writer.write_tables_live(real_api(book), content())
    chart = next(c for c in book.sheets["Dashboard"].charts if c.name == FITNESS_CHART.key)
    chart.chart_type = "line"  # as an older refresh left it: every series a line
    live_writer.write_tables_live(real_api(book), content())
    assert [s.chart_type for s in chart._series] == ["line", "line", "area"]
    chart._series[2].chart_type = "column_clustered"  # the member prefers bars
    live_writer.write_tables_live(real_api(book), content())
    assert [s.chart_type for s in chart._series] == ["line", "line", "column_clustered"]
