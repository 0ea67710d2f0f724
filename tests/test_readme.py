"""The README is the front door: it must match the code it describes."""

from __future__ import annotations

import re

from support import REPO

from pelotonxl.cli import build_parser
from pelotonxl.settings import FIELDS

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_label_and_variable():
    for field in FIELDS:
        assert field.label in README, field.label
        assert f"`{field.env}`" in README, field.env


def test_every_cli_option_is_documented():
    for action in build_parser()._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        for option in long:
            assert option in README, option


def test_the_two_setup_commands_are_the_ones_ci_runs():
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S).group(1).splitlines()
    assert block == [
        "python3 -m pip install -r requirements.txt && python3 peloton_xl.py --demo",
        "python3 tools/check.py",
    ]
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 -m pip install" in ci and "-r requirements.txt" in ci
    assert "\npython3 tools/check.py" in ci


def test_pictures_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (REPO / path).is_file(), path
