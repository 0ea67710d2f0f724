"""The test wrappers of xlwings' own classes refuse what real xlwings 0.37.8 would refuse
(tests/support/xlwings_autospec.py)."""

from __future__ import annotations

import pytest
import xlwings as xw
import xlwings.main as xw_main
from support.xlwings_autospec import real_api, state_of
from support.xlwings_standin import Book


@pytest.fixture
def book():
    state = Book()
    sheet = state.sheets.add("Workouts")
    sheet.fill("A1", [["Workout ID", "Output"], ["a", 1.0]])
    sheet.tables.add(source=sheet.range("A1:B2"), name="Workouts")
    return state


def test_wrappers_are_instances_of_the_xlwings_classes(book):
    xl = real_api(book)
    sheet = xl.sheets["Workouts"]
    assert isinstance(xl, xw.Book) and isinstance(sheet, xw.Sheet)
    assert isinstance(sheet.range("A1"), xw.Range) and isinstance(sheet.tables[0], xw_main.Table)
    assert state_of(sheet) is book.sheets["Workouts"]


def test_an_attribute_xlwings_lacks_fails_to_read_and_to_write(book):
    cell = real_api(book).sheets["Workouts"].range("A1")
    with pytest.raises(AttributeError, match="xlwings Range has no attribute 'last_row'"):
        _ = cell.last_row  # the stand-in has one; xlwings does not
    with pytest.raises(AttributeError):
        cell.colour = "red"


def test_a_read_only_property_refuses_a_write(book):
    xl_table = real_api(book).sheets["Workouts"].tables["Workouts"]
    with pytest.raises(AttributeError, match="xlwings Table.range is read-only"):
        xl_table.range = real_api(book).sheets["Workouts"].range("A1:B3")
    with pytest.raises(AttributeError, match="xlwings Range.shape is read-only"):
        xl_table.range.shape = (3, 2)
    xl_table.name = "Rides"  # writable in xlwings: reaches the state
    assert book.sheets["Workouts"].tables["Rides"]


def test_arguments_are_bound_to_the_real_signature(book):
    xl = real_api(book)
    with pytest.raises(TypeError, match=r"xlwings Tables.add.*unexpected keyword argument 'style'"):
        xl.sheets[0].tables.add(source=xl.sheets[0].range("D1:E2"), name="T", style="TableStyleLight9")
    with pytest.raises(TypeError, match="xlwings App.alert"):
        xl.app.alert()  # the prompt is required
    with pytest.raises(TypeError, match="xlwings Chart.set_source_data"):
        xl.sheets[0].charts.add().set_source_data(xl.sheets[0].range("A1"), "columns", "extra")


def test_a_member_the_stand_in_does_not_model_says_so(book):
    with pytest.raises(NotImplementedError, match="xlwings Sheet.freeze_panes is not modelled"):
        _ = real_api(book).sheets[0].freeze_panes
    with pytest.raises(NotImplementedError, match=r"stand-in's cells is its own state, not xlwings' Sheet\.cells"):
        _ = real_api(book).sheets[0].cells


def test_collections_behave_like_xlwings(book):
    xl = real_api(book)
    assert [s.name for s in xl.sheets] == ["Workouts"] and len(xl.sheets) == 1
    assert xl.sheets[-1] == xl.sheets["Workouts"]  # xlwings' Sheet compares by book and name
    assert xl.sheets[0].range("A1") == xl.sheets[0].range("A1") != xl.sheets[0].range("B1")
    chart = xl.sheets[0].charts.add()
    assert chart != xl.sheets[0].charts[0]  # xlwings' Chart has no __eq__: identity
    assert "PelotonWorkoutCount" not in xl.names
