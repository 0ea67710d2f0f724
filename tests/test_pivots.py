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

    for n in (1, 2):  # the mark is the only change
        cache = f"xl/pivotCache/pivotCacheDefinition{n}.xml"
        assert re.match(rb"<pivotCacheDefinition [^>]*refreshOnLoad=\"1\"", after[cache]), cache
        assert after[cache].replace(MARK, b"", 1) == before[cache]
    theirs = [
        name
        for name in before
        if "pivot" in name.lower() and "pivotCacheDefinition1" not in name and "pivotCacheDefinition2" not in name
    ]
    assert "xl/pivotCache/pivotCacheDefinition3.xml" in theirs and len(theirs) == 7  # 3 tables, 1 cache, their rels
    assert all(after[name] == before[name] for name in theirs)
    assert_valid(book)

    marked = read_parts(book)
    writer.write_tables(book, content(8))  # the next refresh: marked once
    assert all(read_parts(book)[name] == marked[name] for name in marked if "pivot" in name.lower())


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
