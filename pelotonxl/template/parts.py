"""Our Excel parts put into a member's workbook: the VBA modules, the Peloton ribbon tab and the xlwings.conf
sheet, taken from the template shipped in the package.

- `add_parts` (`--setup-excel --workbook MINE.xlsm`): a workbook without them gains them (an .xlsx is
  written as an .xlsm beside it; the .xlsx stays as it was);
- `upgrade_parts` (`--upgrade-workbook PATH`): a workbook made by an earlier release gets this release's
  modules, ribbon and xlwings.conf keys.

Everything else stays byte for byte: every sheet, note, chart, pivot and member column, the member's own
VBA modules and references. The parts are edited inside the zip (never through openpyxl, which drops
shapes and sparklines), on a copy that replaces the workbook only when complete. What cannot be done
safely is refused before anything is written, in one line: a ribbon of the member's own, a signed VBA
project, a format other than .xlsx/.xlsm.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pelotonxl.errors import WorkbookError
from pelotonxl.model.workbook import CONFIG_SHEET
from pelotonxl.template.new_workbook import template_bytes
from pelotonxl.template.vba_project import VBA_PART, tidy_project
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import safety, xlwings_conf
from pelotonxl.xlsx.cells import XML_DECLARATION, string_tail

CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_REL_TYPES = (
    "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
    "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",  # customUI14
)
OUR_TAB = 'id="pelotonTab"'
# The modules that are ours, in the template's order; the member's own modules are never touched.
OUR_MODULES = ("xlwings", "Dictionary", "Peloton", "xlwings_udfs", "PelotonTable")
CLASS_MODULES = {"Dictionary"}
MARK_MODULE = "Peloton"  # a workbook with this module has our parts
REFERENCES = ("Office",)  # the template's registered libraries we need: IRibbonControl, in the ribbon callbacks
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"


@dataclass
class PartsReport:
    workbook: Path  # the workbook written (an .xlsx's .xlsm twin)
    modules: list[str] = field(default_factory=list)  # ours, added or replaced
    ribbon: str = ""  # "added", "replaced" or ""
    conf: str = ""  # "added" or "updated"
    config: str = ""  # "added": the workbook had no Config sheet
    dropped_keys: list[str] = field(default_factory=list)
    config_rows: list[str] = field(default_factory=list)  # settings this release added to the Config sheet


@dataclass(frozen=True)
class Found:
    """What a workbook holds of ours."""

    modules: dict[str, str]  # name -> source, every module of the project (empty: no project)
    ribbon: str | None  # the customUI XML, or None
    conf: bool  # an xlwings.conf sheet
    signed: bool

    @property
    def ours(self) -> bool:
        return MARK_MODULE in self.modules


def inspect(path: Path) -> Found:
    from pyopenvba import ExcelFile

    with xp.open_package(path) as pkg:
        ribbon = _ribbon_part(pkg)
        ribbon_xml = pkg.text(ribbon) if ribbon else None
        conf = xlwings_conf.has_sheet(pkg)
        has_vba = pkg.has(VBA_PART)
    modules: dict[str, str] = {}
    signed = False
    if has_vba:
        try:
            with ExcelFile(path) as book:
                modules = book.vba_modules()
                signed = book.vba_signature().present
        except Exception as exc:  # pyOpenVBA's own errors: a project it cannot read is one we must not write
            raise WorkbookError(
                f"The VBA project of {path.name} cannot be read ({type(exc).__name__}: {exc}): "
                "it is left as it is; open and save it in Excel, then try again."
            ) from None
    return Found(modules, ribbon_xml, conf, signed)


def add_parts(path: Path) -> PartsReport:
    """--setup-excel on a workbook without our parts (checked by the caller with `inspect`)."""
    found = _refuse_unsafe(path, inspect(path))
    if found.ours:
        raise WorkbookError(f"{path.name} already has the Peloton parts: run --upgrade-workbook to update them.")
    destination = path.with_suffix(".xlsm") if path.suffix.lower() == ".xlsx" else path
    if destination != path and destination.exists():
        raise WorkbookError(
            f"{destination.name} already exists beside {path.name}: move it away or run this on it instead."
        )
    return _write_parts(path, destination, found)


def upgrade_parts(path: Path) -> PartsReport:
    """--upgrade-workbook: this release's parts into a workbook that has an earlier release's."""
    if path.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{path.name} is not a macro-enabled workbook: give the .xlsm that has the Peloton tab.")
    found = _refuse_unsafe(path, inspect(path))
    if not found.ours:
        raise WorkbookError(
            f"{path.name} has no Peloton parts to upgrade: to add them, run --setup-excel --workbook with it."
        )
    return _write_parts(path, path, found)


def _refuse_unsafe(path: Path, found: Found) -> Found:
    safety.remove_stale_temps(path)
    if path.suffix.lower() == ".xlsx":  # no macros is what check_workbook refuses, and what we are here to add
        if path.with_name("~$" + path.name).exists():
            raise WorkbookError(f"{path.name} is open in Excel: close it there, then run this again.")
        xp.open_package(path).close()  # not found, not a workbook
    else:
        safety.check_workbook(path, ())  # not found, open in Excel (its ~$ lock file), damaged, no macros
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"{path.name} is not an .xlsx or .xlsm workbook: save it as one in Excel first.")
    if found.ribbon is not None and OUR_TAB not in found.ribbon:
        raise WorkbookError(
            f"{path.name} has a ribbon of its own (customUI): adding the Peloton tab would replace it, so it is "
            "left as it is. Copy your sheets into a copy of PelotonWorkbook.xlsm instead."
        )
    if found.signed:
        raise WorkbookError(
            f"The VBA project of {path.name} is digitally signed: changing it would break the signature, so it "
            "is left as it is. Remove the signature in Excel (Tools → Digital Signature) and try again."
        )
    return found


def _write_parts(source: Path, destination: Path, found: Found) -> PartsReport:
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    template = _template_parts()
    report = PartsReport(destination)
    with tempfile.TemporaryDirectory(prefix="peloton_parts_") as scratch:
        staged = Path(scratch) / "staged.xlsm"
        if source.suffix.lower() == ".xlsx":
            _as_macro_enabled(source, staged)
        else:
            shutil.copyfile(source, staged)
        with_vba = Path(scratch) / "vba.xlsm"
        with ExcelFile(staged) as book:
            project = book.vba_project() if found.modules else book.add_vba_project()
            present = {name.casefold(): name for name in book.module_names()}
            for name in OUR_MODULES:
                if name.casefold() in present:
                    book.set_module(present[name.casefold()], template.modules[name])
                else:
                    kind = VBAModuleKind.other if name in CLASS_MODULES else VBAModuleKind.standard
                    project.add_module(name, template.modules[name], kind=kind)
                report.modules.append(name)
            for name, guid, (major, minor), where, description in template.references:
                if not any(r.guid.upper() == guid.upper() or r.name == name for r in book.references()):
                    book.add_reference(name, guid, major, minor, path=where, description=description)
            book.save(with_vba)
        with xp.open_package(with_vba) as pkg:
            pkg.put(VBA_PART, tidy_project(pkg.data(VBA_PART)))
            report.ribbon = _put_ribbon(pkg, template.ribbon)
            if xp.find_sheet(pkg, CONFIG_SHEET) is None:  # where the member types their email
                _add_plain_sheet(pkg, CONFIG_SHEET, template.sheets[CONFIG_SHEET])
                report.config = "added"
            else:
                report.config_rows = _add_missing_config_rows(pkg)
            if xlwings_conf.has_sheet(pkg):
                report.dropped_keys = xlwings_conf.update_settings(pkg, destination, template.settings)
                report.conf = "updated"
            else:
                _add_plain_sheet(pkg, xlwings_conf.SHEET, template.sheets[xlwings_conf.SHEET])
                report.conf = "added"
            if destination.exists():
                safety.save_atomically(pkg, destination)
            else:
                with open(destination, "xb") as stream:
                    pkg.write_zip(stream)
    return report


# ----------------------------------------------------------------------------- the template's parts


@dataclass(frozen=True)
class TemplateParts:
    modules: dict[str, str]
    references: list[tuple[str, str, tuple[int, int], str, str]]  # name, GUID, version, path, description
    ribbon: bytes
    settings: dict[str, str]  # xlwings.conf keys the template sets
    sheets: dict[str, list[tuple[int, list[str]]]]  # Config and xlwings.conf: (row, texts of A, B, C) as laid out


def _template_parts() -> TemplateParts:
    from openpyxl import load_workbook
    from pyopenvba import ExcelFile

    with tempfile.TemporaryDirectory(prefix="peloton_template_") as scratch:
        copy = Path(scratch) / "PelotonWorkbook.xlsm"
        copy.write_bytes(template_bytes())
        with ExcelFile(copy) as book:
            modules = {name: book.get_module(name) for name in OUR_MODULES}
            references = [
                (r.name, r.guid, r.version, *(r.libid.split("#") + ["", "", "", ""])[3:5])
                for r in book.references()
                if r.kind == "registered" and r.name in REFERENCES
            ]
        with zipfile.ZipFile(copy) as package:
            ribbon = package.read(CUSTOMUI_PART)
        settings = {key: text for key, text in _original_case(copy).items()}
        book = load_workbook(copy, read_only=True)
        sheets = {
            name: [
                (number, ["" if value is None else str(value) for value in values])
                for number, values in enumerate(book[name].iter_rows(max_col=3, values_only=True), start=1)
                if any(value is not None for value in values)
            ]
            for name in (CONFIG_SHEET, xlwings_conf.SHEET)
        }
        book.close()
    return TemplateParts(modules, references, ribbon, settings, sheets)


def _original_case(path: Path) -> dict[str, str]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True)[xlwings_conf.SHEET]
    settings = {}
    for key, value in sheet.iter_rows(max_col=2, values_only=True):
        if key is None:
            break
        settings[str(key)] = "" if value is None else str(value)
    return settings


# ----------------------------------------------------------------------------- zip edits


def _ribbon_part(pkg: xp.Package) -> str | None:
    for rel in xp.read_rels(pkg, ""):
        if rel.type in CUSTOMUI_REL_TYPES and pkg.has(rel.part):
            return rel.part
    return None


def _put_ribbon(pkg: xp.Package, ribbon: bytes) -> str:
    existing = _ribbon_part(pkg)
    if existing is not None:  # ours (a foreign one was refused): this release's tab in its place
        pkg.put(existing, ribbon)
        return "replaced"
    pkg.put(CUSTOMUI_PART, ribbon)
    xp.add_rel(pkg, "", CUSTOMUI_REL_TYPES[0], CUSTOMUI_PART)
    xp.add_override(pkg, CUSTOMUI_PART, "application/xml")
    return "added"


def _add_plain_sheet(pkg: xp.Package, name: str, rows: list[tuple[int, list[str]]], first: bool = False) -> None:
    """One of the template's own sheets (Config, xlwings.conf) as plain text cells, without its styles,
    validations or number formats (the member's styles are theirs; a refresh writes Config's status cells)."""
    part = pkg.unused_name("xl/worksheets/sheet{}.xml")
    xml_rows = []
    for number, texts in rows:
        cells = "".join(
            f'<c r="{col}{number}"{string_tail(text)}' for col, text in zip("ABC", texts, strict=False) if text
        )
        xml_rows.append(f'<row r="{number}">{cells}</row>')
    pkg.put(
        part,
        XML_DECLARATION + f'<worksheet xmlns="{xp.MAIN_NS}"><sheetFormatPr defaultRowHeight="15"/>'
        '<cols><col min="1" max="1" width="30" customWidth="1"/><col min="2" max="2" width="40" customWidth="1"/>'
        '<col min="3" max="3" width="80" customWidth="1"/></cols>'
        f"<sheetData>{''.join(xml_rows)}</sheetData></worksheet>",
    )
    xp.add_sheet(pkg, name, part, first=first)


def _add_missing_config_rows(pkg: xp.Package) -> list[str]:
    """The Config sheet's layout brought up to date: a setting this release knows and the member's Config
    lacks gets a row of its own below everything on the sheet (label, empty value, what it does). The
    refresh reads a setting by its label wherever it stands, so nothing of the member's moves."""
    from pelotonxl.settings import FIELDS
    from pelotonxl.xlsx import cell_edit
    from pelotonxl.xlsx.config_sheet import label_cells

    labels = label_cells(pkg, CONFIG_SHEET)
    sheet = xp.find_sheet(pkg, CONFIG_SHEET)
    if labels is None or sheet is None:
        return []  # no Config sheet: flags, environment and defaults, as the refresh says
    missing = [f for f in FIELDS if f.label.strip().casefold() not in labels]
    if not missing:
        return []
    xml = pkg.text(sheet.part)
    row = max((int(r) for r in re.findall(r'<(?:\w+:)?row\b[^>]*\sr="(\d+)"', xml)), default=0) + 1
    for f in missing:
        row += 1
        xml = cell_edit.set_cell(xml, f"A{row}", string_tail(f.label))
        xml = cell_edit.set_cell(xml, f"C{row}", string_tail(f.help))
    # The used-range hint some readers stop at (openpyxl's read-only mode) reaches the new rows.
    xml = re.sub(
        r'(<(?:\w+:)?dimension\b[^>]*\sref="[A-Z]+\d+:)([A-Z]+)\d+"',
        lambda m: f'{m.group(1)}{max(m.group(2), "C", key=lambda c: (len(c), c))}{row}"',
        xml,
        count=1,
    )
    pkg.put(sheet.part, xml)
    return [f.label for f in missing]


def _as_macro_enabled(source: Path, destination: Path) -> None:
    """An .xlsx's zip with its workbook part typed as macro-enabled (the rest byte for byte)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as package, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in package.infolist():
            data = package.read(entry)
            if entry.filename == xp.CONTENT_TYPES:
                data = re.sub(re.escape(CT_XLSX).encode(), CT_XLSM.encode(), data)
            target.writestr(entry, data)
    destination.write_bytes(buffer.getvalue())
