"""DrawingML for the Dashboard's charts and the drawing that anchors them, for the headless writer.

openpyxl's chart classes serve as an XML serializer only (no workbook is loaded or saved with
openpyxl): they know the order and defaults of the chart schema. The drawing part is small
enough to write directly; each chart's frame carries the chart's name (`ChartSpec.key`), which is
how a later refresh through Excel finds its charts; the headless writer recognises them by what they
plot (every series on the Dashboard Data sheet), as other programs rename the frames on save.
"""

from __future__ import annotations

from typing import Any, cast

from openpyxl.chart import AreaChart, BarChart, LineChart, ScatterChart
from openpyxl.chart.axis import ChartLines, DateAxis
from openpyxl.chart.data_source import AxDataSource, NumDataSource, NumRef, StrRef
from openpyxl.chart.marker import Marker
from openpyxl.chart.series import Series, SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.xml.functions import tostring

from pelotonxl.model.dashboard_layout import ChartPlace, SeriesRef
from pelotonxl.xlsx.package import escape_attr

XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
GRID_COLOUR = "D9D9D9"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def chart_xml(place: ChartPlace) -> bytes:
    """The chart part (c:chartSpace) for one placed chart."""
    spec = place.spec
    chart: BarChart | LineChart
    if spec.kind == "stacked_column":
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap, chart.gapWidth = "col", "stacked", 100, 40
    elif spec.kind == "line":
        return _line_xml(place)
    else:  # "scatter", "scatter_log"
        return _scatter_xml(place)
    for index, ref in enumerate(place.series):
        series = _series(place, index, ref, xy=False)
        series.spPr = GraphicalProperties(solidFill=ref.colour, ln=LineProperties(noFill=True))
        chart.series.append(series)
    if spec.label_every > 1:
        chart.x_axis.tickLblSkip = chart.x_axis.tickMarkSkip = spec.label_every
    return _chart_space(chart, place)


def _line_xml(place: ChartPlace) -> bytes:
    """Lines over dates; a series drawn as an area or columns (`SeriesRef.kind`) joins them in the same
    plot, on the same date and value axes: a combination chart (one c:areaChart or c:barChart beside the
    c:lineChart in the plot area, each naming the line chart's two axes)."""
    chart = LineChart()
    chart.x_axis = DateAxis(crossAx=100)
    # A label a month: left to itself, LibreOffice labels every other week, the same month twice.
    chart.x_axis.majorUnit, chart.x_axis.majorTimeUnit = 1, "months"
    chart.x_axis.tickLblPos = "low"  # under the plot, not on the zero line (Form goes below zero)
    chart.y_axis.crossAx = chart.x_axis.axId  # openpyxl's default (10) names no axis of this plot
    others: dict[str, AreaChart | BarChart] = {}
    for index, ref in enumerate(place.series):
        series = _series(place, index, ref, xy=False)
        if ref.kind == "line":
            series.smooth = False
            # A lone point (one ride, one month) draws no line: a dot shows it.
            series.marker = (
                Marker(symbol="circle", size=6, spPr=GraphicalProperties(solidFill=ref.colour))
                if ref.marker
                else Marker(symbol="none")
            )
            series.spPr = GraphicalProperties(ln=LineProperties(solidFill=ref.colour, w=28575 if index else 12700))
            chart.series.append(series)
            continue
        series.spPr = GraphicalProperties(solidFill=ref.colour, ln=LineProperties(noFill=True))
        if ref.kind not in others:
            other = others[ref.kind] = AreaChart() if ref.kind == "area" else BarChart()
            if isinstance(other, BarChart):
                other.type, other.grouping, other.gapWidth = "col", "clustered", 0  # one day touches the next
            # The line chart's axes, by id: the plot area writes each axis once, from the first chart.
            other.x_axis.axId, other.y_axis.axId = chart.x_axis.axId, chart.y_axis.axId
            chart += other
        others[ref.kind].series.append(series)
    return _chart_space(chart, place)


def _scatter_xml(place: ChartPlace) -> bytes:
    """Numbers against numbers (seconds, durations): lines without markers; "scatter_log" puts the
    x axis on a log scale (the power curve's 5 s to 60 min)."""
    chart = ScatterChart(scatterStyle="lineMarker")
    for index, ref in enumerate(place.series):
        series = _series(place, index, ref, xy=True)
        series.smooth = False
        series.marker = Marker(symbol="circle" if place.spec.kind == "scatter_log" else "none")
        series.spPr = GraphicalProperties(ln=LineProperties(solidFill=ref.colour, w=22225 if index == 0 else 15875))
        chart.series.append(series)
    if place.spec.kind == "scatter_log":
        chart.x_axis.scaling.logBase = 10
    chart.x_axis.majorGridlines = None
    return _chart_space(chart, place)


def _series(place: ChartPlace, index: int, ref: SeriesRef, *, xy: bool) -> Series:
    """One series: its name and values, against the categories (or, `xy`, the x values)."""
    label = SeriesLabel(strRef=StrRef(f=ref.name_ref))
    values = NumDataSource(numRef=NumRef(f=ref.values_ref))
    along = AxDataSource(numRef=NumRef(f=place.categories_ref))
    if xy:
        return Series(idx=index, order=index, tx=label, yVal=values, xVal=along)
    return Series(idx=index, order=index, tx=label, val=values, cat=along)


def _chart_space(chart: AreaChart | BarChart | LineChart | ScatterChart, place: ChartPlace) -> bytes:
    """The chart part, with what every Dashboard chart has: titles, visible axes, horizontal grid lines,
    the legend below, a plain style."""
    chart.title = place.spec.title
    chart.x_axis.title = place.spec.x_title
    chart.y_axis.title = place.spec.y_title
    chart.x_axis.number_format = place.number_format
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes unless told
    chart.y_axis.majorGridlines = ChartLines(spPr=GraphicalProperties(ln=LineProperties(solidFill=GRID_COLOUR)))
    chart.y_axis.number_format = "#,##0"
    if chart.legend is not None:
        chart.legend.position = "b"
    chart.style = 2
    # ChartBase._write builds the c:chartSpace that openpyxl writes when it saves a workbook
    # (types-openpyxl leaves it out as private); openpyxl's tostring encodes it to UTF-8 bytes.
    element = chart._write()  # type: ignore[union-attr]
    _lines_in_front(element)
    return XML_DECLARATION.encode() + cast(bytes, tostring(element))


def _lines_in_front(space: Any) -> None:
    """In a combination chart, the c:lineChart after the area or columns: LibreOffice draws the plot's
    chart groups in their order, so the lines stay visible over the area (Excel always draws lines on top)."""
    plot = next(e for e in space.iter() if _local(e.tag) == "plotArea")
    groups = [child for child in plot if _local(child.tag).endswith("Chart")]
    line = next((g for g in groups if _local(g.tag) == "lineChart"), None)
    if line is not None and len(groups) > 1:
        plot.remove(line)
        plot.insert(list(plot).index(groups[-1]) + 1, line)


def _local(tag: str) -> str:
    """An element's name without its namespace (openpyxl's tree names them bare; lxml's with {ns})."""
    return tag.rsplit("}", 1)[-1]


def drawing_xml(places: list[ChartPlace], rel_ids: list[str]) -> str:
    """The drawing part anchoring each chart to its cells on the Dashboard."""
    placed = enumerate(zip(places, rel_ids, strict=False), start=2)
    anchors = [_anchor(place, rel_id, shape_id) for shape_id, (place, rel_id) in placed]
    return f'{XML_DECLARATION}<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}">' + "".join(anchors) + "</xdr:wsDr>"


def _anchor(place: ChartPlace, rel_id: str, shape_id: int) -> str:
    # Drawing anchors count columns and rows from 0; `to` is the cell just past the chart.
    col, row = place.col - 1, place.row - 1
    return (
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}</xdr:row>"
        "<xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{col + place.cols}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{row + place.rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
        f'<xdr:cNvPr id="{shape_id}" name="{escape_attr(place.spec.key)}" descr="{escape_attr(place.spec.title)}"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{C_NS}"><c:chart xmlns:c="{C_NS}" xmlns:r="{R_NS}" r:id="{rel_id}"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
    )
