"""Writing a member's workbook safely: the checks before (missing, not a workbook, open in Excel,
read-only, things on our sheets a rewrite would delete) and the atomic replace after.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Set
from pathlib import Path
from xml.parsers import expat

from pelotonxl import __version__
from pelotonxl.atomic_file import replacing
from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import drawn_sheets, sheet_comments
from pelotonxl.xlsx import package as xp

TEMP_PREFIX = ".~peloton_xl-"
# XML parts up to this size are checked for well-formedness before a write; a larger one is a member's
# own sheet of data, copied as it is (never parsed, never held whole).
XML_CHECKED_BYTES = 64 * 2**20
MAX_SAVED = 50  # workbooks remembered in state.saved_workbooks_file(), most recent first
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")


def check_workbook(
    path: Path,
    sheet_names: Iterable[str],
    own_charts: Mapping[str, str] | None = None,
    notes_move: Iterable[str] = (),
) -> None:
    """Raise WorkbookError (one actionable line) unless the workbook can be rewritten safely,
    inspecting the named sheets for things a rewrite would drop. `own_charts`: sheet name -> the
    data sheet its own charts plot (the Dashboard's): a chart whose every series reads that sheet is
    the refresh's, whatever a program that saved the workbook renamed it to. `notes_move`: the tables
    whose sheets' comments the refresh moves with their rows (sheet_comments), so they are no loss.

    A workbook exactly as a refresh saved it (`save_atomically(..., checked=True)`, by its file's identity)
    has its content checks skipped: only this code wrote it since they last passed, and reading every part
    again would make a refresh that writes a few cells cost as much as the history is long."""
    own_charts = {name.casefold(): data for name, data in (own_charts or {}).items()}
    movable = {name.casefold() for name in notes_move}
    if not path.is_file():
        raise WorkbookError(f"Workbook not found: {path}.")
    for lock in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])):
        if len(lock.name) > 2 and lock.exists():
            raise WorkbookError(
                f"{path.name} is open in Excel ({lock.name} beside it): close it in Excel, "
                "or refresh from the Peloton tab (delete the ~$ file if Excel is not running)."
            )
    libreoffice = path.with_name(f".~lock.{path.name}#")  # LibreOffice's, while it has the file open
    if libreoffice.exists():
        raise WorkbookError(
            f"{path.name} is open in LibreOffice ({libreoffice.name} beside it): close it there, then refresh "
            "again (delete that file if LibreOffice is not running)."
        )
    if not as_saved(path):
        _check_content(path, sheet_names, own_charts, movable)
    try:
        with open(path, "r+b"):
            pass
    except OSError as err:
        raise WorkbookError(
            f"{path.name} cannot be opened for writing ({err.strerror}): close it in other "
            "programs and check its permissions."
        ) from None
    if not os.access(path.parent, os.W_OK):
        raise WorkbookError(f"The folder {path.parent} is read-only: the workbook cannot be saved there.")


def _check_content(path: Path, sheet_names: Iterable[str], own_charts: Mapping[str, str], movable: Set[str]) -> None:
    """Damage, a workbook without macros, and what the member put on the named sheets (check_workbook)."""
    with xp.open_package(path) as pkg:
        damaged = _damaged_entry(path)
        missing = None if damaged else _missing_sheet_part(pkg)
        if damaged or missing:
            what = f"{damaged} cannot be read back" if damaged else f"its sheet part {missing} is missing"
            raise xp.damaged(path, what)
        _refuse_a_workbook_without_macros(pkg, path)
        for name in sheet_names:
            sheet = drawn_sheets.recorded(pkg, name) or xp.sheet_for_table(pkg, name)  # renamed or not
            data = own_charts.get(name.casefold())
            data_sheet = drawn_sheets.find(pkg, data) if data else None
            moves = name.casefold() in movable
            found = _things_a_rewrite_drops(pkg, sheet, data_sheet.name if data_sheet else data, moves) if sheet else []
            if sheet and found:
                raise WorkbookError(
                    f"The {sheet.name} sheet holds {', '.join(found)}, which a refresh would "
                    "delete: move them to another sheet, then refresh again."
                )


def identity(path: Path) -> list[int]:
    """What changes whenever the file does: a save by any program (a new file, or new bytes and times)."""
    st = os.stat(path)
    # st_ctime_ns is the change time on POSIX (no program sets it); on Windows a creation time, still new per save.
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _saved_record() -> dict:
    from pelotonxl.state import saved_workbooks_file

    try:
        data = json.loads(saved_workbooks_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def as_saved(path: Path) -> bool:
    """Is the workbook byte for byte as a checked save of this release left it?"""
    from pelotonxl.state import comparable_path

    try:
        return _saved_record().get(comparable_path(path)) == [identity(path), __version__]
    except OSError:
        return False


def _remember_saved(path: Path) -> None:
    """Record the file a checked save just wrote; a record that cannot be written only costs a full check."""
    from pelotonxl.state import comparable_path, saved_workbooks_file

    try:
        entry = {comparable_path(path): [identity(path), __version__]}
        entry.update((k, v) for k, v in _saved_record().items() if k not in entry)
        record = saved_workbooks_file()
        record.parent.mkdir(parents=True, exist_ok=True)
        with replacing(record) as temp:
            temp.write_text(json.dumps(dict(list(entry.items())[:MAX_SAVED])), encoding="utf-8")
    except OSError:
        pass


def _refuse_a_workbook_without_macros(pkg: xp.Package, path: Path) -> None:
    """An .xlsx (or a template) renamed .xlsm: Excel refuses to open a file whose content and name disagree,
    so writing into it would only hand back a file Excel rejects. Judged by the content, not the name."""
    kind = xp.workbook_content_type(pkg)
    if kind is None or kind == xp.MACRO_WORKBOOK_TYPE:
        return
    what = xp.WORKBOOK_KINDS.get(kind)
    inside = f"an {what} workbook" if what else f"a {kind.split('/')[-1]} document"
    raise WorkbookError(
        f"{path.name} holds {inside}, not a macro-enabled one, whatever its name says (Excel refuses to open it "
        f"as {path.suffix}): rename it back{f' to {what}' if what else ''} and give --workbook a new .xlsm path, "
        "which is created from the template."
    )


def _things_a_rewrite_drops(
    pkg: xp.Package, sheet: xp.SheetEntry, data_sheet: str | None = None, notes_move: bool = False
) -> list[str]:
    """What the member added to a sheet this writer regenerates, in words; [] if nothing. `notes_move`:
    its comments move with their rows, so only form controls in their drawing are a loss."""
    if not sheet.is_worksheet:
        return ["a chart or dialog sheet in place of a worksheet"]
    found: list[str] = []
    kinds = [rel.type.rsplit("/", 1)[-1] for rel in xp.read_rels(pkg, sheet.part)]
    for rel in xp.read_rels(pkg, sheet.part):
        if rel.type.endswith("/drawing") and pkg.has(rel.part):
            found += _drawing_contents(pkg.data(rel.part), _own_chart_rels(pkg, rel.part, data_sheet))
    commented = "comments" in kinds or "threadedComment" in kinds
    if commented and not notes_move:
        found.append("comments or notes")
    elif "vmlDrawing" in kinds and not (commented and _notes_only(pkg, sheet)):
        found.append("form controls or notes")
    if "pivotTable" in kinds:
        found.append("a pivot table")
    if kinds.count("table") > 1:
        found.append("another table")
    if any(k in kinds for k in ("oleObject", "control", "package")):
        found.append("embedded objects or controls")
    xml = pkg.text(sheet.part)
    if re.search(r"<(?:\w+:)?extLst\b", xml):
        found += [
            word
            for word, marker in (
                ("sparklines", "sparklineGroup"),
                ("slicers", "slicerList"),
                ("timelines", "timelineRef"),
            )
            if marker in xml
        ] or ["Excel 2010+ extras (data bars, icon sets or list validation)"]
    if "slicer" in " ".join(kinds) and "slicers" not in found:
        found.append("slicers")
    table = xp.table_part_of(pkg, sheet)
    if table and re.search(rb'totalsRowCount="[1-9]', pkg.data(table)):
        found.append("a totals row under its table")
    return found


def _notes_only(pkg: xp.Package, sheet: xp.SheetEntry) -> bool:
    """Do the sheet's VML drawings hold notes' boxes only (no form controls)?"""
    drawings = [r.part for r in xp.read_rels(pkg, sheet.part) if r.type == sheet_comments.REL_VML]
    return all(pkg.has(part) and sheet_comments.only_notes(pkg.text(part)) for part in drawings)


def _damaged_entry(path: Path) -> str | None:
    """The first zip entry whose data does not read back intact (bad CRC or compressed data, encrypted, a
    compression method zipfile lacks), or an XML part up to XML_CHECKED_BYTES that is not well-formed, if
    any: better refused up front, naming the part, than met halfway through a write. Read in chunks: a
    member's huge sheet is never held whole."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            xml = (
                info.filename.endswith((".xml", ".rels"))
                and not _WORKSHEET.fullmatch(info.filename)  # ours are rebuilt, the member's copied as they are
                and info.file_size <= XML_CHECKED_BYTES
            )
            parser = expat.ParserCreate() if xml else None
            try:
                with zf.open(info) as entry:
                    while chunk := entry.read(1 << 20):
                        if parser:
                            parser.Parse(chunk, False)
                    if parser:
                        parser.Parse(b"", True)
            except (*xp.ENTRY_READ_ERRORS, expat.ExpatError):
                return info.filename
    return None


def _missing_sheet_part(pkg: xp.Package) -> str | None:
    """A sheet the workbook lists whose part is not in the zip."""
    return next((sheet.part for sheet in xp.list_sheets(pkg) if not pkg.has(sheet.part)), None)


def _own_chart_rels(pkg: xp.Package, drawing: str, data_sheet: str | None) -> set[str]:
    """Relationship ids (in the drawing) of charts whose every series reads `data_sheet`."""
    if not data_sheet:
        return set()
    quoted = "'" + data_sheet.replace("'", "''") + "'!"
    ours = set()
    for rel in xp.read_rels(pkg, drawing):
        if rel.type.endswith("/chart") and pkg.has(rel.part):
            refs = [el.text or "" for el in ET.fromstring(pkg.data(rel.part)).iter() if el.tag.endswith("}f")]
            if refs and all(r.strip().lstrip("=").startswith((quoted, data_sheet + "!")) for r in refs):
                ours.add(rel.id)
    return ours


def _drawing_contents(drawing: bytes, own_chart_rels: Set[str] = frozenset()) -> list[str]:
    counts = {"shape": 0, "text box": 0, "picture": 0, "chart": 0, "slicer": 0, "embedded object": 0}
    root = ET.fromstring(drawing)
    ours = set()
    for frame in (el for el in root.iter() if el.tag.endswith("}graphicFrame")):
        rel_ids = {
            v for c in frame.iter() if c.tag.endswith("}chart") for k, v in c.attrib.items() if k.endswith("}id")
        }
        if rel_ids and rel_ids <= own_chart_rels:
            ours |= {id(el) for el in frame.iter()}
    for el in (el for el in root.iter() if id(el) not in ours):
        local = el.tag.rsplit("}", 1)[-1]
        if local == "sp" and any(c.get("txBox") in ("1", "true") for c in el.iter() if c.tag.endswith("}cNvSpPr")):
            counts["text box"] += 1
        elif local in ("sp", "cxnSp"):
            counts["shape"] += 1
        elif local == "pic":
            counts["picture"] += 1
        elif local == "graphicData":
            uri = el.get("uri", "")
            counts["chart" if "chart" in uri else "slicer" if "slicer" in uri else "embedded object"] += 1
    return [
        f"{n} {word}{'es' if n > 1 and word.endswith('x') else 's' if n > 1 else ''}" for word, n in counts.items() if n
    ]


def _temp_path(path: Path, pid: int) -> Path:
    return path.with_name(f"{TEMP_PREFIX}{path.name}.{pid}.tmp")


def save_atomically(pkg: xp.Package, path: Path, *, checked: bool = False) -> None:
    """Replace the workbook with `pkg`. `checked`: the caller vouches that its source passed every check
    of a refresh (`status_cells.check_writable`) and that it only rewrote our sheets and copied the rest,
    so what it writes passes them too: `check_workbook` skips the content checks while the file stays as saved."""
    busy = functools.partial(WorkbookError, f"{path.name} is open in another program: close it, then refresh again.")
    with replacing(path, _temp_path(path, os.getpid()), busy=busy) as temp:
        with open(temp, "wb") as stream:
            pkg.write_zip(stream)
        os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        pkg.close()  # Windows cannot replace a file that is still open
    if checked:
        _remember_saved(path)


def remove_stale_temps(path: Path) -> None:
    """Delete temp files of ours that a killed refresh left beside the workbook."""
    pattern = re.compile(re.escape(f"{TEMP_PREFIX}{path.name}.") + r"(\d+)\.tmp")
    for candidate in path.parent.glob(f"{TEMP_PREFIX}*.tmp"):
        match = pattern.fullmatch(candidate.name)
        if match and int(match.group(1)) != os.getpid() and not _process_alive(int(match.group(1)), candidate):
            candidate.unlink(missing_ok=True)


def _process_alive(pid: int, temp: Path) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl+C there; go by age instead
        return time.time() - temp.stat().st_mtime < 600
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
