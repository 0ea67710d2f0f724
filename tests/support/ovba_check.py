"""A VBA project read back with oletools and checked against MS-OVBA's structure (written for the tests,
apart from the package's own writer so it checks rather than repeats it).

- dir stream (2.3.4.2): PROJECTINFORMATION records in the order and sizes the spec gives,
  PROJECTREFERENCES, PROJECTMODULES (its count equal to the modules that follow, each MODULE record in
  order, cookie 0xFFFF or a value Office chose, never 0), then the Terminator and its Reserved 0 as the
  last bytes;
- PROJECT stream (2.3.1): one Document=/Module=/Class= line per module of the dir stream, and a
  [Workspace] section whose lines are all window records of known modules, with no blank line inside;
- each module's source, decompressed by oletools at the dir stream's MODULEOFFSET;
- _VBA_PROJECT (2.3.4.1): no compiled cache (Version 0xFFFF) once a module is source only.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import olefile
from oletools.olevba import VBA_Parser, decompress_stream

# (id, fixed size or None for any)
INFORMATION = [
    (0x0001, 4),  # SYSKIND
    (0x0002, 4),  # LCID
    (0x0014, 4),  # LCIDINVOKE
    (0x0003, 2),  # CODEPAGE
    (0x0004, None),  # NAME
    (0x0005, None),  # DOCSTRING
    (0x0040, None),  # DOCSTRING unicode
    (0x0006, None),  # HELPFILEPATH
    (0x003D, None),  # HELPFILEPATH 2
    (0x0007, 4),  # HELPCONTEXT
    (0x0008, 4),  # LIBFLAGS
    (0x0009, 4),  # VERSION (Reserved 4, then 6 bytes)
    (0x000C, None),  # CONSTANTS
    (0x003C, None),  # CONSTANTS unicode
]
REFERENCE_IDS = {0x0016, 0x003E, 0x0033, 0x002F, 0x0030, 0x000D, 0x000E}
MODULE_ORDER = [  # (id, size, optional)
    (0x0019, None, False),  # MODULENAME
    (0x0047, None, True),  # MODULENAMEUNICODE
    (0x001A, None, False),  # MODULESTREAMNAME
    (0x0032, None, False),  # its unicode
    (0x001C, None, False),  # MODULEDOCSTRING
    (0x0048, None, False),  # its unicode
    (0x0031, 4, False),  # MODULEOFFSET
    (0x001E, 4, False),  # MODULEHELPCONTEXT
    (0x002C, 2, False),  # MODULECOOKIE
]
PROCEDURAL, OTHER = 0x0021, 0x0022


@dataclass
class Module:
    name: str
    stream: str
    offset: int
    cookie: int
    procedural: bool


@dataclass
class Project:
    modules: list[Module] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    project_text: str = ""


def _records(data: bytes, problems: list[str]) -> list[tuple[int, bytes]]:
    records, at = [], 0
    while at < len(data):
        if at + 6 > len(data):
            problems.append(f"{len(data) - at} bytes after the last record")
            break
        rid, size = struct.unpack_from("<HI", data, at)
        if rid == 0x0009:
            records.append((rid, data[at + 6 : at + 12]))
            at += 12
            continue
        records.append((rid, data[at + 6 : at + 6 + size]))
        at += 6 + size
        if rid == 0x0010:
            if size != 0:
                problems.append(f"Terminator's Reserved is {size}, not 0")
            if at != len(data):
                problems.append(f"{len(data) - at} stray bytes after the dir stream's Terminator")
            break
    return records


def read_project(workbook: Path) -> Project:
    """The project of an .xlsm, with every departure from MS-OVBA found listed in `problems`."""
    with zipfile.ZipFile(workbook) as package:
        vba_bin = package.read("xl/vbaProject.bin")
    project = Project()
    problems = project.problems
    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    records = _records(bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read()))), problems)
    at = 0
    for rid, size in INFORMATION:
        if at < len(records) and records[at][0] == 0x004A and rid == 0x0002:  # optional COMPATVERSION
            at += 1
        if at >= len(records) or records[at][0] != rid:
            problems.append(f"PROJECTINFORMATION: record 0x{rid:04X} expected at {at}")
            return project
        if size is not None and rid != 0x0009 and len(records[at][1]) != size:
            problems.append(f"PROJECTINFORMATION: record 0x{rid:04X} of size {len(records[at][1])}")
        at += 1
    while at < len(records) and records[at][0] in REFERENCE_IDS:
        at += 1
    if at >= len(records) or records[at][0] != 0x000F:
        problems.append("PROJECTMODULES record missing after the references")
        return project
    (count,) = struct.unpack("<H", records[at][1])
    if records[at + 1][0] != 0x0013:
        problems.append("PROJECTCOOKIE missing")
    at += 2
    for _ in range(count):
        values: dict[int, bytes] = {}
        for rid, size, optional in MODULE_ORDER:
            if records[at][0] != rid:
                if optional:
                    continue
                problems.append(f"MODULE record 0x{rid:04X} expected, 0x{records[at][0]:04X} found")
                return project
            if size is not None and len(records[at][1]) != size:
                problems.append(f"MODULE record 0x{rid:04X} of size {len(records[at][1])}")
            values[rid] = records[at][1]
            at += 1
        kind = records[at][0]
        if kind not in (PROCEDURAL, OTHER) or records[at][1]:
            problems.append(f"MODULETYPE expected, 0x{kind:04X} found")
        at += 1
        while records[at][0] in (0x0025, 0x0028):  # READONLY, PRIVATE
            at += 1
        if records[at][0] != 0x002B:
            problems.append(f"MODULE Terminator expected, 0x{records[at][0]:04X} found")
        at += 1
        module = Module(
            name=values[0x0019].decode("latin-1"),
            stream=values[0x001A].decode("latin-1"),
            offset=struct.unpack("<I", values[0x0031])[0],
            cookie=struct.unpack("<H", values[0x002C])[0],
            procedural=kind == PROCEDURAL,
        )
        if module.cookie == 0:
            problems.append(f"module {module.name}: cookie 0 (MS-OVBA: 0xFFFF on write)")
        project.modules.append(module)
    if at >= len(records) or records[at][0] != 0x0010:
        problems.append("dir stream Terminator expected after the modules")
    elif at != len(records) - 1:
        problems.append("records after the Terminator")

    cache = ole.openstream("VBA/_VBA_PROJECT").read()
    if struct.unpack_from("<H", cache, 2)[0] != 0xFFFF and any(m.offset == 0 for m in project.modules):
        problems.append("source-only modules beside a compiled cache in _VBA_PROJECT (stale p-code)")
    text = ole.openstream("PROJECT").read().decode("latin-1")
    project.project_text = text
    _check_project_stream(text, project)
    for module in project.modules:  # the source at MODULEOFFSET, as oletools reads it
        raw = ole.openstream(f"VBA/{module.stream}").read()
        project.sources[module.name] = bytes(decompress_stream(bytearray(raw[module.offset :]))).decode("latin-1")
    parser = VBA_Parser("vbaProject.bin", data=vba_bin)
    names = sorted(stream.rsplit("/", 1)[-1] for _, stream, _, _ in parser.extract_macros())
    if names != sorted(m.stream for m in project.modules):
        problems.append(f"olevba extracts {names}, the dir stream lists {[m.stream for m in project.modules]}")
    return project


def _check_project_stream(text: str, project: Project) -> None:
    problems, names = project.problems, {m.name for m in project.modules}
    head, _, workspace = text.partition("[Workspace]\r\n")
    declared: dict[str, str] = {}
    for line in head.split("\r\n"):
        key, _, value = line.partition("=")
        if key in ("Document", "Module", "Class", "BaseClass"):
            declared[value.split("/")[0]] = key
    if set(declared) != names:
        problems.append(f"PROJECT declares {sorted(declared)}, the dir stream holds {sorted(names)}")
    for module in project.modules:
        if module.procedural and declared.get(module.name) != "Module":
            problems.append(f"{module.name} is a procedural module but PROJECT says {declared.get(module.name)}")
    if not workspace:
        return
    lines = workspace.split("\r\n")
    if lines[-2:] != ["", ""]:
        problems.append("the [Workspace] section does not end in one blank line")
    for number, line in enumerate(lines[:-2], start=1):
        if not line:
            problems.append(f"a blank line inside [Workspace] (its line {number})")
        elif line.split("=")[0] not in names:
            problems.append(f"[Workspace] names {line.split('=')[0]}, which is no module")
