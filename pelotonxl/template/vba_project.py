"""The VBA project (`xl/vbaProject.bin`) tidied to the form MS-OVBA describes and Office writes.

pyOpenVBA writes the modules correctly, and LibreOffice and oletools read them, but four details of its
project differ from what an Office application writes: 4 bytes after the `dir` stream's Terminator
record, a blank line inside the PROJECT stream's `[Workspace]` section (the new modules' window lines
follow the section's closing blank line) and a MODULECOOKIE of 0 for each module it adds (MS-OVBA
2.3.4.2.3.2.8: "MUST be 0xFFFF on write"); and an Excel-saved project keeps its compiled cache in
_VBA_PROJECT beside the source-only modules it adds. `tidy` rewrites those three streams; module streams
are left byte for byte.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

VBA_PART = "xl/vbaProject.bin"

TERMINATOR = 0x0010  # ends the dir stream, followed by a 4-byte Reserved of 0
PROJECT_VERSION = 0x0009  # its Size field is a Reserved 4, followed by 6 bytes (not 4)
MODULE_NAME = 0x0019
MODULE_COOKIE = 0x002C
COOKIE_ON_WRITE = 0xFFFF


@dataclass(frozen=True)
class Record:
    id: int
    body: bytes  # for PROJECTVERSION, the 6 bytes after its Reserved field

    def to_bytes(self) -> bytes:
        if self.id == PROJECT_VERSION:
            return struct.pack("<HI", self.id, 4) + self.body
        return struct.pack("<HI", self.id, len(self.body)) + self.body


def parse_dir(data: bytes) -> tuple[list[Record], bytes]:
    """The dir stream's records up to and including the Terminator, and whatever bytes follow it."""
    records: list[Record] = []
    at = 0
    while at + 6 <= len(data):
        rid, size = struct.unpack_from("<HI", data, at)
        if rid == PROJECT_VERSION:
            records.append(Record(rid, data[at + 6 : at + 12]))
            at += 12
            continue
        if at + 6 + size > len(data):
            raise ValueError(f"dir record 0x{rid:04X} at {at} runs past the end of the stream")
        records.append(Record(rid, data[at + 6 : at + 6 + size]))
        at += 6 + size
        if rid == TERMINATOR:
            return records, data[at:]
    raise ValueError("the dir stream has no Terminator record")


def tidy_dir(data: bytes) -> bytes:
    records, _stray = parse_dir(data)
    tidied = [
        Record(r.id, struct.pack("<H", COOKIE_ON_WRITE)) if r.id == MODULE_COOKIE and r.body == b"\0\0" else r
        for r in records
    ]
    return b"".join(r.to_bytes() for r in tidied)


def tidy_project_stream(text: bytes) -> bytes:
    """The PROJECT stream with its `[Workspace]` lines together and the one closing blank line Office writes."""
    head, marker, workspace = text.partition(b"[Workspace]\r\n")
    if not marker:
        return text
    lines = [line for line in workspace.split(b"\r\n") if line.strip()]
    return head + marker + b"".join(line + b"\r\n" for line in lines) + b"\r\n"


# _VBA_PROJECT without a performance cache (MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF, Reserved2
# 0x00, Reserved3 0x0000): Office compiles every module from its source on open.
VERSION_INDEPENDENT = bytes.fromhex("cc61ffff000000")


def tidy_project(vba_bin: bytes) -> bytes:
    """vbaProject.bin with its dir and PROJECT streams tidied, and without the compiled cache an Excel-saved
    project carries: the modules we write are source only, and a cache compiled before them is stale
    (LibreOffice then drops the project's other modules; Office would trust old p-code)."""
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import compress, decompress

    cfb = CFB.from_bytes(vba_bin)
    cfb.write_stream_at(["VBA"], "_VBA_PROJECT", VERSION_INDEPENDENT)
    cfb.write_stream_at(["VBA"], "dir", compress(tidy_dir(decompress(cfb.get_stream_at(["VBA"], "dir")))))
    cfb.write_stream_at([], "PROJECT", tidy_project_stream(cfb.get_stream_at([], "PROJECT")))
    return cfb.to_bytes()


def tidy(package: bytes) -> bytes:
    """An .xlsm's bytes with its VBA project tidied; every other entry as it was."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with source, zipfile.ZipFile(buffer, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            target.writestr(entry, tidy_project(data) if entry.filename == VBA_PART else data)
    return buffer.getvalue()
