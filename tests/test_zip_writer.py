"""zip_writer: untouched entries copied as raw compressed bytes, new ones deflated, read back by zipfile.

The source zips are generated two ways: by zipfile (seekable, or unseekable so it writes data descriptors,
with or without ZIP64 local fields) and by a small writer in this file that makes what zipfile never
writes (descriptors without their signature, 8-byte descriptor sizes, ZIP64 fields in the central
directory of small entries, cp437 names, extra fields and comments). zipfile is the judge: every output
opens, testzip() finds nothing, and each entry reads back as the source's did.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelotonxl.errors import WorkbookError
from pelotonxl.xlsx import package as xp
from pelotonxl.xlsx import zip_writer as zw

DATE = (2024, 2, 29, 13, 37, 58)


# --- a second, independent writer of source zips --------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes
    method: int  # 0 stored, 8 deflated
    descriptor: str  # "none", "signed", "unsigned"
    zip64_local: bool  # a ZIP64 field in the local header (8-byte descriptor sizes when there is one)
    zip64_central: bool  # a ZIP64 field in the central record, though nothing needs it
    utf8: bool  # the name in UTF-8 with flag bit 11, else cp437
    extra: bytes  # another extra field, in both headers
    comment: bytes


def hand_made_zip(entries: list[Entry], prefix: bytes = b"") -> bytes:
    out = bytearray(prefix)
    central = bytearray()
    for e in entries:
        packed = e.data if e.method == 0 else zlib.compress(e.data, 9)[2:-4]
        crc, size, csize = zlib.crc32(e.data), len(e.data), len(packed)
        name = e.name.encode("utf-8" if e.utf8 else "cp437")
        flags = (0x800 if e.utf8 else 0) | (0x08 if e.descriptor != "none" else 0)
        local_extra = (struct.pack("<HHQQ", 1, 16, size, csize) if e.zip64_local else b"") + e.extra
        known = (0, 0, 0) if e.descriptor != "none" else (crc, csize, size)
        if e.zip64_local:
            known = (known[0], 0xFFFFFFFF, 0xFFFFFFFF)
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 45, flags, e.method, 0x6BBD, 0x585D, *known, len(name), len(local_extra)
        )
        out += name + local_extra + packed
        if e.descriptor != "none":
            out += b"PK\x07\x08" if e.descriptor == "signed" else b""
            out += struct.pack("<LQQ" if e.zip64_local else "<LLL", crc, csize, size)
        if e.zip64_central:
            central_extra = struct.pack("<HHQQQ", 1, 24, size, csize, offset) + e.extra
            fields = (0xFFFFFFFF, 0xFFFFFFFF)
            at = 0xFFFFFFFF
        else:
            central_extra, fields, at = e.extra, (csize, size), offset
        central += struct.pack(
            "<4sBBBBHHHHIIIHHHHHII",
            b"PK\x01\x02",
            45,
            3,
            45,
            0,
            flags,
            e.method,
            0x6BBD,
            0x585D,
            crc,
            *fields,
            len(name),
            len(central_extra),
            len(e.comment),
            0,
            1,
            0o100644 << 16,
            at,
        )
        central += name + central_extra + e.comment
    start = len(out)
    out += central
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes a data descriptor after each entry."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)


def zipfile_made_zip(entries: list[Entry], *, seekable: bool) -> bytes:
    stream: io.BytesIO | Unseekable = io.BytesIO() if seekable else Unseekable()
    with zipfile.ZipFile(stream, "w") as zf:  # type: ignore[arg-type]
        for e in entries:
            info = zipfile.ZipInfo(e.name, DATE)
            info.compress_type = e.method
            info.comment = e.comment
            with zf.open(info, "w", force_zip64=e.zip64_local) as part:
                part.write(e.data)
    return stream.getvalue() if isinstance(stream, io.BytesIO) else bytes(stream.buffer)


# --- strategies -----------------------------------------------------------------------------------

names = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\\"), min_size=1, max_size=30
)
datas = st.one_of(
    st.just(b""),
    st.binary(max_size=3000),
    st.builds(lambda s, n: s * n, st.binary(min_size=1, max_size=20), st.integers(1, 5000)),  # compressible
)


@st.composite
def entry_lists(draw) -> list[Entry]:
    unique = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    entries = []
    for name in unique:
        utf8 = draw(st.booleans())
        if not utf8:  # a name without the UTF-8 flag is cp437 bytes
            name = name.encode("cp437", "replace").decode("cp437")
        entries.append(
            Entry(
                name=name,
                data=draw(datas),
                method=draw(st.sampled_from([0, 8])),
                descriptor=draw(st.sampled_from(["none", "signed", "unsigned"])),
                zip64_local=draw(st.booleans()),
                zip64_central=draw(st.booleans()),
                utf8=utf8,
                extra=draw(st.sampled_from([b"", struct.pack("<HHBL", 0x5455, 5, 1, 1700000000)])),
                comment=draw(st.sampled_from([b"", b"note", "é".encode()])),
            )
        )
    if len({e.name for e in entries}) < len(entries):  # cp437 replacement made two names one
        entries = list({e.name: e for e in entries}.values())
    return entries


def field_ids(extra: bytes) -> list[int]:
    ids, i = [], 0
    while i < len(extra):
        fid, size = struct.unpack_from("<HH", extra, i)
        ids.append(fid)
        i += 4 + size
    return ids


def spans(raw: bytes) -> dict[str, bytes]:
    """Each entry's bytes from its local header to the next entry's (or the central directory)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
        ends = [i.header_offset for i in infos[1:]] + [zf.start_dir]  # type: ignore[attr-defined]
    return {info.filename: raw[info.header_offset : end] for info, end in zip(infos, ends, strict=True)}


def copy_all(raw: bytes, replace: dict[str, bytes] | None = None, prefix: bytes = b"") -> bytes:
    """Every entry of `raw` copied raw into a new zip, except those in `replace`, added anew."""
    replace = replace or {}
    source, out = io.BytesIO(raw), io.BytesIO()
    out.write(prefix)
    with zipfile.ZipFile(source) as zf, zw.ZipWriter(out) as writer:
        for info in zf.infolist():
            if info.filename in replace:
                writer.add(info.filename, replace[info.filename], info.date_time)
            else:
                writer.copy_raw(source, info)
    return out.getvalue()


def assert_same_entries(original: bytes, copied: bytes, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(original)) as a, zipfile.ZipFile(io.BytesIO(copied)) as b:
        assert b.testzip() is None
        assert b.namelist() == a.namelist()
        for before, after in zip(a.infolist(), b.infolist(), strict=True):
            assert b.read(after) == replace.get(before.filename, a.read(before))
            assert after.date_time == before.date_time
            if before.filename not in replace:
                assert after.comment == before.comment
                assert (after.compress_type, after.CRC, after.flag_bits) == (
                    before.compress_type,
                    before.CRC,
                    before.flag_bits,
                )
                assert (after.external_attr, after.create_system) == (before.external_attr, before.create_system)
    old, new = spans(original), spans(copied)
    for name in old:
        if name not in replace:
            assert new[name] == old[name]  # local header, data and descriptor, byte for byte


# --- properties -----------------------------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(entries=entry_lists(), data=st.data())
def test_hand_made_zips_copied_raw_read_back_entry_by_entry(entries, data):
    raw = hand_made_zip(entries)
    replace = {e.name: data.draw(datas) for e in entries if data.draw(st.booleans(), label=f"replace {e.name}")}
    assert_same_entries(raw, copy_all(raw, replace), replace)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(entries=entry_lists(), seekable=st.booleans())
def test_zipfile_made_zips_with_and_without_descriptors_copied_raw(entries, seekable):
    raw = zipfile_made_zip(entries, seekable=seekable)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert all(bool(i.flag_bits & 0x08) != seekable for i in zf.infolist())  # descriptors where meant
    assert_same_entries(raw, copy_all(raw), {})


# --- ZIP64 ----------------------------------------------------------------------------------------


def test_offsets_past_the_zip64_limit_get_zip64_records_that_zipfile_reads(tmp_path):
    """The new zip starts 3 GiB into a sparse file: every offset needs ZIP64, in each central record and
    in the end records. Costs a few kilobytes of disk."""
    entries = [
        Entry("a.xml", b"<a/>" * 100, 8, "none", False, False, True, b"", b""),
        Entry("b/é.bin", b"", 0, "signed", True, False, True, b"", b""),
    ]
    source = hand_made_zip(entries)
    path = tmp_path / "far.zip"
    with open(path, "wb") as out:
        out.seek(3 << 30)
        with zipfile.ZipFile(io.BytesIO(source)) as zf, zw.ZipWriter(out) as writer:
            for info in zf.infolist():
                writer.copy_raw(io.BytesIO(source), info)
            writer.add("new.xml", b"<new/>", DATE)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert [i.header_offset > zw.ZIP64_LIMIT for i in zf.infolist()] == [True] * 3
        assert zf.read("a.xml") == b"<a/>" * 100 and zf.read("b/é.bin") == b"" and zf.read("new.xml") == b"<new/>"
    with open(path, "rb") as written:
        written.seek(3 << 30)
        tail = written.read()
    assert b"PK\x06\x06" in tail and b"PK\x06\x07" in tail


def test_a_central_record_for_sizes_past_the_limit_is_what_zipfile_parses():
    """The record of a 5 GiB part compressed to 3 GiB at offset 6 GiB, read by zipfile's own parser."""
    info = zipfile.ZipInfo("xl/worksheets/sheet99.xml", DATE)
    info.compress_type, info.CRC = zipfile.ZIP_DEFLATED, 0x12345678
    info.file_size, info.compress_size = 5 << 30, 3 << 30
    info.extra = struct.pack("<HHQ", 1, 8, 1) + struct.pack("<HHBL", 0x5455, 5, 1, 1700000000)  # a stale ZIP64 field
    record = zw.central_record(info, info.filename.encode(), 6 << 30)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(record), 0, 0)
    with zipfile.ZipFile(io.BytesIO(record + end)) as zf:
        [parsed] = zf.infolist()
    assert (parsed.file_size, parsed.compress_size, parsed.header_offset) == (5 << 30, 3 << 30, 6 << 30)
    assert parsed.extract_version == 45 and parsed.CRC == 0x12345678
    assert field_ids(parsed.extra) == [0x0001, 0x5455]  # the stale ZIP64 field replaced, the other kept


def test_only_the_offset_past_the_limit_takes_a_zip64_field():
    info = zipfile.ZipInfo("small.xml", DATE)
    info.file_size, info.compress_size, info.CRC = 100, 50, 0
    record = zw.central_record(info, b"small.xml", (1 << 31) + 5)
    fields = struct.unpack_from("<4sBBBBHHHHIIIHHHHHII", record)
    assert fields[10:12] == (50, 100) and fields[-1] == 0xFFFFFFFF
    assert record[46 + 9 :][:12] == struct.pack("<HHQ", 1, 8, (1 << 31) + 5)


def test_65535_entries_take_the_zip64_end_records():
    out = io.BytesIO()
    with zw.ZipWriter(out) as writer:
        for n in range(0xFFFF):
            writer.add(f"{n}", b"", DATE)
    with zipfile.ZipFile(out) as zf:
        assert len(zf.infolist()) == 0xFFFF and zf.read("65534") == b""
    assert b"PK\x06\x06" in out.getvalue()[-200:]


# --- damage ---------------------------------------------------------------------------------------


def one_entry(descriptor: str = "none") -> tuple[bytes, zipfile.ZipInfo]:
    raw = hand_made_zip(
        [Entry("xl/worksheets/sheet9.xml", b"<row/>" * 500, 8, descriptor, False, False, True, b"", b"")]
    )
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return raw, zf.infolist()[0]


@pytest.mark.parametrize(
    ("where", "why"),
    [
        (4 + 2 + 2 + 2 + 2 + 2, "CRC or sizes"),  # the local header's CRC
        (4 + 2 + 2 + 2 + 2 + 2 + 4, "CRC or sizes"),  # its compressed size
        (4 + 2 + 2, "compression method"),
        (30, "names another entry"),
        (0, "no local header"),
    ],
)
def test_a_local_header_that_disagrees_with_the_central_directory_is_damage(where, why):
    raw, info = one_entry()
    bad = bytearray(raw)
    bad[where] ^= 0x01
    with pytest.raises(zw.DamagedEntry, match=why) as caught:
        zw.ZipWriter(io.BytesIO()).copy_raw(io.BytesIO(bytes(bad)), info)
    assert caught.value.name == "xl/worksheets/sheet9.xml"


@pytest.mark.parametrize("descriptor", ["signed", "unsigned"])
def test_a_data_descriptor_that_disagrees_is_damage(descriptor):
    raw, info = one_entry(descriptor)
    bad = bytearray(raw)
    bad[info.header_offset + 30 + len(info.filename) + info.compress_size + (4 if descriptor == "signed" else 0)] ^= 1
    with pytest.raises(zw.DamagedEntry, match="data descriptor"):
        zw.ZipWriter(io.BytesIO()).copy_raw(io.BytesIO(bytes(bad)), info)


def test_data_cut_short_is_damage_and_nothing_is_finished():
    raw, info = one_entry()
    out = io.BytesIO()
    with pytest.raises(zw.DamagedEntry, match="cut short"):
        with zw.ZipWriter(out) as writer:
            writer.copy_raw(io.BytesIO(raw[: 30 + len(info.filename) + 10]), info)
    assert b"PK\x05\x06" not in out.getvalue()  # no central directory for a failed write


def test_a_damaged_untouched_part_is_the_documented_line_naming_it(tmp_path):
    """Package.write_zip, as a refresh's save calls it: the local header of an untouched part disagrees."""
    path = tmp_path / "Book.xlsm"
    raw = bytearray((Path(__file__).parents[1] / "PelotonWorkbook.xlsm").read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo("xl/vbaProject.bin")
    raw[info.header_offset + 14] ^= 0xFF  # its CRC in the local header
    path.write_bytes(bytes(raw))
    with xp.open_package(path) as pkg, pytest.raises(WorkbookError) as caught:
        pkg.write_zip(io.BytesIO())
    assert str(caught.value) == (
        "Book.xlsm is damaged (xl/vbaProject.bin cannot be read back): restore it from a backup, or move it away "
        "and refresh to start from a new workbook."
    )


def test_the_workbook_round_trips_with_untouched_parts_raw_and_edited_ones_deflated(tmp_path):
    source = Path(__file__).parents[1] / "PelotonWorkbook.xlsm"
    out = io.BytesIO()
    with xp.open_package(source) as pkg:
        pkg.put("xl/worksheets/sheet1.xml", pkg.data("xl/worksheets/sheet1.xml") + b"<!-- edited -->")
        pkg.put("xl/nouvelle é.xml", "<x/>")
        pkg.write_zip(out)
    raw = source.read_bytes()
    with zipfile.ZipFile(source) as zf:
        edited = {"xl/worksheets/sheet1.xml": zf.read("xl/worksheets/sheet1.xml") + b"<!-- edited -->"}
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist()[-1] == "xl/nouvelle é.xml" and zf.read("xl/nouvelle é.xml") == b"<x/>"
        assert zf.getinfo("xl/nouvelle é.xml").flag_bits & 0x800
    trimmed = io.BytesIO()
    with zipfile.ZipFile(out) as zf, zw.ZipWriter(trimmed) as writer:  # the same zip without the new part
        for info in zf.infolist()[:-1]:
            writer.copy_raw(out, info)
    assert_same_entries(raw, trimmed.getvalue(), edited)
