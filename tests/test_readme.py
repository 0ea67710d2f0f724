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


QUICK_START = [  # one command sets up and runs the demo, one runs the checks
    "python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt"
    " && .venv/bin/python peloton_xl.py --demo",
    ".venv/bin/python tools/check.py",
]


def test_the_quick_start_is_two_commands_in_a_virtual_environment_and_ci_installs_the_same_file():
    """A virtual environment: Debian's and Ubuntu's system Python refuse `pip install` outside one. CI's
    throwaway machine installs the same requirements into its own Python and runs the same tests."""
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S).group(1).splitlines()
    assert block == QUICK_START
    ci = (REPO / ".ci" / "run").read_text()
    assert "python3 -m pip install" in ci and "-r requirements.txt" in ci
    assert "\npython3 tools/check.py" in ci  # the gates, then the tests
    assert ".venv/bin/python tools/check.py" in README and ".venv/bin/python -m pytest" in README


def test_pictures_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (REPO / path).is_file(), path
