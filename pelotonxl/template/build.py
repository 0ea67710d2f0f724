"""Build PelotonWorkbook.xlsm from the text sources in workbook/, byte-for-byte reproducibly.

    python -m pelotonxl.template.build [--output PATH]

A developer tool: it writes the committed workbook at the top of the repository and its twin,
the template shipped in the package (pelotonxl/template/PelotonWorkbook.xlsm), which a refresh
copies when a workbook is missing. Steps: xlwings' standalone quickstart workbook (it carries the
`xlwings` VBA module, the `Dictionary` class and the Office reference IRibbonControl needs) ->
sheets laid out with openpyxl (sheet_layout.py) -> VBA modules written with pyOpenVBA (Peloton.bas,
PelotonTable.bas, and the UDF wrappers generated from peloton_xl.py by udf_wrapper.py) -> the empty Dashboard (its
sheets, charts and "no data yet" notes) written by the refresh's own Dashboard writer -> the
ribbon part added by zip editing -> the VBA project's dir and PROJECT streams tidied (vba_project.py)
-> every zip entry rewritten with fixed timestamps and a fixed order.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import WorkbookError
from pelotonxl.template.new_workbook import TEMPLATE_NAME
from pelotonxl.template.sheet_layout import lay_out_sheets
from pelotonxl.template.udf_wrapper import (
    DEFAULT_UDF_MODULE,
    UDF_WRAPPER_NAME,
    generate_udf_wrapper,
    xlwings_template,
)
from pelotonxl.template.vba_project import VBA_PART, tidy_project
from pelotonxl.xlsx.styles import StyleBook

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES_DIR = REPO_ROOT / "workbook"
DEFAULT_OUTPUT = REPO_ROOT / TEMPLATE_NAME
PACKAGED_TEMPLATE = Path(__file__).resolve().parent / TEMPLATE_NAME

CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

# Fixed so two builds are byte-identical: docProps times and every zip entry's time.
BUILD_TIME = datetime(2025, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuildResult:
    output: Path
    udf_wrapper: str  # text of the generated xlwings_udfs module (LF line ends)


def load_layout(sources: Path = SOURCES_DIR) -> dict[str, Any]:
    return json.loads((sources / "layout.json").read_text(encoding="utf-8"))


def add_dashboard(workbook: Path, destination: Path, layout: dict[str, Any]) -> None:
    """Write the Dashboard of an account with no workouts yet, as a refresh would."""
    from pelotonxl.model.dashboard import build_dashboard
    from pelotonxl.xlsx import dashboard_sheet
    from pelotonxl.xlsx import package as xlsx_parts

    board = build_dashboard(None, None, BUILD_TIME)
    board.name, board.data_sheet = layout["dashboard"]["sheet"], layout["dashboard"]["data_sheet"]
    with xlsx_parts.open_package(workbook) as pkg:
        styles_part = next(
            r.part for r in xlsx_parts.read_rels(pkg, xlsx_parts.workbook_part(pkg)) if r.type == xlsx_parts.REL_STYLES
        )
        styles = StyleBook(pkg.text(styles_part))
        dashboard_sheet.write_dashboard(pkg, styles, board)
        pkg.put(styles_part, styles.xml)
        with open(destination, "wb") as stream:
            pkg.write_zip(stream)


# ----------------------------------------------------------------------------- VBA


def parts_source(peloton_bas: str) -> str:
    """Peloton.bas with its PARTS constant filled in: this release and the xlwings its VBA is for."""
    from pelotonxl import __version__
    from pelotonxl.template.udf_wrapper import XLWINGS_VERSION

    return peloton_bas.replace('"@PARTS@"', f'"{__version__} {XLWINGS_VERSION}"')


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


TABLE_MODULE = "PelotonTable"  # PELOTON_METRIC from the Metrics table, for Excel for Mac


def write_vba(workbook: Path, destination: Path, peloton_source: str, udf_wrapper: str, table_source: str) -> None:
    """Replace the template's sample Module1 with Peloton; add the UDF wrappers and PelotonTable.

    The template's `xlwings` module and `Dictionary` class are left as they are.
    """
    from pyopenvba import ExcelFile

    with ExcelFile(workbook) as book:
        project = book.vba_project()
        project.rename_module("Module1", "Peloton")
        book.set_module("Peloton", _crlf(peloton_source))
        project.add_module(UDF_WRAPPER_NAME, _crlf(udf_wrapper))
        project.add_module(TABLE_MODULE, _crlf(table_source))
        book.save(destination)
    with ExcelFile(destination) as written:  # streams exist only once saved
        problems = written.validate()
    if problems:
        raise WorkbookError(f"The VBA project did not validate: {'; '.join(problems)}")


# ----------------------------------------------------------------------------- package


def _xml_bytes(root: ElementTree.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + ElementTree.tostring(root, encoding="utf-8")


def _with_customui_relationship(rels: bytes) -> bytes:
    ElementTree.register_namespace("", PACKAGE_RELS_NS)
    root = ElementTree.fromstring(rels)
    ids = {rel.get("Id") for rel in root}
    number = 1
    while f"rId{number}" in ids:
        number += 1
    ElementTree.SubElement(
        root, f"{{{PACKAGE_RELS_NS}}}Relationship", Id=f"rId{number}", Type=CUSTOMUI_REL_TYPE, Target=CUSTOMUI_PART
    )
    return _xml_bytes(root)


def _with_customui_content_type(content_types: bytes) -> bytes:
    ElementTree.register_namespace("", CONTENT_TYPES_NS)
    root = ElementTree.fromstring(content_types)
    ElementTree.SubElement(
        root, f"{{{CONTENT_TYPES_NS}}}Override", PartName=f"/{CUSTOMUI_PART}", ContentType="application/xml"
    )
    return _xml_bytes(root)


def _core_properties() -> bytes:
    from openpyxl.packaging.core import DocumentProperties
    from openpyxl.xml.functions import tostring

    props = DocumentProperties(
        creator="peloton_xl",
        lastModifiedBy="peloton_xl",
        title="Peloton workbook",
        created=BUILD_TIME,
        modified=BUILD_TIME,
    )
    return cast(bytes, tostring(props.to_tree()))  # openpyxl's tostring encodes to UTF-8 bytes


def _part_order(name: str) -> tuple[int, str]:
    # Content types and package relationships first, as Office writes them; the rest sorted.
    first = {"[Content_Types].xml": 0, "_rels/.rels": 1}
    return (first.get(name, 2), name)


def finish_package(workbook: Path, customui: bytes) -> bytes:
    """Add the ribbon part; every entry in a fixed order with fixed metadata."""
    with zipfile.ZipFile(workbook) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts[CUSTOMUI_PART] = customui
    parts[VBA_PART] = tidy_project(parts[VBA_PART])  # as Office writes it: see vba_project.py
    parts["_rels/.rels"] = _with_customui_relationship(parts["_rels/.rels"])
    parts["[Content_Types].xml"] = _with_customui_content_type(parts["[Content_Types].xml"])
    parts["docProps/core.xml"] = _core_properties()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in sorted(parts, key=_part_order):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 0
            entry.external_attr = 0
            package.writestr(entry, parts[name], compresslevel=6)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- build


def build_workbook(
    output: Path = DEFAULT_OUTPUT, *, sources: Path = SOURCES_DIR, udf_module: Path = DEFAULT_UDF_MODULE
) -> BuildResult:
    """Build the workbook at `output` (replaced atomically) and return what went into it."""
    template = xlwings_template()
    udf_wrapper = generate_udf_wrapper(udf_module)
    layout = load_layout(sources)
    peloton_source = parts_source((sources / "vba" / "Peloton.bas").read_text(encoding="utf-8"))
    table_source = (sources / "vba" / f"{TABLE_MODULE}.bas").read_text(encoding="utf-8")
    customui = (sources / "customUI.xml").read_bytes()

    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="workbook_build_") as scratch:
        sheets = Path(scratch) / "sheets.xlsm"
        with_vba = Path(scratch) / "vba.xlsm"
        with_dashboard = Path(scratch) / "dashboard.xlsm"
        lay_out_sheets(template, sheets, layout)
        write_vba(sheets, with_vba, peloton_source, udf_wrapper, table_source)
        add_dashboard(with_vba, with_dashboard, layout)
        _replace_atomically(output, finish_package(with_dashboard, customui))
    return BuildResult(output=output, udf_wrapper=udf_wrapper)


def _replace_atomically(path: Path, content: bytes) -> None:
    with replacing(path, path.with_name(f".{path.name}.building")) as staged:
        staged.write_bytes(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pelotonxl.template.build",
        description="Build PelotonWorkbook.xlsm from workbook/ and peloton_xl.py.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"write the workbook only there (default: {DEFAULT_OUTPUT.name} at the top "
        "of the repository and its copy shipped in the package, "
        f"{PACKAGED_TEMPLATE.relative_to(REPO_ROOT).as_posix()})",
    )
    args = parser.parse_args(argv)
    try:
        result = build_workbook(args.output or DEFAULT_OUTPUT)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    written = [result.output]
    if args.output is None:
        _replace_atomically(PACKAGED_TEMPLATE, result.output.read_bytes())
        written.append(PACKAGED_TEMPLATE)
    # The generated wrappers are committed beside Peloton.bas so reviewers see them.
    udf_copy = SOURCES_DIR / "vba" / f"{UDF_WRAPPER_NAME}.bas"
    udf_copy.write_text(result.udf_wrapper, encoding="utf-8", newline="\n")
    print(f"wrote {', '.join(map(str, written))} and {udf_copy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
