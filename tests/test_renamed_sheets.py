"""A sheet the refresh draws is known by a hidden record, not by its name: a renamed Dashboard (or Ride, or
their data sheets) is refreshed in place, its charts plotting the renamed data sheet (issue 20, item 6)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import load_workbook
from support.workbook_samples import edit_zip, read_parts

LATER_NAMES = {"Dashboard": "My Dash", "Dashboard Data": "Dash's numbers", "Ride": "Last ride"}


def xml_escape(text: str) -> str:
    return escape(text, {"'": "&apos;"})


def rename_as_excel_does(path: Path, renames: dict[str, str]) -> None:
    """Rename sheets as Excel and LibreOffice do: the sheet's name, and every reference to it in the
    defined names and the charts' formulas."""

    def quoted(name: str) -> str:
        return "'" + name.replace("'", "''") + "'"

    def edit(parts: dict[str, bytes]) -> None:
        for part, data in parts.items():
            if part == "xl/workbook.xml" or part.startswith("xl/charts/chart"):
                text = data.decode()
                for old, new in renames.items():
                    text = re.sub(
                        rf'(<sheet\b[^>]*\bname="){re.escape(xml_escape(old))}"', rf'\g<1>{xml_escape(new)}"', text
                    )
                    text = re.sub(
                        rf"(?:'{re.escape(old)}'|\b{re.escape(old)}\b)!", quoted(new).replace("\\", r"\\") + "!", text
                    )
                parts[part] = text.encode()

    edit_zip(path, edit)


def test_a_renamed_dashboard_is_refreshed_in_place(server, account, workbook, home, run_cli):
    assert run_cli(server, workbook, home).returncode == 0
    rename_as_excel_does(workbook, LATER_NAMES)
    account.add_workouts(3)
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr

    book = load_workbook(workbook, keep_vba=True)
    assert "Dashboard" not in book.sheetnames and "Ride" not in book.sheetnames
    assert book.sheetnames[0] == "My Dash"
    dash = book["My Dash"]
    subtitle = dash["B2"].value
    assert f"{len(account.workouts)} workouts" in subtitle
    charts = [data.decode() for part, data in read_parts(workbook).items() if part.startswith("xl/charts/chart")]
    formulas = [f for chart in charts for f in re.findall(r"<(?:c:)?f>([^<]+)</(?:c:)?f>", chart)]
    assert formulas and all(
        f.startswith(("'Dash''s numbers'!", "'Ride Data'!", "'PowerCurve'!", "PowerCurve!")) for f in formulas
    ), sorted(set(f.split("!")[0] for f in formulas))
    assert book["Dash's numbers"].max_row > 1


def test_through_excel_a_renamed_dashboard_is_refreshed_in_place(server, account, home):
    from support.live_book import make_book
    from support.xlwings_autospec import real_api

    from pelotonxl import ribbon

    book = make_book(server, home)
    ribbon.refresh_book(real_api(book), environ={})
    for old, new in LATER_NAMES.items():  # as Excel renames: the sheet, and the names that refer to it
        book.sheets[old].name = new
        record = f"PelotonXL_{old.replace(' ', '_')}_Sheet"
        book.names.add(record, "=" + "'" + new.replace("'", "''") + "'!$A$1")
    account.add_workouts(3)
    ribbon.refresh_book(real_api(book), environ={})

    assert book.app.alerts == []
    names = [s.name for s in book.sheets]
    assert "Dashboard" not in names and "Ride" not in names and "Dashboard Data" not in names
    assert f"{len(account.workouts)} workouts" in book.sheets["My Dash"].cells[(2, 2)]
    sources = [c.source for c in book.sheets["My Dash"].charts]
    assert sources and all(s.sheet.name == "Dash's numbers" for s in sources)
