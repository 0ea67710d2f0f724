"""Issue 26, printing: Workouts (and Metrics) fit their width on portrait pages, few enough side by side that
the print stays readable, with the header row repeated on every page; PowerCurve and Ride fit a page each.
Before, the sheets kept the template's fit-to-page with no page setup of their own, so Workouts printed as one
page of 3-point type."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import zipfile
from pathlib import Path

import pytest
from support import REPO, settings_for

from pelotonxl.refresh_job import run_refresh
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import writer
from pelotonxl.xlsx.table_sheet import fit_to_page, page_setup


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    """One headless refresh of a 40-workout account into a copy of the committed workbook."""
    from support import PASSWORD, USERNAME

    from pelotonxl.demo.account import make_account
    from pelotonxl.demo.server import FakePeloton

    root = tmp_path_factory.mktemp("print")
    book = root / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    with FakePeloton(make_account(40, seed=11), username=USERNAME, password=PASSWORD) as server:
        result = run_refresh(settings_for(server, root / "home"), lambda content: writer.write_tables(book, content))
    assert result.exit_code == 0
    return book


def sheet_xml(book: Path, name: str) -> str:
    with xp.open_package(book) as pkg:
        return pkg.text(xp.find_sheet(pkg, name).part)


def print_titles(book: Path) -> dict[str, str]:
    with zipfile.ZipFile(book) as archive:
        xml = archive.read("xl/workbook.xml").decode("utf-8")
    names = re.findall(r'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"', xml)
    found = re.findall(r'<definedName name="_xlnm\.Print_Titles" localSheetId="(\d+)">([^<]*)</definedName>', xml)
    return {names[int(i)]: text for i, text in found}


@pytest.mark.e2e
def test_the_tables_print_portrait_their_width_fitted_and_their_header_on_every_page(refreshed):
    for sheet, wide, tall in (("Workouts", 2, 0), ("Metrics", None, 0), ("PowerCurve", 1, 1)):
        xml = sheet_xml(refreshed, sheet)
        assert re.search(r'<sheetPr\b[^>]*>.*<pageSetUpPr fitToPage="1"/>.*</sheetPr>', xml), sheet
        setup = re.search(r'<pageSetup orientation="portrait" fitToWidth="(\d+)" fitToHeight="(\d+)"/>', xml)
        assert setup, sheet
        if wide is not None:
            assert (int(setup.group(1)), int(setup.group(2))) == (wide, tall), sheet
        else:  # as many pages wide as its columns need at a readable size
            assert int(setup.group(1)) >= 2 and setup.group(2) == "0"
    assert print_titles(refreshed) == {
        "Workouts": "'Workouts'!$1:$1",
        "Metrics": "'Metrics'!$1:$1",
        "PowerCurve": "'PowerCurve'!$1:$1",
    }
    ride = sheet_xml(refreshed, "Ride")
    assert '<pageSetUpPr fitToPage="1"/>' in ride and 'fitToWidth="1" fitToHeight="1"' in ride


def test_pages_wide_follow_the_columns_widths():
    assert page_setup((None, 0), [10.0] * 17) == '<pageSetup orientation="portrait" fitToWidth="1" fitToHeight="0"/>'
    assert 'fitToWidth="2"' in page_setup((None, 0), [17.0] * 20)  # 340 characters: two pages
    assert 'fitToWidth="3"' in page_setup((None, 0), [15.0] * 26)
    assert 'fitToWidth="1" fitToHeight="1"' in page_setup((1, 1), [40.0] * 20)  # told: one page


@pytest.mark.parametrize(
    ("kept", "expected"),
    [
        ("", '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'),
        ('<sheetPr codeName="Sheet3"/>', '<sheetPr codeName="Sheet3"><pageSetUpPr fitToPage="1"/></sheetPr>'),
        (
            '<sheetPr><tabColor rgb="FF00B050"/></sheetPr>',
            '<sheetPr><tabColor rgb="FF00B050"/><pageSetUpPr fitToPage="1"/></sheetPr>',
        ),
        (
            '<sheetPr><pageSetUpPr autoPageBreaks="0" fitToPage="0"/></sheetPr>',
            '<sheetPr><pageSetUpPr fitToPage="1" autoPageBreaks="0"/></sheetPr>',
        ),
    ],
)
def test_fit_to_page_keeps_the_members_sheet_properties(kept, expected):
    assert fit_to_page(kept) == expected


def test_print_titles_a_sheet_already_has_are_kept(tmp_path):
    book = tmp_path / "Book.xlsm"
    shutil.copy(REPO / "PelotonWorkbook.xlsm", book)
    with xp.open_package(book) as pkg:
        xp.set_print_titles(pkg, "Workouts", "$1:$2")  # the template has one: kept
        xp.set_print_titles(pkg, "Config", "$1:$1")  # none yet: added, scoped to Config's position
        xp.set_print_titles(pkg, "No such sheet", "$1:$1")
        with open(tmp_path / "Saved.xlsm", "wb") as out:
            pkg.write_zip(out)
    book = tmp_path / "Saved.xlsm"
    assert print_titles(book) == {
        "Workouts": "'Workouts'!$1:$1",
        "Metrics": "'Metrics'!$1:$1",
        "Config": "'Config'!$1:$1",
    }


def _pages(pdf: Path) -> list[list[tuple[float, float, str]]]:
    """Each page's words as (top, height, text), from pdftotext's bounding boxes."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        words = re.findall(r'<word xMin="[^"]*" yMin="([^"]*)" xMax="[^"]*" yMax="([^"]*)">([^<]*)</word>', page)
        pages.append([(float(top), float(bottom) - float(top), text) for top, bottom, text in words])
    return pages


@pytest.mark.libreoffice
@pytest.mark.e2e
def test_libreoffices_pdf_of_workouts_is_readable_with_the_header_on_each_page(refreshed, tmp_path):
    from support.libreoffice import convert

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pages = _pages(convert(refreshed, "pdf", tmp_path))
    text = [" ".join(w for _, _, w in page) for page in pages]
    workouts = [p for p, t in zip(pages, text, strict=True) if "ISO Week" in t or "Personal Record" in t]
    assert len(workouts) >= 2  # its width on two portrait pages, not squeezed onto one
    for page in workouts:
        top = min(page)[0]
        first_line = " ".join(w for y, _, w in page if y == top)
        assert first_line.startswith(("Workout ID", "Class Length")), first_line  # the header row, repeated
        # The body's type: at least 5 points high (the one-page print was about 3).
        assert statistics.median(h for _, h, _ in page) >= 5.0
    assert sum("Best Output, Last 90 Days" in t for t in text) == 1  # PowerCurve: one page


@pytest.mark.e2e
def test_true_and_false_are_centred_so_they_never_run_into_the_next_columns_text(refreshed):
    """LibreOffice aligns a boolean right, against the Device text beside it ("FALSE Bike"): centred, as
    Excel shows them."""
    xml = sheet_xml(refreshed, "Workouts")
    with zipfile.ZipFile(refreshed) as archive:
        styles = archive.read("xl/styles.xml").decode("utf-8")
    cell_xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S).group(1)
    xfs = re.findall(r"<xf\b[^>]*?/>|<xf\b[^>]*>.*?</xf>", cell_xfs, re.S)
    flags = set(re.findall(r'<c r="[A-Z]+\d+" s="(\d+)" t="b">', xml))
    assert flags  # Personal Record and Outdoor
    for index in flags:
        assert '<alignment horizontal="center"/>' in xfs[int(index)] and 'applyAlignment="1"' in xfs[int(index)]
    numbers = set(re.findall(r'<c r="[A-Z]+\d+" s="(\d+)"><v>', xml))
    assert all("alignment" not in xfs[int(i)] for i in numbers)  # only the flags
