"""What a LibreOffice save or the member changes about how our sheets look, kept across a refresh (issue 20,
items 5 and 7): widths in the workbook's own units, the member's frozen panes, conditional formats and data
validations that grow with the table."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from support.ooxml_check import assert_valid
from support.workbook_samples import SampleTable, edit_zip, make_workbook, read_parts, sample_content, sheet_parts

from pelotonxl.xlsx import writer
from pelotonxl.xlsx.styles import StyleBook

STYLES = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1">{}</fonts></styleSheet>'
)


@pytest.mark.parametrize(
    ("font", "scale"),
    [
        ('<font><sz val="12"/><name val="Calibri"/></font>', 1.0),  # the template's: what the widths were fitted for
        ('<font><sz val="10"/><name val="Arial"/><family val="2"/></font>', 8 / 7),  # LibreOffice's save
        ('<font><sz val="10"/><name val="DejaVu Sans"/></font>', 1.0),  # wider digits: never narrower than fitted
        ("<font><b/></font>", 1.0),  # no name or size: as fitted
    ],
)
def test_widths_are_given_in_the_digits_of_the_workbooks_own_default_font(font: str, scale: float):
    assert StyleBook(STYLES.format(font)).width_scale() == pytest.approx(scale)


def content(n: int):
    frame = pd.DataFrame({"Workout ID": [f"w{i}" for i in range(n, 0, -1)], "Output": [100.0 + i for i in range(n)]})
    return sample_content([SampleTable("Workouts", frame, {}, {"Workout ID": 20.0, "Output": 14.0})])


def col_widths(path: Path, sheet: str) -> dict[int, float]:
    xml = read_parts(path)[sheet_parts(path)[sheet]].decode()
    return {int(m[0]): float(m[1]) for m in re.findall(r'<col min="(\d+)" max="\d+" width="([0-9.]+)"', xml)}


def test_after_libreoffice_made_arial_10_the_default_font_our_columns_widen_to_fit(tmp_path: Path):
    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm")

    def arial_default(parts: dict[str, bytes]) -> None:
        xml = parts["xl/styles.xml"].decode()
        parts["xl/styles.xml"] = re.sub(
            r"(<fonts\b[^>]*>)<font>.*?</font>",
            r'\1<font><sz val="10"/><name val="Arial"/></font>',
            xml,
            count=1,
            flags=re.S,
        ).encode()

    edit_zip(book, arial_default)
    writer.write_tables(book, content(3))
    assert col_widths(book, "Workouts") == {1: round(20 * 8 / 7, 2), 2: round(14 * 8 / 7, 2)}


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    writer.write_tables(path, content(5))  # Workouts A1:B6
    return path


def test_the_members_frozen_panes_stay_and_ours_are_written_otherwise(book: Path):
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"].freeze_panes = "B2"  # the Workout ID column and the header
    wb.save(book)
    writer.write_tables(book, content(9))
    assert load_workbook(book, keep_vba=True)["Workouts"].freeze_panes == "B2"
    assert_valid(book)
    other = make_workbook(book.parent / "Other.xlsm")
    writer.write_tables(other, content(2))
    assert load_workbook(other, keep_vba=True)["Workouts"].freeze_panes == "A2"  # the refresh's own: the header


def test_conditional_formats_and_validations_on_the_table_cover_the_new_workouts(book: Path):
    wb = load_workbook(book, keep_vba=True)
    ws = wb["Workouts"]
    red = CellIsRule(operator="greaterThan", formula=["102"], fill=PatternFill("solid", fgColor="FFC7CE"))
    ws.conditional_formatting.add("B2:B6", red)
    ws.conditional_formatting.add("B2:B3", red)  # rows the member picked: theirs
    check = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    check.add("B2:B6")
    ws.add_data_validation(check)
    wb.save(book)
    writer.write_tables(book, content(13))
    ws = load_workbook(book, keep_vba=True)["Workouts"]
    assert sorted(str(cf.sqref) for cf in ws.conditional_formatting) == ["B2:B14", "B2:B3"]
    assert [str(dv.sqref) for dv in ws.data_validations.dataValidation] == ["B2:B14"]
    assert_valid(book)
