"""A member's pivot tables on our tables: a refresh of the file marks their caches to rebuild on opening."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from support import libreoffice
from support.ooxml_check import assert_valid
from support.workbook_samples import (
    SampleTable,
    add_pivot,
    edit_zip,
    make_workbook,
    read_parts,
    sample_content,
    sheet_parts,
)

from pelotonxl.xlsx import writer

MARK = b' refreshOnLoad="1"'


def content(n: int):
    frame = pd.DataFrame({"Workout ID": [f"w{i}" for i in range(n)], "Output": [100.0 + i for i in range(n)]})
    return sample_content([SampleTable("Workouts", frame, {}, {})])


@pytest.fixture
def book(tmp_path: Path) -> Path:
    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    mine = sheet_parts(book)["My Analysis"]
    add_pivot(book, mine, 'name="Workouts"', n=1)  # made from inside the table
    add_pivot(book, mine, 'ref="A1:C3" sheet="Workouts"', n=2)  # a range on our sheet
    add_pivot(book, mine, 'ref="A1:B2" sheet="My Analysis"', n=3)  # the member's own cells
    return book


def test_pivots_fed_by_our_table_rebuild_on_opening_and_nothing_else_of_theirs_changes(book: Path):
    before = read_parts(book)
    writer.write_tables(book, content(5))
    after = read_parts(book)

    for n in (1, 2):  # the mark is the only change, and the range of the whole old table grows with it
        cache = f"xl/pivotCache/pivotCacheDefinition{n}.xml"
        assert re.match(rb"<pivotCacheDefinition [^>]*refreshOnLoad=\"1\"", after[cache]), cache
        grown = after[cache].replace(MARK, b"", 1).replace(b'ref="A1:C6"', b'ref="A1:C3"')
        assert grown == before[cache]
    assert b'<worksheetSource ref="A1:C6" sheet="Workouts"/>' in after["xl/pivotCache/pivotCacheDefinition2.xml"]
    theirs = [
        name
        for name in before
        if "pivot" in name.lower() and "pivotCacheDefinition1" not in name and "pivotCacheDefinition2" not in name
    ]
    assert "xl/pivotCache/pivotCacheDefinition3.xml" in theirs and len(theirs) == 7  # 3 tables, 1 cache, their rels
    assert all(after[name] == before[name] for name in theirs)
    assert_valid(book)

    marked = read_parts(book)
    writer.write_tables(book, content(8))  # the next refresh: marked once; the whole table's range grows again
    again = read_parts(book)
    assert again["xl/pivotCache/pivotCacheDefinition2.xml"] == marked[
        "xl/pivotCache/pivotCacheDefinition2.xml"
    ].replace(b'ref="A1:C6"', b'ref="A1:C9"')
    assert all(again[name] == marked[name] for name in marked if "pivot" in name.lower() and "Definition2" not in name)


@pytest.mark.parametrize(
    ("ref", "old", "new", "expected"),
    [
        ("A1:R251", "A1:S251", "A1:S259", "A1:R259"),  # the whole table (LibreOffice's pivot): its rows grow
        ("$A$1:$C$3", "A1:C3", "A1:D2", "A1:C2"),  # --full removed a workout: no blank row counted
        ("A1:C2", "A1:C3", "A1:C9", None),  # rows the member picked
        ("B1:C3", "A1:C3", "A1:C9", None),  # not from the table's first cell
        ("A1:C9", "A1:C3", "A1:C9", None),  # already right
        ("Workouts", "A1:C3", "A1:C9", None),
    ],
)
def test_a_range_that_was_the_whole_table_follows_it(ref: str, old: str, new: str, expected: str | None):
    from pelotonxl.xlsx.pivot_caches import grown_range

    assert grown_range(ref, old, new) == expected


def test_a_mark_the_member_set_is_left_as_it_is(book: Path):
    def cache(path: Path) -> bytes:
        return read_parts(path)["xl/pivotCache/pivotCacheDefinition1.xml"]

    edit_zip(
        book,
        lambda parts: parts.update(
            {
                "xl/pivotCache/pivotCacheDefinition1.xml": cache(book).replace(
                    b' refreshedBy="Member"', b' refreshOnLoad="true" refreshedBy="Member"'
                )
            }
        ),
    )
    before = cache(book)
    writer.write_tables(book, content(3))
    assert cache(book) == before


@pytest.mark.libreoffice
def test_libreoffice_opens_the_refreshed_workbook_with_the_members_pivot(book: Path, tmp_path: Path):
    writer.write_tables(book, content(5))
    ods = libreoffice.convert(book, "ods", tmp_path / "out")
    with zipfile.ZipFile(ods) as zf:
        sheets = zf.read("content.xml").decode()
    pilots = re.findall(r'<table:data-pilot-table table:name="([^"]+)"[^>]*target-range-address="([^"]+)"', sheets)
    assert [(name, where.split(":")[0]) for name, where in pilots] == [
        (f"PivotTable{n}", f"&apos;My Analysis&apos;.{column}3") for n, column in ((1, "A"), (2, "C"), (3, "E"))
    ]


@pytest.mark.libreoffice
def test_a_pivot_libreoffice_saved_on_the_table_range_counts_every_workout_after_a_refresh(tmp_path: Path):
    """Case 2 of issue 20: a pivot on a range of our sheet (as LibreOffice keeps every pivot: by range)
    counts the new workouts once the refresh grew its range; LibreOffice rebuilds it on opening."""
    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    writer.write_tables(book, content(10))
    add_pivot(book, sheet_parts(book)["My Analysis"], 'ref="A1:B11" sheet="Workouts"', n=1)

    def count_workout_ids(parts: dict[str, bytes]) -> None:
        pivot = parts["xl/pivotTables/pivotTable1.xml"].decode()
        parts["xl/pivotTables/pivotTable1.xml"] = pivot.replace(
            '<pivotField showAll="0"/></pivotFields>',
            '<pivotField dataField="1" showAll="0"/></pivotFields><dataFields count="1">'
            '<dataField name="Count of Workout ID" fld="0" subtotal="count"/></dataFields>',
        ).encode()

    edit_zip(book, count_workout_ids)
    saved = libreoffice.convert(book, "xlsm:Calc MS Excel 2007 VBA XML", tmp_path / "lo")
    writer.write_tables(saved, content(18))
    shown = libreoffice.sheets_as_shown(saved, tmp_path / "shown")["My Analysis"].read_text().splitlines()
    assert shown[shown.index("Count of Workout ID,") + 1] == "18,"


def test_a_pivot_on_a_renamed_sheet_whose_name_the_xml_escapes_is_grown_and_marked(tmp_path: Path):
    """Workouts renamed "Rides & Runs": the cache says sheet="Rides &amp; Runs", which is still our sheet."""
    from openpyxl import load_workbook

    book = make_workbook(tmp_path / "PelotonWorkbook.xlsm")
    writer.write_tables(book, content(10))
    wb = load_workbook(book, keep_vba=True)
    wb["Workouts"].title = "Rides & Runs"
    wb.save(book)
    add_pivot(book, sheet_parts(book)["My Analysis"], 'ref="A1:B11" sheet="Rides &amp; Runs"', n=1)
    writer.write_tables(book, content(18))
    cache = read_parts(book)["xl/pivotCache/pivotCacheDefinition1.xml"]
    assert b'<worksheetSource ref="A1:B19" sheet="Rides &amp; Runs"/>' in cache
    assert MARK in cache
