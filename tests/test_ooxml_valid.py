"""Every part of every workbook a refresh leaves validates against the ECMA-376 Transitional
schemas, the parts agree with each other, and a workbook saved by another program (openpyxl,
LibreOffice, Excel) refreshes like one we wrote."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import LineChart, Reference
from support import libreoffice, table_rows
from support.ooxml_check import assert_valid, cross_part_errors
from support.workbook_samples import (
    add_calc_chain,
    edit_zip,
    sheet_parts,
    to_shared_strings,
)

REPO = Path(__file__).resolve().parent.parent
LATER = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


def test_the_committed_workbook_validates():
    assert_valid(REPO / "PelotonWorkbook.xlsm")
    assert_valid(REPO / "pelotonxl" / "template" / "PelotonWorkbook.xlsm")


def test_a_refresh_and_one_that_grew_the_data_validate(server, account, workbook, home, run_cli):
    assert run_cli(server, workbook, home).returncode == 0
    assert_valid(workbook)
    first = len(table_rows(workbook, "Workouts"))
    account.add_workouts(8, at=LATER)
    assert run_cli(server, workbook, home).returncode == 0
    assert len(table_rows(workbook, "Workouts")) == first + 8
    assert_valid(workbook)


def test_the_checks_catch_an_axis_crossing_no_axis(workbook: Path):
    assert not cross_part_errors(workbook)
    chart = next(n for n, data in _parts(workbook).items() if n.startswith("xl/charts/") and b"<dateAx>" in data)
    edit_zip(
        workbook,
        lambda parts: parts.update(
            {chart: re.sub(rb'(<valAx>.*?<crossAx val=")\d+', rb"\g<1>10", parts[chart], flags=re.S)}
        ),
    )
    assert any("crossAx 10" in e for e in cross_part_errors(workbook))


def _parts(path: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _refreshes_after(save, server, account, workbook, home, run_cli) -> None:
    """A refresh, a save by another program, eight new workouts, a refresh: exit 0, grown, kept, valid."""
    assert run_cli(server, workbook, home).returncode == 0
    before = len(table_rows(workbook, "Workouts"))
    save(workbook)
    account.add_workouts(8, at=LATER)
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert len(table_rows(workbook, "Workouts")) == before + 8
    book = openpyxl.load_workbook(workbook, keep_vba=True)
    assert book["Mine"]["A1"].value == "my sheet"
    assert_valid(workbook)


def _member_sheet(book: openpyxl.Workbook) -> None:
    book.create_sheet("Mine")["A1"] = "my sheet"


def test_a_workbook_saved_by_openpyxl_refreshes(server, account, workbook, home, run_cli):
    def save(path: Path) -> None:
        book = openpyxl.load_workbook(path, keep_vba=True)
        _member_sheet(book)
        book.save(path)

    _refreshes_after(save, server, account, workbook, home, run_cli)


def test_a_chart_the_member_put_on_the_dashboard_is_still_refused_after_an_openpyxl_save(
    server, workbook, home, run_cli
):
    assert run_cli(server, workbook, home).returncode == 0
    book = openpyxl.load_workbook(workbook, keep_vba=True)
    mine = LineChart()
    mine.add_data(Reference(book["Workouts"], min_col=10, min_row=1, max_row=5), titles_from_data=True)
    book["Dashboard"].add_chart(mine, "A60")
    book.save(workbook)
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert "The Dashboard sheet holds 1 chart, which a refresh would delete" in result.stderr


def test_a_workbook_saved_as_excel_saves_it_refreshes(server, account, workbook, home, run_cli):
    """Shared strings instead of inline ones, xr:uid attributes under mc:Ignorable, a calcChain."""

    def save(path: Path) -> None:
        book = openpyxl.load_workbook(path, keep_vba=True)
        _member_sheet(book)
        book["Mine"]["B1"] = "=1+1"
        book.save(path)
        sheets = sheet_parts(path)
        for name in ("Workouts", "Metrics", "Mine"):
            to_shared_strings(path, sheets[name])

        def excel_marks(parts: dict[str, bytes]) -> None:
            for name in (sheets["Workouts"], "xl/tables/table1.xml"):
                xml = parts[name].decode()
                xml = re.sub(
                    r"<(worksheet|table) ",
                    r'<\1 xmlns:mc="http://schemas.openxmlformats.org/'
                    r'markup-compatibility/2006" mc:Ignorable="xr" xmlns:xr="http://schemas.microsoft.com/'
                    r'office/spreadsheetml/2014/revision" xr:uid="{00000000-0001-0000-0000-000000000000}" ',
                    xml,
                    count=1,
                )
                parts[name] = xml.encode()

        edit_zip(path, excel_marks)
        add_calc_chain(path, _sheet_id(path, "Mine"))

    _refreshes_after(save, server, account, workbook, home, run_cli)


def _sheet_id(path: Path, name: str) -> int:
    xml = _parts(path)["xl/workbook.xml"].decode()
    return int(re.search(rf'<sheet\b[^>]*\bname="{name}" sheetId="(\d+)"', xml).group(1))


@pytest.mark.libreoffice
def test_a_workbook_saved_by_libreoffice_refreshes(server, account, workbook, home, run_cli, tmp_path):
    def save(path: Path) -> None:
        book = openpyxl.load_workbook(path, keep_vba=True)
        _member_sheet(book)
        book.save(path)
        saved = libreoffice.convert(path, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "lo-out")
        shutil.copyfile(saved, path)

    _refreshes_after(save, server, account, workbook, home, run_cli)
