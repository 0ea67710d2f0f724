"""PelotonWorkbook.xlsm is a build product: reproducible to the byte, and shaped as Excel needs it.

What no test here can show is Excel itself compiling the VBA, showing the ribbon tab and calling
a UDF; that stays a manual check on Windows.
"""

from __future__ import annotations

import re
import shutil
import sys
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xlwings
from openpyxl import load_workbook
from pyopenvba import ExcelFile
from support import libreoffice

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import STATUS_NAMES
from pelotonxl.settings import FIELDS
from pelotonxl.template import build, new_workbook, udf_wrapper

REBUILD = "python -m pelotonxl.template.build"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

SMALL_UDF_MODULE = '''
import xlwings as xw


def refresh(full=False):
    """Not a UDF: must not get a wrapper."""


@xw.func
@xw.arg("workout", doc="A Workout ID.")
def PELOTON_METRIC(workout, metric):
    return 1.0


@xw.func
@xw.ret(expand="table")
def PELOTON_METRIC_NAMES():
    return [["avg_output"]]
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A fresh build from the repository's sources and peloton_xl.py."""
    return build.build_workbook(tmp_path_factory.mktemp("build") / "PelotonWorkbook.xlsm").output


@pytest.fixture(scope="module")
def modules(built) -> dict[str, str]:
    """VBA module name -> source, as olevba (an independent reader) extracts them."""
    with warnings.catch_warnings():  # oletools 0.60.2 uses pyparsing names pyparsing 3 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        from oletools.olevba import VBA_Parser
    parser = VBA_Parser(str(built))
    try:
        return {Path(name).stem: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def package(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def small_udf_module(tmp_path) -> Path:
    path = tmp_path / "udfs" / "peloton_xl.py"
    path.parent.mkdir()
    path.write_text(SMALL_UDF_MODULE, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- reproducible


def test_two_builds_are_byte_identical(tmp_path, small_udf_module):
    first = build.build_workbook(tmp_path / "one.xlsm", udf_module=small_udf_module).output
    second = build.build_workbook(tmp_path / "two.xlsm", udf_module=small_udf_module).output
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        entries = archive.infolist()
    assert {entry.date_time for entry in entries} == {build.ZIP_TIME}
    assert entries[0].filename == "[Content_Types].xml"
    assert not list(tmp_path.glob(".*building"))  # no staging file left behind


def test_committed_workbook_is_a_fresh_build(built):
    committed = build.DEFAULT_OUTPUT
    assert committed.is_file(), f"{committed.name} is missing: run `{REBUILD}` and commit it."
    assert built.read_bytes() == committed.read_bytes(), (
        f"{committed.name} is stale (its sources or peloton_xl.py changed): run `{REBUILD}` and commit the result."
    )


def test_packaged_template_is_the_committed_workbook():
    """What `pip install` ships and a refresh copies when a workbook is missing is the same file."""
    packaged = build.PACKAGED_TEMPLATE
    assert packaged.is_file(), f"{packaged.name} is missing from the package: run `{REBUILD}`."
    assert packaged.read_bytes() == build.DEFAULT_OUTPUT.read_bytes(), (
        f"{packaged.relative_to(build.REPO_ROOT)} differs from {build.DEFAULT_OUTPUT.name}: "
        f"run `{REBUILD}` and commit both."
    )
    assert new_workbook.template_bytes() == packaged.read_bytes()  # the one importlib.resources finds


def test_committed_udf_wrapper_copy_is_current():
    committed = build.SOURCES_DIR / "vba" / "xlwings_udfs.bas"
    assert committed.read_text(encoding="utf-8") == udf_wrapper.generate_udf_wrapper(), (
        f"{committed.relative_to(build.REPO_ROOT)} is stale: run `{REBUILD}` and commit it."
    )


def test_cli_builds_and_refreshes_the_reviewable_udf_copy(tmp_path, monkeypatch, capsys, built):
    sources = tmp_path / "workbook"
    shutil.copytree(build.SOURCES_DIR, sources)
    (sources / "vba" / "xlwings_udfs.bas").write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(build, "SOURCES_DIR", sources)
    output = tmp_path / "out" / "Book.xlsm"
    output.parent.mkdir()

    assert build.main(["--output", str(output)]) == 0

    assert output.read_bytes() == built.read_bytes()
    assert (sources / "vba" / "xlwings_udfs.bas").read_text(encoding="utf-8") == udf_wrapper.generate_udf_wrapper()
    out = capsys.readouterr().out
    assert str(output) in out and str(build.PACKAGED_TEMPLATE) not in out  # --output: that file only


def test_cli_reports_a_wrong_xlwings_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(xlwings, "__version__", "0.30.0")
    output = tmp_path / "Book.xlsm"
    assert build.main(["--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install xlwings==0.37.8" in err
    assert not output.exists()


# ----------------------------------------------------------------------------- UDF wrappers


def test_udf_wrapper_has_one_function_per_xw_func(small_udf_module):
    wrapper = udf_wrapper.generate_udf_wrapper(small_udf_module)
    assert wrapper.startswith('Attribute VB_Name = "xlwings_udfs"\n')
    assert re.findall(r"^Function (\w+)\(([^)]*)\)$", wrapper, re.M) == [
        ("PELOTON_METRIC", "workout, metric"),
        ("PELOTON_METRIC_NAMES", ""),
    ]
    assert (
        'PELOTON_METRIC = XLPy.CallUDF("peloton_xl", "PELOTON_METRIC", '
        "Array(workout, metric), ThisWorkbook, Application.Caller)"
    ) in wrapper
    assert "refresh" not in wrapper


def test_udf_generation_leaves_the_process_as_it_was(small_udf_module):
    inert_func = xlwings.func
    peloton_xl_before = sys.modules.get("peloton_xl")
    udf_wrapper.generate_udf_wrapper(small_udf_module)
    assert xlwings.func is inert_func
    assert not {"pythoncom", "pywintypes", "win32com", "win32com.client", "xlwings.udfs"} & set(sys.modules)
    assert sys.modules.get("peloton_xl") is peloton_xl_before


def test_udf_module_without_functions_is_refused(tmp_path):
    module = tmp_path / "peloton_xl.py"
    module.write_text("def refresh(full=False):\n    pass\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match="no @xw.func"):
        udf_wrapper.generate_udf_wrapper(module)


def test_missing_or_broken_udf_module_is_refused(tmp_path):
    with pytest.raises(WorkbookError, match="not found"):
        udf_wrapper.generate_udf_wrapper(tmp_path / "peloton_xl.py")
    broken = tmp_path / "peloton_xl.py"
    broken.write_text("import no_such_module_here\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match="Cannot import peloton_xl.py.*no_such_module_here"):
        udf_wrapper.generate_udf_wrapper(broken)


def test_wrong_xlwings_version_is_refused(monkeypatch):
    monkeypatch.setattr(xlwings, "__version__", "0.30.0")
    with pytest.raises(WorkbookError, match=r"xlwings 0\.30\.0 is installed.*xlwings==0\.37\.8"):
        udf_wrapper.xlwings_template()


# ----------------------------------------------------------------------------- VBA


def test_vba_modules(modules):
    assert {"Peloton", "xlwings", "xlwings_udfs", "Dictionary", "ThisWorkbook"} <= set(modules)
    assert "Module1" not in modules  # the template's sample macro is gone
    for name, source in modules.items():  # event code stays out of document modules
        if name in {"ThisWorkbook", "Sheet1", "Sheet2"}:
            assert not [line for line in source.splitlines() if not line.startswith("Attribute ")]


def test_template_modules_are_untouched(built):
    with ExcelFile(udf_wrapper.xlwings_template()) as template, ExcelFile(built) as book:
        for name in ("xlwings", "Dictionary"):
            assert book.get_module(name) == template.get_module(name)
        assert [ref.name for ref in book.references()] == ["MSForms", "Office"]  # IRibbonControl
        assert book.validate() == []


def test_peloton_module_runs_python(modules):
    peloton = modules["Peloton"]
    assert 'RunPython "import peloton_xl; peloton_xl.refresh(parts=""" & PARTS & """)"' in peloton
    assert 'RunPython "import peloton_xl; peloton_xl.refresh(full=True, parts=""" & PARTS & """)"' in peloton
    assert peloton == build.parts_source((build.SOURCES_DIR / "vba" / "Peloton.bas").read_text(encoding="utf-8"))


def test_every_ribbon_button_has_a_callback_and_a_twin(modules, package):
    ui = ElementTree.fromstring(package[build.CUSTOMUI_PART])
    actions = [node.get("onAction") for node in ui.iter() if node.get("onAction")]
    labels = [node.get("label") for node in ui.iter(f"{{{CUSTOMUI_NS}}}button")]
    assert ui.find(f".//{{{CUSTOMUI_NS}}}tab").get("label") == "Peloton"
    assert {"Refresh", "Full refresh"} <= set(labels)
    peloton = modules["Peloton"]
    for action in actions:
        callback = re.search(rf"^Public Sub {action}\(control As IRibbonControl\)\n(.*?)^End Sub", peloton, re.M | re.S)
        assert callback, f"no ribbon callback for onAction {action!r}"
        twin = action.removesuffix("_OnAction")
        assert twin != action and re.search(rf"^Public Sub {twin}\(\)$", peloton, re.M)
        assert callback.group(1).strip() == twin


def test_udf_wrapper_in_the_workbook(modules):
    udfs = modules["xlwings_udfs"]
    assert udfs == (build.SOURCES_DIR / "vba" / "xlwings_udfs.bas").read_text(encoding="utf-8")
    # The third argument is xlwings' `caller` (the calling cell), filled in by xlwings itself.
    assert 'XLPy.CallUDF("peloton_xl", "PELOTON_METRIC", Array(workout, metric, Nothing)' in udfs


# ----------------------------------------------------------------------------- package


def test_ribbon_part_is_the_2006_form(package):
    rels = ElementTree.fromstring(package["_rels/.rels"])
    ribbon = [rel for rel in rels.iter(f"{{{RELS_NS}}}Relationship") if rel.get("Target") == build.CUSTOMUI_PART]
    assert [rel.get("Type") for rel in ribbon] == [
        "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
    ]
    assert ElementTree.fromstring(package[build.CUSTOMUI_PART]).tag == f"{{{CUSTOMUI_NS}}}customUI"
    assert "customUI/customUI14.xml" not in package


def test_content_types_are_macro_enabled(package):
    types = ElementTree.fromstring(package["[Content_Types].xml"])
    overrides = {node.get("PartName"): node.get("ContentType") for node in types.iter(f"{{{TYPES_NS}}}Override")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert f"/{build.CUSTOMUI_PART}" in overrides
    assert "xl/vbaProject.bin" in package


def test_document_properties_are_fixed(package):
    core = package["docProps/core.xml"].decode()
    assert core.count("2025-01-01T00:00:00Z") == 2


# ----------------------------------------------------------------------------- sheets


@pytest.fixture(scope="module")
def book(built):
    return load_workbook(built, keep_vba=True)


def test_sheet_order_and_active_sheet(book):
    assert book.sheetnames == ["Dashboard", "Config", "Workouts", "Metrics", "Dashboard Data", "xlwings.conf"]
    assert book.active.title == "Dashboard"
    assert [bool(ws.sheet_view.tabSelected) for ws in book.worksheets] == [True, False, False, False, False, False]
    # The reused template sheets keep the code names of their VBA document modules.
    assert book["Config"].sheet_properties.codeName == "Sheet1"
    assert book["xlwings.conf"].sheet_properties.codeName == "Sheet2"


def test_config_sheet_follows_the_settings_table(book):
    ws = book["Config"]
    rows = {ws.cell(row, 1).value: row for row in range(1, ws.max_row + 1)}
    assert ws["A1"].font.bold
    assert ws["A2"].value.startswith("Fill in your email, then Peloton → Refresh. Leave the password empty")
    for field in FIELDS:
        row = rows[field.label]
        value = ws.cell(row, 2).value
        if field.secret or field.default == "":
            assert value is None, f"{field.label} must start blank"
        else:
            assert value == field.default
        assert ws.cell(row, 3).value == field.help
        assert ws.cell(row, 3).alignment.wrap_text


def test_config_validation(book):
    ws = book["Config"]
    rows = {ws.cell(row, 1).value: row for row in range(1, ws.max_row + 1)}
    rules = {str(rule.sqref): (rule.type, rule.formula1, rule.formula2) for rule in ws.data_validations.dataValidation}
    labels = {field.name: field.label for field in FIELDS}
    assert rules == {
        f"B{rows[labels['every_n']]}": ("whole", "1", "3600"),
        f"B{rows[labels['workers']]}": ("whole", "1", "16"),
        f"B{rows[labels['signin_method']]}": ("list", '"auto,app,website,token"', None),
    }


def test_status_cells_are_defined_names(book):
    ws = book["Config"]
    for defined_name, label in STATUS_NAMES.values():
        ((sheet, ref),) = book.defined_names[defined_name].destinations
        assert sheet == "Config"
        row = int(ref.split("$")[-1])
        assert ref == f"$B${row}" and ws.cell(row, 1).value == label


@pytest.mark.parametrize("name", ["Workouts", "Metrics"])
def test_table_sheets(book, name):
    ws = book[name]
    table = ws.tables[name]
    assert table.ref.startswith("A1:") and table.ref.endswith("2")  # header and one empty row
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    assert table.tableStyleInfo.showRowStripes
    assert ws["A1"].value == "Workout ID" and ws["A2"].value is None
    assert ws.freeze_panes == "A2"


def test_xlwings_conf_sheet(book):
    ws = book["xlwings.conf"]
    settings = {}
    for row in range(1, ws.max_row + 1):  # xlwings reads from A1 down to the first empty cell
        key = ws.cell(row, 1).value
        if key is None:
            break
        settings[key] = ws.cell(row, 2).value
    # Only what must be set: a key on the sheet, even an empty one, overrides the member's own xlwings settings.
    assert settings == {"UDF Modules": "peloton_xl"}
    first_note = next(row for row in range(2, ws.max_row + 1) if ws.cell(row, 1).value is not None)
    assert first_note >= 6  # room above the gap for Interpreter_Win, Interpreter_Mac and PYTHONPATH
    notes = " ".join(str(ws.cell(row, 1).value) for row in range(first_note, ws.max_row + 1))
    assert "virtual environment" in notes and "0.37.8" in notes
    assert "--setup-excel" in notes and "even with an empty value, overrides" in notes
    assert "Without Interpreter_Mac: xlwings runs a command named python, which current macOS does not have" in notes
    assert "use the python on your PATH" not in notes  # never true on a current Mac


# ----------------------------------------------------------------------------- LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_renders_it(tmp_path, built):
    pdf = libreoffice.convert(built, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


@pytest.mark.libreoffice
def test_libreoffice_reads_the_vba_modules(tmp_path, built):
    ods = libreoffice.convert(built, "ods", tmp_path)
    with zipfile.ZipFile(ods) as archive:
        basic = {
            Path(name).stem: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("Basic/VBAProject/")
        }
    assert {"Peloton", "xlwings", "xlwings_udfs", "Dictionary"} <= set(basic)
    assert "peloton_xl.refresh(full=True, parts=" in basic["Peloton"]
    assert "PELOTON_METRIC" in basic["xlwings_udfs"]


# ----------------------------------------------------------------------------- Mac branch and help


@pytest.fixture(scope="module")
def udf_functions():
    """peloton_xl's worksheet functions with xlwings' real (Windows) decorators: their __xlfunc__."""
    with udf_wrapper._windows_udf_decorators():
        module = udf_wrapper._load_udf_module(udf_wrapper.DEFAULT_UDF_MODULE, "peloton_xl_under_test")
    return {name: getattr(module, name) for name in dir(module) if hasattr(getattr(module, name), "__xlfunc__")}


def _vba_function(source: str, name: str) -> str:
    match = re.search(rf"^Function {name}\(.*?^End Function", source, re.M | re.S)
    assert match, name
    return match.group(0)


def test_the_array_functions_spill_natively(udf_functions):
    """No `expand`: xlwings would rewrite the spill as a legacy array and overwrite the cells around."""
    assert {
        "PELOTON_METRIC",
        "PELOTON_METRIC_NAMES",
        "PELOTON_WORKOUTS_ON",
        "PELOTON_SERIES",
        "PELOTON_FITNESS",
    } == set(udf_functions)
    for name, function in udf_functions.items():
        assert "expand" not in function.__xlfunc__["ret"]["options"], name


def test_every_function_has_a_mac_branch_and_metric_reads_the_table(modules, udf_functions):
    udfs = modules["xlwings_udfs"]
    for name in udf_functions:
        body = _vba_function(udfs, name)
        mac = re.search(r"^    #If Mac Then.*?\n(.*?)^    #End If\n", body, re.M | re.S)
        assert mac, f"{name} has no Mac branch"
        answer = mac.group(1)
        assert "XLPy" not in answer and "Exit Function" in answer
        expected = "MetricFromTable(workout, metric)" if name == "PELOTON_METRIC" else "CVErr(2042)"
        assert f"{name} = {expected}" in answer
        assert "XLPy.CallUDF" in body.split("#End If", 1)[1]  # Windows keeps calling Python
    table = modules["PelotonTable"]
    assert table == (build.SOURCES_DIR / "vba" / "PelotonTable.bas").read_text(encoding="utf-8")
    assert re.search(
        r"^Public Function MetricFromTable\(ByVal workout As Variant, ByVal metric As Variant\)", table, re.M
    )
    assert 'TABLE_NAME As String = "Metrics"' in table
    # The Metrics table on any sheet (a renamed or moved Metrics sheet), found by the table's name.
    assert "Set table = MetricsTable()" in table and "For Each candidate In sheet.ListObjects" in table
    assert "Worksheets(TABLE_NAME)" not in table
    assert "CVErr(ERR_NA)" in table and "CVErr(ERR_VALUE)" in table
    assert "ERR_NA As Long = 2042" in table and "ERR_VALUE As Long = 2015" in table  # as ExcelErrorFromText


def _procedures(source: str) -> dict[str, str]:
    """Each Function or Sub of a VBA module, by name: its text from declaration to End."""
    found = re.finditer(r"^(?:(?:Public|Private) )?(Function|Sub) (\w+)\(.*?^End \1", source, re.M | re.S)
    return {m.group(2): m.group(0) for m in found}


def test_the_mac_lookup_reads_the_metrics_columns_once_per_index_not_per_call(modules):
    """Issue 20, item 8: a recalculation of many PELOTON_METRIC cells on a Mac reads the Metrics table's
    columns once. Only BuildIndex reads a whole column; it runs only when the index is not current
    (IndexCurrent: the Timer window and the table's address, columns and first and last IDs) or when
    the sheet's row no longer holds what the index read (RowUnchanged) or lacks the Workout ID asked for;
    the lookup itself (WorkoutRow) reads the index, never the sheet."""
    procedures = _procedures(modules["PelotonTable"])
    readers = {name for name, text in procedures.items() if re.search(r"\bColumnValues\(", text)}
    assert readers == {"ColumnValues", "BuildIndex"}
    builders = {name for name, text in procedures.items() if re.search(r"\bBuildIndex ", text)}
    assert builders == {"IndexedWorkoutRow"}
    indexed = procedures["IndexedWorkoutRow"]
    assert "If Not IndexCurrent(key) Then" in indexed and "RowUnchanged(" in indexed
    assert not re.search(r"\b(table|Range|Cells|DataBodyRange)\b", procedures["WorkoutRow"])
    assert "IndexedWorkoutRow(table, idCol, startCol, kindCol, workout)" in procedures["MetricFromTable"]
    # What makes an index stale, each named: the window, the table's place and columns, its end rows.
    current, key = procedures["IndexCurrent"], procedures["TableKey"]
    assert "Timer" in current and "INDEX_SECONDS" in current and "key <> indexKey" in current
    assert all(part in key for part in ("table.Range.Address", "idCol", "startCol", "kindCol", "body.Rows.Count"))
    assert "Private idRows As Collection" in modules["PelotonTable"]  # no Scripting.Dictionary on a Mac


def test_the_mac_branch_knows_every_slug_whose_name_differs(modules):
    """The Metrics headers show names ("Strokes"); a slug that does not read as its name once both are
    keys must be listed in PelotonTable's SlugAsName, or a Mac would answer #N/A where Windows answers."""
    from pelotonxl.excel.functions import _key
    from pelotonxl.model import catalog

    names = {**catalog.METRIC_NAMES, **catalog.HEART_RATE_NAMES}
    names.update({alias: names[slug] for alias, slug in catalog.SLUG_ALIASES.items()})
    cases = dict(re.findall(r'Case "(\w+)": SlugAsName = "(\w+)"', modules["PelotonTable"]))
    differing = {_key(slug): _key(name) for slug, name in names.items() if _key(slug) != _key(name)}
    assert differing and cases == differing


def test_the_mac_branch_reads_latest_ride_run_row_and_walk_as_python_does(modules):
    """ "latest ride" on a Mac finds the newest row whose Discipline is Cycling, as functions.py picks the
    newest cycling workout: each word's Case names the display name of Python's discipline."""
    from pelotonxl.excel.functions import LATEST_KINDS, _key
    from pelotonxl.model.catalog import DISCIPLINE_NAMES

    cases = dict(re.findall(r'Case "(\w+)": DisciplineKey = "(\w+)"', modules["PelotonTable"]))
    assert cases == {word: _key(DISCIPLINE_NAMES[slug]) for word, slug in LATEST_KINDS.items()}
    assert 'Left$(text, 7) = "latest "' in modules["PelotonTable"]


def test_function_wizard_help_is_registered_for_every_function(modules, udf_functions):
    udfs = modules["xlwings_udfs"]
    every_module = "\n".join(modules.values())
    assert len(re.findall(r"^(?:Public |Private )?Sub Auto_Open\(\)", every_module, re.M)) == 1
    assert re.search(r"^Sub Auto_Open\(\)\n    RegisterPelotonFunctionHelp\nEnd Sub", udfs, re.M)
    registration = re.search(r"^Public Sub RegisterPelotonFunctionHelp\(\)\n(.*?)^End Sub", udfs, re.M | re.S).group(1)
    assert "ThisWorkbook.Saved = wasSaved" in registration  # no "save changes?" for registering
    # Late-bound, so an Excel without ArgumentDescriptions cannot fail to compile the functions' module.
    assert (
        "Dim wasSaved As Boolean, excel As Object, book As String" in registration
        and "Set excel = Application" in registration
    )
    assert "Application.MacroOptions" not in udfs
    calls = re.findall(
        r"excel\.MacroOptions Macro:=book & \"(\w+)\", _\n"
        r"        Description:=\"((?:[^\"]|\"\")*)\", _\n"
        r"        Category:=\"Peloton\"(?:, _\n        ArgumentDescriptions:=Array\((.*)\))?\n",
        registration,
    )
    assert sorted(name for name, _, _ in calls) == sorted(udf_functions)
    for name, description, arguments in calls:
        info = udf_functions[name].__xlfunc__
        assert description.replace('""', '"') == " ".join(info["ret"]["doc"].split())
        documented = [arg["doc"] for arg in info["args"] if arg["name"] != "caller"]
        assert re.findall(r'"((?:[^"]|"")*)"', arguments or "") == [d.replace('"', '""') for d in documented]
        assert all(not d.startswith("Positional argument") for d in documented), name  # each one written
    assert "PELOTON_METRIC" in udf_functions and udf_functions["PELOTON_METRIC"].__xlfunc__["category"] == "Peloton"


def _vba_string_expression(expression: str, workbook_name: str) -> str:
    """Evaluate a VBA expression of string literals, `&` and Replace(ThisWorkbook.Name, "a", "b")."""
    literal = r'"((?:[^"]|"")*)"'
    parts = re.findall(rf"{literal}|Replace\(ThisWorkbook\.Name, {literal}, {literal}\)", expression)
    assert re.fullmatch(
        rf"(?:{literal}|Replace\(ThisWorkbook\.Name, {literal}, {literal}\))(?: & (?:{literal}|"
        rf"Replace\(ThisWorkbook\.Name, {literal}, {literal}\)))*",
        expression,
    ), expression
    text = ""
    for plain, old, new in parts:
        if old or new:
            text += workbook_name.replace(old.replace('""', '"'), new.replace('""', '"'))
        else:
            text += plain.replace('""', '"')
    return text


@pytest.mark.parametrize("name", ["PelotonWorkbook.xlsm", "Bob's Peloton.xlsm", "It's Jo's.xlsm"])
def test_function_wizard_help_names_a_workbook_with_an_apostrophe_as_excel_reads_it(modules, name):
    """Excel quotes a workbook name in a reference with apostrophes and doubles one inside it:
    'Bob''s Peloton.xlsm'!PELOTON_METRIC. Undoubled, MacroOptions fails and the help is skipped."""
    expression = re.search(r"^    book = (.*)$", modules["xlwings_udfs"], re.M).group(1)
    reference = _vba_string_expression(expression, name) + "PELOTON_METRIC"
    assert reference == "'" + name.replace("'", "''") + "'!PELOTON_METRIC"


def _vba_blocks_balance(source: str) -> list[str]:
    """Problems in the nesting of VBA blocks (a syntax check short of Excel's compiler): Function/Sub,
    block If (a line ending in Then), For, Select Case and #If, each closed in order."""
    opens = {
        "Function": "End Function",
        "Sub": "End Sub",
        "If": "End If",
        "For": "Next",
        "Select": "End Select",
        "#If": "#End If",
    }
    stack, problems = [], []
    joined = re.sub(r" _\n\s*", " ", source)  # a continued line is one statement
    for number, raw in enumerate(joined.splitlines(), start=1):
        line = re.sub(r"'.*$", "", re.sub(r'"(?:[^"]|"")*"', '""', raw)).strip()  # no strings, no comments
        words = re.sub(r"^(Public|Private)\s+", "", line)
        if re.match(r"^(Function|Sub)\b", words):
            stack.append(("Function" if words.startswith("Function") else "Sub", number))
        elif re.match(r"^#?If\b.*\bThen$", line):
            stack.append(("#If" if line.startswith("#") else "If", number))
        elif re.match(r"^(For|Select Case)\b", line):
            stack.append(("For" if line.startswith("For") else "Select", number))
        elif re.match(r"^(End (Function|Sub|If|Select)|#End If|Next)\b", line):
            closing = (
                "Next"
                if line.startswith("Next")
                else " ".join(line.split()[:2])
                if not line.startswith("#")
                else "#End If"
            )
            if not stack or opens[stack[-1][0]] != closing:
                problems.append(f"line {number}: {closing} closes {stack[-1] if stack else 'nothing'}")
            else:
                stack.pop()
    return problems + [f"{kind} opened on line {number} is never closed" for kind, number in stack]


@pytest.mark.parametrize("name", ["PelotonTable", "xlwings_udfs", "Peloton"])
def test_vba_blocks_are_closed_in_order(modules, name):
    assert _vba_blocks_balance(modules[name]) == []
    assert _vba_blocks_balance("Function F()\n    If x Then\n    End Function\n") != []  # the check bites
