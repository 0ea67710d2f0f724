"""The docs name what the code has: every module in docs/architecture.md, the parser's --help in the README."""

from __future__ import annotations

import re

from support import REPO

from pelotonxl.cli import build_parser

ARCHITECTURE = REPO / "docs" / "architecture.md"
README = REPO / "README.md"
HELP_BLOCK = re.compile(r"### Command line\n\n```text\n\$ python peloton_xl\.py --help\n(.*?)```\n", re.S)


def modules_named_in_architecture() -> set[str]:
    """The .py files the "Where things live" table names: a full path (`pelotonxl/cli.py`), or a name
    under the folder of the last bold folder row (`**`pelotonxl/xlsx/`**` then `writer.py`)."""
    table = ARCHITECTURE.read_text(encoding="utf-8").split("## Where things live", 1)[1].split("\n## ", 1)[0]
    folder, named = "", set()
    for row in re.findall(r"^\| ([^|]+) \|", table, re.M):
        folder_row = re.fullmatch(r"\*\*`(pelotonxl/[\w/]*)`\*\*", row.strip())
        if folder_row:
            folder = folder_row.group(1)
            continue
        for name in re.findall(r"`([\w./]+\.py)`", row):
            named.add(name if "/" in name or name == "peloton_xl.py" else folder + name)
    return named


def test_architecture_names_every_module_and_nothing_else():
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "pelotonxl").rglob("*.py") if p.name != "__init__.py"}
    modules.add("peloton_xl.py")
    named = modules_named_in_architecture()
    missing, gone = sorted(modules - named), sorted(named - modules)
    assert not missing, f"docs/architecture.md ('Where things live') does not name {missing}: add a row for each"
    assert not gone, f"docs/architecture.md names modules that do not exist: {gone}: remove or rename them"


def test_the_readme_shows_the_parsers_help(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal's width
    block = HELP_BLOCK.search(README.read_text(encoding="utf-8"))
    assert block, "README.md lost its '### Command line' block starting with `$ python peloton_xl.py --help`"
    assert block.group(1) == build_parser().format_help(), (
        "README.md's --help block (under '### Command line') differs from the parser: replace it with the output of "
        "`COLUMNS=100 python peloton_xl.py --help`"
    )
