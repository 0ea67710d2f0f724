"""The `xlwings_udfs` VBA module: one wrapper per @xw.func in peloton_xl.py.

What xlwings' "Import Functions" button writes on Windows, generated here on any system with
xlwings' own (internal, hence pinned) generator, plus a line per call that turns "#N/A why" text
into a real Excel error value. Used by build.py; not needed at run time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelotonxl.errors import WorkbookError
from pelotonxl.file_names import WORKBOOK_NAME

XLWINGS_VERSION = "0.37.8"  # the template's `xlwings` VBA module names this version's DLL

DEFAULT_UDF_MODULE = Path(__file__).resolve().parents[2] / "peloton_xl.py"
UDF_MODULE_NAME = "peloton_xl"
UDF_WRAPPER_NAME = "xlwings_udfs"


def xlwings_template() -> Path:
    """The standalone quickstart workbook of the pinned xlwings, or WorkbookError."""
    import xlwings

    if xlwings.__version__ != XLWINGS_VERSION:
        raise WorkbookError(
            f"xlwings {xlwings.__version__} is installed but the workbook is built with "
            f"{XLWINGS_VERSION}: pip install xlwings=={XLWINGS_VERSION}."
        )
    return Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


@contextlib.contextmanager
def _windows_udf_decorators() -> Iterator[None]:
    """Make xlwings' real (Windows-only) UDF decorators importable and active for a while.

    On Linux `xw.func` is inert; xlwings.udfs has the real one but imports pywin32 modules at
    import time, so stand-ins take their place. Everything is put back afterwards.
    """
    import xlwings

    stand_ins = {name: types.ModuleType(name) for name in ("pythoncom", "pywintypes", "win32com", "win32com.client")}
    stand_ins["pythoncom"].CoInitialize = lambda: None  # type: ignore[attr-defined]
    stand_ins["pywintypes"].com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
    stand_ins["win32com.client"].Dispatch = None  # type: ignore[attr-defined]
    touched = [*stand_ins, "xlwings.udfs"]
    saved_modules = {name: sys.modules.get(name) for name in touched}
    decorator_names = ("func", "arg", "ret", "sub", "script")
    saved_decorators = {name: getattr(xlwings, name, None) for name in decorator_names}
    try:
        sys.modules.update(stand_ins)
        sys.modules.pop("xlwings.udfs", None)
        from xlwings import udfs

        for name, real in (
            ("func", udfs.xlfunc),
            ("arg", udfs.xlarg),
            ("ret", udfs.xlret),
            ("sub", udfs.xlsub),
            ("script", udfs.xlsub),
        ):
            setattr(xlwings, name, real)
        yield
    finally:
        for name, value in saved_decorators.items():
            setattr(xlwings, name, value)
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _load_udf_module(path: Path, name: str) -> types.ModuleType:
    """Import a fresh copy of the UDF module from `path`, under its own name, then unregister it."""
    if not path.is_file():
        raise WorkbookError(f"{path} not found: the workbook's worksheet functions come from it.")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.path.insert(0, str(path.parent))
    sys.modules[name] = module  # dataclasses and typing look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise WorkbookError(
            f"Cannot import {path.name} to generate the worksheet functions: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        sys.path.remove(str(path.parent))
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
    return module


def generate_udf_wrapper(module_path: Path = DEFAULT_UDF_MODULE, module_name: str = UDF_MODULE_NAME) -> str:
    """The `xlwings_udfs` VBA module for every @xw.func in `module_path` (LF line ends).

    What xlwings' "Import Functions" button would put in the workbook on Windows, generated
    with xlwings' own (internal, hence pinned) generator.
    """
    xlwings_template()  # the version check
    with _windows_udf_decorators():
        from xlwings import udfs

        module = _load_udf_module(module_path, module_name)
        functions = sorted(name for name in dir(module) if hasattr(getattr(module, name), "__xlfunc__"))
        if not functions:
            raise WorkbookError(f"{module_path.name} has no @xw.func functions to put in the workbook.")
        body = io.StringIO()
        book = types.SimpleNamespace(Name=WORKBOOK_NAME)  # only .Name is read
        udfs.generate_vba_wrapper(module_name, module, body, book)
        help_texts = [function_help(getattr(module, name)) for name in functions]
    header = (
        f'Attribute VB_Name = "{UDF_WRAPPER_NAME}"\n'
        f"' Generated by pelotonxl.template.build from {module_path.name} with xlwings "
        f"{XLWINGS_VERSION}: do not edit.\n"
        "Option Explicit\n"
        '#Const App = "Microsoft Excel" \'the generated code tests App\n\n'
    )
    return header + _with_mac_branches(_with_error_values(body.getvalue())) + _help_registration(help_texts)


# ----------------------------------------------------------------------------- Mac

# Excel for Mac has no Python worksheet functions: there PELOTON_METRIC answers from the workbook's
# own Metrics table (PelotonTable.bas), the others give #N/A. Windows keeps calling Python.
MAC_FROM_TABLE = {"PELOTON_METRIC": "MetricFromTable"}
_FUNCTION_START = re.compile(r"^Function (?P<name>\w+)\((?P<args>[^)]*)\)\n", re.MULTILINE)


def _with_mac_branches(vba: str) -> str:
    def branch(match: re.Match) -> str:
        name, args = match.group("name"), match.group("args")
        if name in MAC_FROM_TABLE:
            answer, why = f"{MAC_FROM_TABLE[name]}({args})", "answer from this workbook's Metrics table"
        else:
            answer, why = "CVErr(2042)", "#N/A"
        return (
            match.group(0)
            + "    #If Mac Then ' Excel for Mac has no Python worksheet functions: "
            + why
            + "\n"
            + f"        {name} = {answer}\n"
            + "        Exit Function\n"
            + "    #End If\n"
        )

    return _FUNCTION_START.sub(branch, vba)


# ----------------------------------------------------------------------------- Function Wizard help


@dataclass(frozen=True)
class FunctionHelp:
    name: str
    category: str
    description: str
    arguments: tuple[str, ...]  # one per argument the member types (not xlwings' `caller`)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:255]  # MacroOptions takes at most 255 characters


def function_help(function: Any) -> FunctionHelp:  # a @xw.func: carries __xlfunc__
    """What the Function Wizard shows for a @xw.func: its docstring's first paragraph and each
    argument's doc, as xlwings' ImportPythonUDFs passes them to Application.MacroOptions."""
    info = function.__xlfunc__
    description = _one_line(str(info["ret"]["doc"]).strip().split("\n\n")[0])
    arguments = tuple(_one_line(arg["doc"]) for arg in info["args"] if arg["name"] != "caller")
    return FunctionHelp(info["name"], info["category"], description, arguments)


def _vba_text(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _help_registration(functions: list[FunctionHelp]) -> str:
    """Auto_Open registering each function's help with Application.MacroOptions: what xlwings'
    "Import Functions" does after writing the wrappers, here at every opening by a person, so no
    trust access to the VBA project is needed."""
    lines = [
        "",
        "' The Function Wizard's description and argument help of each function. Auto_Open runs",
        "' when a person opens the workbook with macros enabled (not when a program opens it).",
        "Sub Auto_Open()",
        "    RegisterPelotonFunctionHelp",
        "End Sub",
        "",
        "Public Sub RegisterPelotonFunctionHelp()",
        "    Dim wasSaved As Boolean, excel As Object, book As String",
        "    wasSaved = ThisWorkbook.Saved ' registering is no change the member should be asked to save",
        "    ' Late-bound: an Excel whose MacroOptions lacks ArgumentDescriptions fails this call when it runs,",
        "    ' not the compilation of the module (and so of every function in it).",
        "    Set excel = Application",
        "    ' Excel's quoted sheet-reference form: an apostrophe in the workbook's name is doubled",
        '    book = "\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!"',
        "    On Error Resume Next ' a protected workbook, an Excel without argument help: no help, no harm",
    ]
    for item in functions:
        lines += [
            f'    excel.MacroOptions Macro:=book & "{item.name}", _',
            f"        Description:={_vba_text(item.description)}, _",
        ]
        if item.arguments:
            lines += [
                f"        Category:={_vba_text(item.category)}, _",
                "        ArgumentDescriptions:=Array(" + ", ".join(map(_vba_text, item.arguments)) + ")",
            ]
        else:
            lines += [f"        Category:={_vba_text(item.category)}"]
    lines += ["    On Error GoTo 0", "    ThisWorkbook.Saved = wasSaved", "End Sub", ""]
    return "\n".join(lines)


# Python cannot hand Excel a real error value through xlwings, so a UDF answers "#N/A why" or
# "#VALUE! why" and this line, added after each call, turns that text into the error value itself.
_CALL_LINE = re.compile(r"^(?P<indent>[ \t]+)(?P<name>\w+) = XLPy\.CallUDF\(.*\)$", re.MULTILINE)
_ERROR_LINE = "{indent}If VarType({name}) = vbString Then {name} = ExcelErrorFromText({name})"
_ERROR_FUNCTION = """
' "#N/A why" -> #N/A, "#VALUE! why" -> #VALUE! (2042 and 2015 are Excel's xlErrNA and xlErrValue).
Private Function ExcelErrorFromText(ByVal text As String) As Variant
    If Left$(text, 5) = "#N/A " Then
        ExcelErrorFromText = CVErr(2042)
    ElseIf Left$(text, 8) = "#VALUE! " Then
        ExcelErrorFromText = CVErr(2015)
    Else
        ExcelErrorFromText = text
    End If
End Function
"""


def _with_error_values(vba: str) -> str:
    def add_check(match: re.Match) -> str:
        return match.group(0) + "\n" + _ERROR_LINE.format(**match.groupdict())

    return _CALL_LINE.sub(add_check, vba) + _ERROR_FUNCTION
