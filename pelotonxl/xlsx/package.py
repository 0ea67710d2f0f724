"""The parts of an .xlsx/.xlsm zip that the headless writer reads and edits.

Edits are targeted text edits, never an ElementTree round trip: ElementTree renames namespace
prefixes, after which attributes such as mc:Ignorable="x14ac" name undeclared prefixes and Excel
reports the file as corrupt. ElementTree is used for reading only.
"""

from __future__ import annotations

import html
import lzma
import posixpath
import re
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import zip_writer

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_OFFICE_DOCUMENT = REL_NS + "/officeDocument"
REL_WORKSHEET = REL_NS + "/worksheet"
REL_TABLE = REL_NS + "/table"
REL_CALC_CHAIN = REL_NS + "/calcChain"
REL_SHARED_STRINGS = REL_NS + "/sharedStrings"
REL_STYLES = REL_NS + "/styles"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
REL_DRAWING = REL_NS + "/drawing"
REL_CHART = REL_NS + "/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CONTENT_TYPES = "[Content_Types].xml"
# What zipfile raises for an entry it cannot give back: bad CRC or data (BadZipFile, zlib, EOFError, bz2's
# OSError, lzma's), an encrypted entry (RuntimeError) or a compression method it lacks (NotImplementedError).
ENTRY_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    lzma.LZMAError,
    RuntimeError,
    NotImplementedError,
)


def search_part(pattern: str, xml: str, what: str, flags: int = 0) -> re.Match[str]:
    """re.search for an element every well-formed part has: a miss means a damaged workbook, said
    as a WorkbookError instead of failing later on None."""
    match = re.search(pattern, xml, flags)
    if match is None:
        raise WorkbookError(
            f"The workbook is damaged: {what} is missing. Open it in Excel and save it, then try again."
        )
    return match


def damaged(path: Path, what: str) -> WorkbookError:
    """The documented line for a workbook whose zip or parts cannot be read back (`what` names the part)."""
    return WorkbookError(
        f"{path.name} is damaged ({what}): restore it from a backup, or move it away and refresh to start from a "
        "new workbook."
    )


def start_tag(element: str) -> str:
    """The start tag of an element's XML text (callers pass text their own patterns matched)."""
    return search_part(r"\A<[^>]*>", element, "an element's start tag").group(0)


class Package:
    """An open workbook zip. Parts are read on demand; edits stay in memory until write_zip,
    which copies every untouched entry's content unchanged and in its original order."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # Our own handle, shared with zipfile (which seeks before every read): raw copies read the very
        # file whose central directory was parsed, even if the path is replaced meanwhile.
        self._file = open(self.path, "rb")  # closed by close()
        try:
            self._zip = zipfile.ZipFile(self._file)
        except BaseException:
            self._file.close()
            raise
        self._infos = {info.filename: info for info in self._zip.infolist()}
        self._order = list(self._infos)
        self._edited: dict[str, bytes] = {}
        self._removed: set[str] = set()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def has(self, name: str) -> bool:
        return name not in self._removed and (name in self._edited or name in self._infos)

    def data(self, name: str) -> bytes:
        if not self.has(name):
            raise KeyError(name)
        if name in self._edited:
            return self._edited[name]
        try:
            return self._zip.read(name)
        except ENTRY_READ_ERRORS:
            raise damaged(self.path, f"{name} cannot be read back") from None

    def text(self, name: str) -> str:
        return self.data(name).decode("utf-8")

    def put(self, name: str, data: str | bytes) -> None:
        data = data.encode("utf-8") if isinstance(data, str) else data
        if self._same(name, data):
            return
        self._removed.discard(name)
        self._edited[name] = data
        if name not in self._order:
            self._order.append(name)

    def _same(self, name: str, data: bytes) -> bool:
        """Does the part already hold `data`? An untouched part is inflated to compare only when its size and
        CRC agree: a rewritten sheet that changed is never held twice."""
        if not self.has(name):
            return False
        old = None if name in self._edited else self._infos[name]
        if old is not None and (old.file_size != len(data) or old.CRC != zlib.crc32(data)):
            return False
        return self.data(name) == data

    def remove(self, name: str) -> None:
        self._edited.pop(name, None)
        self._removed.add(name)

    @property
    def changed(self) -> set[str]:
        return set(self._edited) | (self._removed & set(self._infos))

    def names(self) -> list[str]:
        return [n for n in self._order if self.has(n)]

    def unused_name(self, pattern: str) -> str:
        """First free name for a pattern like 'xl/tables/table{}.xml', counting from 1."""
        n = 1
        while self.has(pattern.format(n)) or pattern.format(n) in self._infos:
            n += 1
        return pattern.format(n)

    def write_zip(self, stream: BinaryIO) -> None:
        """The package as a zip: edited parts deflated from memory, every untouched one copied as its raw
        compressed bytes (zip_writer), never inflated: a member's sheet that expands to gigabytes costs a
        file copy. A source entry whose headers disagree or whose data is cut short: the "is damaged" line."""
        with zip_writer.ZipWriter(stream) as out:
            for name in self.names():
                old = self._infos.get(name)
                if old is None or name in self._edited:
                    out.add(
                        name,
                        self.data(name),
                        old.date_time if old else time.localtime()[:6],
                        # an edited part keeps its attributes; a new one is plain, as Office writes it
                        external_attr=old.external_attr if old else 0,
                        create_system=old.create_system if old else 0,
                    )
                    continue
                try:
                    out.copy_raw(self._file, old)
                except zip_writer.DamagedEntry as err:
                    raise damaged(self.path, f"{err.name} cannot be read back") from None


# --- relationships -------------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    part: str  # target resolved to a part name ("xl/tables/table1.xml"); raw if external
    external: bool


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_rels(pkg: Package, part: str) -> list[Relationship]:
    name = rels_name(part) if part else "_rels/.rels"
    if not pkg.has(name):
        return []
    rels = []
    for el in ET.fromstring(pkg.data(name)):
        external = el.get("TargetMode") == "External"
        target = el.get("Target", "")
        rels.append(
            Relationship(
                el.get("Id", ""), el.get("Type", ""), target if external else resolve_target(part, target), external
            )
        )
    return rels


def add_rel(pkg: Package, part: str, rel_type: str, target_part: str) -> str:
    """Add a relationship from part to target_part; returns its new id."""
    name = rels_name(part)
    taken = {r.id for r in read_rels(pkg, part)}
    rel_id = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
    target = posixpath.relpath(target_part, posixpath.dirname(part))
    element = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"/>'
    xml = (
        pkg.text(name)
        if pkg.has(name)
        else (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
        )
    )
    pkg.put(name, insert_before_close(xml, "Relationships", element))
    return rel_id


def remove_rel(pkg: Package, part: str, rel_id: str) -> None:
    name = rels_name(part)
    pattern = rf'<(?:\w+:)?Relationship\b[^>]*\bId="{re.escape(rel_id)}"[^>]*/>'
    pkg.put(name, re.sub(pattern, "", pkg.text(name), count=1))


def add_override(pkg: Package, part: str, content_type: str) -> None:
    xml = pkg.text(CONTENT_TYPES)
    if f'PartName="/{part}"' not in xml:
        element = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        pkg.put(CONTENT_TYPES, insert_before_close(xml, "Types", element))


def remove_override(pkg: Package, part: str) -> None:
    pattern = rf'<(?:\w+:)?Override\b[^>]*\bPartName="/{re.escape(part)}"[^>]*/>'
    pkg.put(CONTENT_TYPES, re.sub(pattern, "", pkg.text(CONTENT_TYPES), count=1))


# --- text-edit helpers -----------------------------------------------------------------------


def main_prefix(xml: str) -> str:
    """'' when the part uses SpreadsheetML as its default namespace, else e.g. 'x:'."""
    match = re.search(rf'xmlns:(\w+)="{re.escape(MAIN_NS)}"', xml)
    root = re.search(r"<(\w+:)?\w+[\s>]", re.sub(r"<\?.*?\?>", "", xml, count=1))
    if match and root and root.group(1) == match.group(1) + ":":
        return root.group(1)
    return ""


def insert_before_close(xml: str, tag: str, element: str) -> str:
    """Insert element as the last child of the (first) <tag> element, expanding <tag/> if needed."""
    close = re.search(rf"</((?:\w+:)?){tag}>", xml)
    if close:
        return xml[: close.start()] + element + xml[close.start() :]
    empty = re.search(rf"<((?:\w+:)?){tag}\b([^>]*?)/>", xml)
    if not empty:
        raise ValueError(f"no <{tag}> element")
    prefix, attrs = empty.group(1), empty.group(2)
    return xml[: empty.start()] + f"<{prefix}{tag}{attrs}>{element}</{prefix}{tag}>" + xml[empty.end() :]


def set_attr(start_tag: str, name: str, value: str) -> str:
    """Set (or add) an attribute in an element's start tag text."""
    pattern = rf'(\s{re.escape(name)}=)"[^"]*"'
    if re.search(pattern, start_tag):
        return re.sub(pattern, rf'\1"{value}"', start_tag, count=1)
    end = len(start_tag) - (2 if start_tag.endswith("/>") else 1)
    return f'{start_tag[:end].rstrip()} {name}="{value}"{start_tag[end:]}'


def attrs_of(start_tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:]+)="([^"]*)"', start_tag))


# --- the workbook part -----------------------------------------------------------------------


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rel_id: str
    part: str
    is_worksheet: bool


def workbook_part(pkg: Package) -> str:
    for rel in read_rels(pkg, ""):
        if rel.type == REL_OFFICE_DOCUMENT and pkg.has(rel.part):
            return rel.part
    raise KeyError("workbook part")


# The workbook part's content type: what the file is, whatever its name says.
MACRO_WORKBOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKBOOK_KINDS = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": ".xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": ".xltx",
    "application/vnd.ms-excel.template.macroEnabled.main+xml": ".xltm",
    MACRO_WORKBOOK_TYPE: ".xlsm",
}


def workbook_content_type(pkg: Package) -> str | None:
    """The content type [Content_Types].xml gives the workbook part (its Override, else its extension's
    Default); None when that cannot be read (a damaged package is reported elsewhere)."""
    try:
        part = workbook_part(pkg)
        root = ET.fromstring(pkg.data(CONTENT_TYPES))
    except (KeyError, ET.ParseError):
        return None
    for el in root:
        if el.tag.endswith("}Override") and el.get("PartName", "").lstrip("/") == part:
            return el.get("ContentType")
    extension = part.rsplit(".", 1)[-1].lower()
    for el in root:
        if el.tag.endswith("}Default") and (el.get("Extension") or "").lower() == extension:
            return el.get("ContentType")
    return None


def list_sheets(pkg: Package) -> list[SheetEntry]:
    book = workbook_part(pkg)
    rels = {r.id: r for r in read_rels(pkg, book)}
    entries = []
    for el in ET.fromstring(pkg.data(book)).iter(f"{{{MAIN_NS}}}sheet"):
        rel = rels.get(el.get(f"{{{REL_NS}}}id", ""))
        if rel:
            entries.append(
                SheetEntry(el.get("name", ""), int(el.get("sheetId", "0")), rel.id, rel.part, rel.type == REL_WORKSHEET)
            )
    return entries


def find_sheet(pkg: Package, name: str) -> SheetEntry | None:
    # Excel sheet names are case-insensitive.
    return next((s for s in list_sheets(pkg) if s.name.casefold() == name.casefold()), None)


def add_sheet(pkg: Package, name: str, part: str, *, first: bool = False) -> SheetEntry:
    """Register a new worksheet part under name: workbook rels, <sheet>, content type.

    The sheet goes last, or first with `first` (the Dashboard): then sheet-scoped names and the
    active tab are renumbered so they keep meaning the same sheets."""
    book = workbook_part(pkg)
    rel_id = add_rel(pkg, book, REL_WORKSHEET, part)
    add_override(pkg, part, CT_WORKSHEET)
    xml = pkg.text(book)
    sheet_id = max((s.sheet_id for s in list_sheets(pkg)), default=0) + 1
    # Only a declaration on the root is in scope for a new <sheet> (openpyxl declares r on each sheet).
    root_tag = search_part(r"<(?:\w+:)?workbook\b[^>]*>", xml, "the <workbook> element").group(0)
    r_prefix = re.search(rf'xmlns:(\w+)="{re.escape(REL_NS)}"', root_tag)
    rid_attr = f'{r_prefix.group(1)}:id="{rel_id}"' if r_prefix else f'r:id="{rel_id}" xmlns:r="{REL_NS}"'
    p = main_prefix(xml)
    element = f'<{p}sheet name="{escape_attr(name)}" sheetId="{sheet_id}" {rid_attr}/>'
    if first:
        sheets = search_part(rf"<{re.escape(p)}sheets\b[^>]*>", xml, "the workbook's list of sheets")
        xml = _shift_sheet_indexes(xml[: sheets.end()] + element + xml[sheets.end() :])
        pkg.put(book, xml)
    else:
        pkg.put(book, insert_before_close(xml, "sheets", element))
    return SheetEntry(name, sheet_id, rel_id, part, True)


def _shift_sheet_indexes(xml: str) -> str:
    """Add 1 to the sheet indexes in workbook.xml (localSheetId, activeTab). firstSheet (the
    leftmost tab in view) stays, so the new first tab is in view."""

    def bump(match: re.Match) -> str:
        return f'{match.group(1)}"{int(match.group(2)) + 1}"'

    xml = re.sub(r'(\blocalSheetId=)"(\d+)"', bump, xml)
    view = re.search(r"<(?:\w+:)?workbookView\b[^>]*>", xml)
    if view:
        tag = re.sub(r'(\bactiveTab=)"(\d+)"', bump, view.group(0))
        if "activeTab=" not in tag:  # absent means 0: the sheet that was first stays active
            tag = set_attr(tag, "activeTab", "1")
        xml = xml[: view.start()] + tag + xml[view.end() :]
    return xml


def open_package(path: Path) -> Package:
    """Open a workbook zip, or raise WorkbookError saying why it is not one."""
    if not path.is_file():
        raise WorkbookError(f"Workbook not found: {path}.")
    try:
        pkg = Package(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise WorkbookError(f"{path.name} is not an Excel workbook (.xlsm/.xlsx): {err}.") from None
    try:
        workbook_part(pkg)
    except (KeyError, ET.ParseError):
        pkg.close()
        raise WorkbookError(f"{path.name} is a zip file but not an Excel workbook.") from None
    return pkg


def table_part_of(pkg: Package, sheet: SheetEntry) -> str | None:
    return next((r.part for r in read_rels(pkg, sheet.part) if r.type == REL_TABLE and pkg.has(r.part)), None)


def sheet_for_table(pkg: Package, name: str) -> SheetEntry | None:
    """The sheet holding the Excel Table `name` (a member may have renamed its sheet), else the sheet
    called `name`. Table names are unique in a workbook, so the table is the surer guide."""
    for sheet in list_sheets(pkg):
        part = table_part_of(pkg, sheet) if pkg.has(sheet.part) else None
        if part and ET.fromstring(pkg.data(part)).get("name", "").casefold() == name.casefold():
            return sheet
    return find_sheet(pkg, name)


def defined_names(pkg: Package) -> dict[str, str]:
    """Workbook-scoped defined names -> their formula text (e.g. "Config!$B$18")."""
    root = ET.fromstring(pkg.data(workbook_part(pkg)))
    return {
        el.get("name", ""): (el.text or "").strip()
        for el in root.iter(f"{{{MAIN_NS}}}definedName")
        if el.get("localSheetId") is None
    }


def set_hidden_name(pkg: Package, name: str, formula: str) -> None:
    """Set (or replace) a hidden workbook-scoped defined name: the refresh's own notes in the file,
    which Excel, LibreOffice and openpyxl all keep."""
    book = workbook_part(pkg)
    xml = pkg.text(book)
    p = main_prefix(xml)
    element = f'<{p}definedName name="{name}" hidden="1">{escape(formula)}</{p}definedName>'
    old = re.search(
        rf'<{re.escape(p)}definedName\b[^>]*\bname="{re.escape(name)}"[^>]*>.*?</{re.escape(p)}definedName>', xml, re.S
    )
    if old:
        xml = xml[: old.start()] + element + xml[old.end() :]
    elif re.search(rf"<{re.escape(p)}definedNames\b", xml):
        xml = insert_before_close(xml, "definedNames", element)
    else:  # definedNames follows sheets in CT_Workbook
        close = search_part(rf"</{re.escape(p)}sheets>", xml, "the workbook's list of sheets")
        xml = xml[: close.end()] + f"<{p}definedNames>{element}</{p}definedNames>" + xml[close.end() :]
    pkg.put(book, xml)


def set_print_titles(pkg: Package, sheet_name: str, rows: str) -> None:
    """Rows printed at the top of every page of a sheet (`_xlnm.Print_Titles`, scoped to the sheet by its
    position). A sheet that has print titles already keeps them: they may be the member's."""
    book = workbook_part(pkg)
    xml = pkg.text(book)
    p = main_prefix(xml)
    names = [html.unescape(n) for n in re.findall(rf'<{re.escape(p)}sheet\b[^>]*?\bname="([^"]*)"', xml)]
    if sheet_name not in names:
        return
    index = names.index(sheet_name)
    if re.search(rf'<{re.escape(p)}definedName\b(?=[^>]*name="_xlnm\.Print_Titles")[^>]*localSheetId="{index}"', xml):
        return
    quoted = "'" + sheet_name.replace("'", "''") + "'"
    element = (
        f'<{p}definedName name="_xlnm.Print_Titles" localSheetId="{index}">{escape(quoted)}!{rows}</{p}definedName>'
    )
    if re.search(rf"<{re.escape(p)}definedNames\b", xml):
        xml = insert_before_close(xml, "definedNames", element)
    else:  # definedNames follows sheets in CT_Workbook
        end = xml.index(f"</{p}sheets>") + len(f"</{p}sheets>")
        xml = xml[:end] + f"<{p}definedNames>{element}</{p}definedNames>" + xml[end:]
    pkg.put(book, xml)


# Elements that follow <calcPr> in CT_Workbook: a missing calcPr goes before the first of them.
_AFTER_CALC_PR = (
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def ensure_full_calc_on_load(pkg: Package) -> None:
    book = workbook_part(pkg)
    xml = pkg.text(book)
    p = main_prefix(xml)
    calc = re.search(rf"<{re.escape(p)}calcPr\b[^>]*>", xml)
    if calc:
        tag = set_attr(calc.group(0), "fullCalcOnLoad", "1")
        pkg.put(book, xml[: calc.start()] + tag + xml[calc.end() :])
        return
    element = f'<{p}calcPr fullCalcOnLoad="1"/>'
    follow = search_part(
        rf"<{re.escape(p)}(?:{'|'.join(_AFTER_CALC_PR)})\b|</{re.escape(p)}workbook>",
        xml,
        "the end of the workbook part",
    )
    pkg.put(book, xml[: follow.start()] + element + xml[follow.start() :])


def escape_attr(text: str) -> str:
    """Text for a double-quoted XML attribute."""
    return escape(text, {'"': "&quot;"})
