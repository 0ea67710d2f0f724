"""`--upgrade-workbook PATH` and `--setup-excel --workbook MINE.xlsm`: this release's Excel parts (VBA modules,
ribbon, xlwings.conf) brought into a member's workbook, everything else byte for byte; refused untouched
when that cannot be done safely. The VBA is read back with oletools and checked against MS-OVBA."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings
from support import REPO, one_line_error
from support.ooxml_check import assert_valid, cross_part_errors, schema_errors
from support.ovba_check import read_project

from pelotonxl import cli
from pelotonxl.settings import FIELDS
from pelotonxl.template import parts
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx.config_sheet import read_config

RELEASES = REPO / "tests" / "fixtures" / "releases"
REFRESHED_0_1_0 = RELEASES / "Member-0.1.0-refreshed.xlsm"
XLWINGS_DIR = Path(xlwings.__file__).parent
# Saved by Excel (docProps/app.xml: Microsoft Excel 16.0300), shipped inside packages we depend on:
EXCEL_SAVED_XLSM = XLWINGS_DIR / "quickstart.xlsm"  # its own Module1 and a reference to the xlwings add-in


def _excel_saved_xlsx() -> Path:
    import pyopenvba

    return Path(pyopenvba.__file__).parent / "_templates" / "blank_files" / "blank_workbook.xlsx"


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _template_modules() -> dict[str, str]:
    return read_project(REPO / "pelotonxl" / "template" / "PelotonWorkbook.xlsm").sources


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args), workbook_dir=REPO)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def member_book(tmp_path) -> Path:
    path = tmp_path / "Member.xlsm"
    shutil.copy(REFRESHED_0_1_0, path)
    return path


def test_upgrade_brings_this_releases_parts_and_keeps_everything_of_the_members(member_book, capsys):
    before = _entries(member_book)
    old_project = read_project(member_book)
    code, out, err = _run(capsys, "--upgrade-workbook", str(member_book))
    assert code == 0, err
    after = _entries(member_book)
    with xp.open_package(member_book) as pkg:
        conf_part = xp.find_sheet(pkg, "xlwings.conf").part
        config_part = xp.find_sheet(pkg, "Config").part
    changed = {name for name in before if before[name] != after.get(name)}
    assert set(after) == set(before)  # no part lost, none added
    # The VBA, the ribbon, the xlwings.conf keys, and the Config rows of the settings 0.1.0 did not have.
    assert changed - {"customUI/customUI.xml"} == {"xl/vbaProject.bin", conf_part, config_part}
    assert after["customUI/customUI.xml"] == _entries(REPO / "PelotonWorkbook.xlsm")["customUI/customUI.xml"]
    new_settings = [f.label for f in FIELDS if f.label not in _config_labels(REFRESHED_0_1_0)]
    assert new_settings and f"The Config sheet gained {', '.join(new_settings)}, at its end." in out
    assert _config_labels(member_book)[-len(new_settings) :] == new_settings

    project = read_project(member_book)
    assert project.problems == []  # 0.1.0's stray dir bytes and zero cookies are gone too
    assert old_project.problems != []
    template = _template_modules()
    for name in parts.OUR_MODULES:
        assert project.sources[name] == template[name], name
    for name in ("ThisWorkbook", "Sheet1", "Sheet2"):  # the document modules are the member's
        assert project.sources[name] == old_project.sources[name]

    book = openpyxl.load_workbook(member_book, keep_vba=True)
    notes = [row[-1] for row in book["Workouts"].iter_rows(min_row=1, values_only=True)]
    assert notes[0] == "My Notes" and "legs heavy, PR anyway" in notes and "with Sam" in notes
    assert book["My Training"]["A1"].value == "Goals for 2027"
    assert any(name.startswith("xl/pivotTables/") for name in after)
    conf = {r[0]: r[1] for r in book["xlwings.conf"].iter_rows(max_row=5, values_only=True) if r[0]}
    assert conf == {"UDF Modules": "peloton_xl"}  # 0.1.0's empty keys dropped
    assert "Member.xlsm" in out and "Peloton" in out
    assert_valid(member_book)


def test_upgrading_again_changes_nothing_the_member_sees(member_book, capsys):
    assert _run(capsys, "--upgrade-workbook", str(member_book))[0] == 0
    first = read_project(member_book).sources
    assert _run(capsys, "--upgrade-workbook", str(member_book))[0] == 0
    assert read_project(member_book).sources == first


@pytest.mark.parametrize(
    ("make", "says"),
    [
        ("foreign", "has no Peloton parts to upgrade"),
        ("own_ribbon", "has a ribbon of its own"),
        ("signed", "is digitally signed"),
        ("open", "is open in Excel"),
        ("xlsx", "is not a macro-enabled workbook"),
    ],
)
def test_upgrade_refuses_untouched_what_it_cannot_upgrade_safely(member_book, tmp_path, capsys, make, says):
    path = member_book
    if make == "foreign":
        path = tmp_path / "quickstart.xlsm"
        shutil.copy(EXCEL_SAVED_XLSM, path)
    elif make == "own_ribbon":
        _rewrite(path, "customUI/customUI.xml", lambda xml: xml.replace(b'id="pelotonTab"', b'id="myTab"'))
    elif make == "signed":
        _add_signature(path)
    elif make == "open":
        path.with_name("~$" + path.name).write_text("")
    elif make == "xlsx":
        path = tmp_path / "Book.xlsx"
        shutil.copy(_excel_saved_xlsx(), path)
    before = path.read_bytes()
    code, out, err = _run(capsys, "--upgrade-workbook", str(path))
    assert code == 1 and says in one_line_error_of(code, out, err)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".~peloton")) == []


def test_setup_adds_our_parts_to_an_excel_saved_workbook_keeping_its_own(tmp_path, capsys, on_windows):
    """xlwings' quickstart.xlsm, saved by Excel 16: its Module1, its references and sheets stay."""
    path = tmp_path / "Mine.xlsm"
    shutil.copy(EXCEL_SAVED_XLSM, path)
    before, old = _entries(path), read_project(path)
    code, out, err = _run(capsys, "--setup-excel", "--workbook", str(path))
    assert code == 0, err
    after = _entries(path)
    project = read_project(path)
    assert project.problems == []
    assert [m.name for m in project.modules][: len(old.modules)] == [m.name for m in old.modules]
    assert project.sources["Module1"] == old.sources["Module1"]
    template = _template_modules()
    for name in parts.OUR_MODULES:
        assert project.sources[name] == template[name]
    assert after["customUI/customUI.xml"] == _entries(REPO / "PelotonWorkbook.xlsm")["customUI/customUI.xml"]
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/styles.xml", "xl/sharedStrings.xml"):
        assert after[name] == before[name], name
    book = openpyxl.load_workbook(path, keep_vba=True)
    conf = book["xlwings.conf"]
    assert conf["A1"].value == "UDF Modules" and conf["B1"].value == "peloton_xl"
    assert book.sheetnames == ["Sheet1", "_xlwings.conf", "Config", "xlwings.conf"]  # theirs first, as they were
    assert set(read_config(path)) == {f.name for f in FIELDS}  # every setting, by its label, empty
    assert "Added the Peloton tab" in out and "a Config sheet (type your Peloton email there)" in out
    _no_new_schema_errors(EXCEL_SAVED_XLSM, path)


def test_setup_turns_an_xlsx_into_an_xlsm_beside_it(tmp_path, capsys, on_windows):
    path = tmp_path / "Budget.xlsx"
    shutil.copy(_excel_saved_xlsx(), path)
    original = path.read_bytes()
    code, out, err = _run(capsys, "--setup-excel", "--workbook", str(path))
    assert code == 0, err
    assert path.read_bytes() == original  # the .xlsx stays as it was
    made = tmp_path / "Budget.xlsm"
    assert read_project(made).problems == []
    with zipfile.ZipFile(made) as package:
        types = package.read("[Content_Types].xml").decode()
    assert parts.CT_XLSM in types and parts.CT_XLSX not in types
    assert "Budget.xlsm" in out
    _no_new_schema_errors(path, made)


def _config_labels(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path, read_only=True)["Config"]
    return [str(row[0]) for row in sheet.iter_rows(max_col=1, values_only=True) if row[0] is not None]


def _no_new_schema_errors(before: Path, after: Path) -> None:
    """Excel 16's own workbook.xml fails the ECMA-376 check (an extension whose content the check sets
    aside): the parts we add and edit bring no error of their own."""
    assert schema_errors(after) == schema_errors(before)
    assert cross_part_errors(after) == []


def one_line_error_of(code: int, out: str, err: str) -> str:
    import subprocess

    return one_line_error(subprocess.CompletedProcess([], code, out, err))


def _rewrite(path: Path, part: str, edit) -> None:
    entries = _entries(path)
    entries[part] = edit(entries[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)


def _add_signature(path: Path) -> None:
    """A signature part beside vbaProject.bin, where Excel keeps one (its content is not checked)."""
    entries = _entries(path)
    entries["xl/vbaProjectSignature.bin"] = b"\0" * 16
    entries["xl/_rels/vbaProject.bin.rels"] = (
        f'<Relationships xmlns="{xp.PKG_REL_NS}"><Relationship Id="rId1" '
        'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProjectSignature" '
        'Target="vbaProjectSignature.bin"/></Relationships>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)


def test_a_setting_this_release_knows_gets_a_config_row_of_its_own(member_book, capsys):
    """The Config sheet's layout: a setting the member's Config lacks is added below everything else."""
    book = openpyxl.load_workbook(member_book, keep_vba=True)
    config = book["Config"]
    dropped = next(row for row in range(1, config.max_row + 1) if config.cell(row, 1).value == FIELDS[-1].label)
    config.cell(dropped, 1).value = None  # as if 0.1.0 had not had the last setting
    config.cell(dropped, 2).value = None
    last = config.max_row
    book.save(member_book)
    code, out, err = _run(capsys, "--upgrade-workbook", str(member_book))
    assert code == 0, err
    assert f"{FIELDS[-1].label}, at its end." in out
    config = openpyxl.load_workbook(member_book, keep_vba=True)["Config"]
    [row] = [r for r in range(1, config.max_row + 1) if config.cell(r, 1).value == FIELDS[-1].label]
    assert row > last and config.cell(row, 3).value == FIELDS[-1].help  # below everything that was there
    config.parent["Config"].cell(row, 2).value = "C:/peloton"
    config.parent.save(member_book)
    assert read_config(member_book)[FIELDS[-1].name] == "C:/peloton"  # read by its label where it stands


@pytest.mark.libreoffice
def test_libreoffice_reads_every_module_of_an_excel_saved_workbook_after_setup(tmp_path, capsys, on_windows):
    """Excel keeps compiled p-code in _VBA_PROJECT; beside our source-only modules that cache is stale, and
    LibreOffice then dropped the member's own Module1 and sheet modules. Setup writes the project without it."""
    from support import libreoffice

    path = tmp_path / "Mine.xlsm"
    shutil.copy(EXCEL_SAVED_XLSM, path)
    assert _run(capsys, "--setup-excel", "--workbook", str(path))[0] == 0
    ods = libreoffice.convert(path, "ods", tmp_path)
    with zipfile.ZipFile(ods) as archive:
        basic = {name.rsplit("/", 1)[1][:-4] for name in archive.namelist() if name.startswith("Basic/VBAProject/")}
    assert {"Module1", "Sheet1", "Sheet2", "ThisWorkbook", *parts.OUR_MODULES} <= basic
