"""Settings: flag > environment > Config > default, and whole-number settings refused up front,
named the way the member set them."""

from __future__ import annotations

import pytest

from pelotonxl.errors import ConfigError
from pelotonxl.settings import DEFAULT_WORKERS, MAX_EVERY_N, resolve


def test_each_setting_comes_from_the_first_place_that_sets_it():
    settings = resolve({"workers": None}, environ={"PELOTON_WORKERS": "6"}, config={"workers": "8", "every_n": "60"})
    assert (settings.workers, settings.every_n) == (6, 60)
    assert settings.sources["workers"] == "env" and settings.sources["every_n"] == "config"
    assert resolve({}, environ={}).workers == DEFAULT_WORKERS


@pytest.mark.parametrize("raw, expected", [("4", 4), (" 4 ", 4), ("4.0", 4), (4.0, 4), (4, 4)])
def test_a_whole_number_is_read_however_it_was_typed(raw, expected):
    assert resolve(environ={}, config={"workers": raw}).workers == expected


@pytest.mark.parametrize(
    "environ, config, words",
    [
        ({"PELOTON_WORKERS": "inf"}, {}, "PELOTON_WORKERS must be a whole number, not 'inf'"),
        ({"PELOTON_WORKERS": "nan"}, {}, "PELOTON_WORKERS must be a whole number"),
        ({"PELOTON_WORKERS": "1.5"}, {}, "PELOTON_WORKERS must be a whole number, not '1.5'"),
        ({"PELOTON_WORKERS": "1e400"}, {}, "PELOTON_WORKERS must be a whole number"),
        ({"PELOTON_WORKERS": "17"}, {}, "PELOTON_WORKERS must be 16 or fewer, not 17; 4 is kind to Peloton"),
        (
            {"PELOTON_EVERY_N": "99999999999999999999"},
            {},
            f"PELOTON_EVERY_N must be {MAX_EVERY_N} or fewer, not 99999999999999999999",
        ),
        ({"PELOTON_EVERY_N": "0"}, {}, "PELOTON_EVERY_N must be at least 1, not 0"),
        ({}, {"workers": "2.5"}, "Parallel requests (Config sheet) must be a whole number, not '2.5'"),
        ({}, {"every_n": True}, "Graph sampling (seconds) (Config sheet) must be a whole number"),
    ],
)
def test_a_bad_whole_number_is_refused_naming_where_it_was_set(environ, config, words):
    with pytest.raises(ConfigError) as caught:
        resolve(environ=environ, config=config)
    assert words in str(caught.value)


def test_a_flag_is_named_as_a_flag():
    with pytest.raises(ConfigError, match="--workers must be 16 or fewer"):
        resolve({"workers": 64}, environ={})
