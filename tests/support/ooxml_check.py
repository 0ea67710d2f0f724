"""Every XML part of a workbook against the ECMA-376 Transitional schemas (vendored in
tests/ooxml_schemas, see its README), plus the cross-part checks a schema cannot express."""

from __future__ import annotations

import posixpath
import re
import zipfile
from functools import lru_cache
from pathlib import Path

from lxml import etree
from openpyxl.utils.cell import range_boundaries

SCHEMAS = Path(__file__).resolve().parent.parent / "ooxml_schemas"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
NOT_COVERED = ("customUI/", "xl/vbaProject", ".vml", "xl/charts/style", "xl/charts/colors")


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "spreadsheet-all.xsd")))


@lru_cache(maxsize=1)
def _understood() -> frozenset[str]:
    namespaces = set()
    for xsd in SCHEMAS.rglob("*.xsd"):
        target = etree.parse(str(xsd)).getroot().get("targetNamespace")
        if target:
            namespaces.add(target)
    return frozenset(namespaces)


def _apply_markup_compatibility(root: etree._Element) -> etree._Element:
    """What a consumer that knows only these schemas sees (the README's MCE rules)."""
    ignorable = set()
    for el in root.iter():
        prefixes = (el.get(f"{{{MC_NS}}}Ignorable") or "").split()
        ignorable |= {el.nsmap.get(p) for p in prefixes if el.nsmap.get(p) not in _understood()}
    for alt in list(root.iter(f"{{{MC_NS}}}AlternateContent")):
        chosen = None
        for choice in alt.findall(f"{{{MC_NS}}}Choice"):
            needs = [choice.nsmap.get(p) for p in (choice.get("Requires") or "").split()]
            if all(ns in _understood() for ns in needs):
                chosen = choice
                break
        chosen = chosen if chosen is not None else alt.find(f"{{{MC_NS}}}Fallback")
        parent = alt.getparent()
        at = parent.index(alt)
        for child in list(chosen) if chosen is not None else []:
            parent.insert(at, child)
            at += 1
        parent.remove(alt)
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        if etree.QName(el).namespace in ignorable and el.getparent() is not None:
            el.getparent().remove(el)
            continue
        for attr in list(el.attrib):
            ns = etree.QName(attr).namespace
            # xml:space is XML's own (XML 1.0 section 2.10), allowed on any element; the schemas
            # do not declare it on <t>, where Excel writes it for text with edge spaces.
            if ns in ignorable or ns == MC_NS or attr == XML_SPACE:
                del el.attrib[attr]
    return root


def schema_errors(path: Path) -> list[str]:
    """'part: message' for each XML part that does not validate."""
    errors = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not (name.endswith(".xml") or name.endswith(".rels")) or name.startswith(NOT_COVERED):
                continue
            root = _apply_markup_compatibility(etree.fromstring(zf.read(name)))
            if not schema().validate(root):
                errors += [f"{name}: {e.message}" for e in schema().error_log][:3]
    return errors


def cross_part_errors(path: Path) -> list[str]:
    """Table headers = tableColumn names, crossAx names an axis of the same plot, calcChain only
    names formula cells, every relationship target present and of a declared content type."""
    errors: list[str] = []
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        types = etree.fromstring(zf.read("[Content_Types].xml"))
        overrides = {o.get("PartName").lstrip("/") for o in types if o.get("PartName")}
        defaults = {d.get("Extension").lower() for d in types if d.get("Extension")}
        strings = _shared_strings(zf, names)
        for rels in (n for n in names if n.endswith(".rels")):
            source = posixpath.dirname(posixpath.dirname(rels))
            for rel in etree.fromstring(zf.read(rels)):
                if rel.get("TargetMode") == "External":
                    continue
                target = rel.get("Target")
                part = _resolve(source, target)
                if part not in names:
                    errors.append(f"{rels}: {rel.get('Id')} targets missing {part}")
                elif part not in overrides and part.rsplit(".", 1)[-1].lower() not in defaults:
                    errors.append(f"{rels}: {part} has no content type")
        sheets = {n: etree.fromstring(zf.read(n)) for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)}
        for sheet_part, sheet in sheets.items():
            rels_name = f"xl/worksheets/_rels/{posixpath.basename(sheet_part)}.rels"
            if rels_name not in names:
                continue
            for rel in etree.fromstring(zf.read(rels_name)):
                if rel.get("Type").endswith("/table"):
                    table_part = _resolve("xl/worksheets", rel.get("Target"))
                    errors += _table_header_errors(zf.read(table_part), sheet, strings, table_part)
        for chart in (n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)):
            root = etree.fromstring(zf.read(chart))
            for plot in root.iter(f"{{{CHART}}}plotArea"):
                ids = {ax.get("val") for ax in plot.iterfind(f"*/{{{CHART}}}axId")}
                for cross in plot.iterfind(f"*/{{{CHART}}}crossAx"):
                    if cross.get("val") not in ids:
                        errors.append(f"{chart}: crossAx {cross.get('val')} names no axis of the plot {sorted(ids)}")
        if "xl/calcChain.xml" in names:
            errors += _calc_chain_errors(zf, sheets)
    return errors


def _resolve(source_dir: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(source_dir, target))


def _shared_strings(zf: zipfile.ZipFile, names: set[str]) -> list[str]:
    if "xl/sharedStrings.xml" not in names:
        return []
    return [
        "".join(si.itertext())
        for si in etree.fromstring(zf.read("xl/sharedStrings.xml"))
        if etree.QName(si).localname == "si"
    ]


def _cell_text(c, strings: list[str]) -> str | None:
    if c.get("t") == "inlineStr":
        return "".join(t.text or "" for t in c.iter(f"{{{MAIN}}}t"))
    v = c.findtext(f"{{{MAIN}}}v")
    if v is None:
        return None
    return strings[int(v)] if c.get("t") == "s" else v


def _table_header_errors(table_xml: bytes, sheet, strings: list[str], table_part: str) -> list[str]:
    table = etree.fromstring(table_xml)
    if table.get("headerRowCount") == "0":
        return []
    left, top, _, _ = range_boundaries(table.get("ref"))
    cells = {c.get("r"): c for c in sheet.iter(f"{{{MAIN}}}c")}
    errors = []
    from openpyxl.utils import get_column_letter

    for i, column in enumerate(table.iter(f"{{{MAIN}}}tableColumn")):
        ref = f"{get_column_letter(left + i)}{top}"
        text = _cell_text(cells[ref], strings) if ref in cells else None
        if text != column.get("name"):
            errors.append(f"{table_part}: header {ref} is {text!r}, its tableColumn {column.get('name')!r}")
    return errors


def _calc_chain_errors(zf: zipfile.ZipFile, sheets: dict) -> list[str]:
    book = etree.fromstring(zf.read("xl/workbook.xml"))
    book_rels = {r.get("Id"): r.get("Target") for r in etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))}
    by_id = {}
    for s in book.iter(f"{{{MAIN}}}sheet"):
        target = book_rels[s.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")]
        by_id[s.get("sheetId")] = _resolve("xl", target)
    errors, current = [], None
    for c in etree.fromstring(zf.read("xl/calcChain.xml")):
        current = c.get("i", current)
        sheet = sheets.get(by_id.get(current, ""))
        cell = (
            next((x for x in sheet.iter(f"{{{MAIN}}}c") if x.get("r") == c.get("r")), None)
            if sheet is not None
            else None
        )
        if cell is None or cell.find(f"{{{MAIN}}}f") is None:
            errors.append(f"xl/calcChain.xml: sheet {current} {c.get('r')} holds no formula")
    return errors


def assert_valid(path: Path) -> None:
    errors = schema_errors(path) + cross_part_errors(path)
    assert not errors, "\n".join(errors[:20])
