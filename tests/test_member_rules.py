"""The member's columns: the one set of rules both writers apply (pelotonxl.member.columns)."""

from __future__ import annotations

import pytest

from pelotonxl.errors import WorkbookError
from pelotonxl.member import columns as rules


def test_a_column_is_the_members_unless_this_refresh_or_the_last_one_wrote_it():
    ours = ["Workout ID", "Output"]
    assert not rules.is_members("output", ours, None)
    assert rules.is_members("My Notes", ours, None)
    assert not rules.is_members("Platform", ours, None)  # a column an older version wrote
    assert not rules.is_members("Avg Cadence (rpm)", ours, None)  # a metric no workout has any more
    assert not rules.is_members("Odd", ours, {"odd"})  # recorded by the last refresh
    assert rules.is_members("Platform", ours, {"workout id", "output"})  # the record says: not ours
    assert not rules.is_members("", ours, None)


def test_a_members_column_follows_the_nearest_column_that_stays():
    header = ["Workout ID", "Device", "Platform", "My Notes", "Output", "Mood"]
    members = [False, False, False, True, False, True]
    after = rules.anchors(header, members, ["Workout ID", "Device", "Output"])
    assert after == {"My Notes": "Device", "Mood": "Output"}
    assert rules.column_order(["Workout ID", "Device", "Output", "New"], after) == [
        "Workout ID",
        "Device",
        "My Notes",
        "Output",
        "Mood",
        "New",
    ]
    assert rules.column_order(["B"], {"first": None, "gone": "X"}) == ["first", "B", "gone"]


def test_only_a_typed_value_is_a_note_a_formula_is_not():
    assert rules.is_note("knee sore", False)
    assert rules.is_note(0, False)
    assert not rules.is_note("=B2*2", True)
    assert not rules.is_note(None, False) and not rules.is_note("", False)
    notes = [("w3", False), ("w2", True), ("w9", True), ("w9", False), ("w1", True)]
    assert rules.orphans({"w1", "w3"}, notes) == ["w2", "w9"]


def test_columns_typed_beside_a_table_are_adopted_up_to_the_first_blank_header():
    assert rules.adjoining_columns(3, {4: "My Notes", 5: "Mood", 7: "far away"}) == [(4, "My Notes"), (5, "Mood")]
    assert rules.adjoining_columns(3, {5: "after a gap"}) == []
    assert rules.adjoining_columns(3, {4: "   "}) == []


def test_the_covered_cells_refusal_names_eight_cells_and_marks_the_rest():
    error = rules.covered_error("Workouts", [f"B{r}" for r in range(2, 12)])
    assert isinstance(error, WorkbookError)
    assert str(error).startswith("Workouts!B2, B3, B4, B5, B6, B7, B8, B9 …: the refreshed table now reaches")
    assert str(rules.covered_error("", ["C3"])).startswith("The table sheet!C3: ")


@pytest.mark.parametrize("columns", [["Workout ID", 'Say "hi"', "Output"], []])
def test_the_record_of_our_columns_reads_back_what_was_written(columns):
    assert rules.recorded(rules.record_value(columns)) == {c.casefold() for c in columns}
    assert rules.recorded(None) is None
    assert rules.record_name("Power Curve") == "PelotonXL_Power_Curve_Columns"


def test_an_adopted_header_that_another_column_has_gets_a_number():
    taken = {"output", "output2"}
    assert rules.unique_header("Output", lambda n: n.casefold() in taken) == "Output3"
