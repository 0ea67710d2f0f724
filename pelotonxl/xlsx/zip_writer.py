"""Writing a workbook's zip. A part we changed is deflated anew; a part we did not change is copied as
its raw compressed bytes (local header, data, data descriptor), never inflated nor deflated again: a
member's sheet that expands to gigabytes costs a file copy, not minutes of recompression.

zipfile has no public way to copy an entry raw, so this module writes the whole archive itself (local
headers, central directory, ZIP64 records when sizes, offsets or the entry count need them). It reads
the source's central directory through zipfile (ZipInfo), and its local headers itself.

A raw copy trusts the central directory's CRC (checking it means inflating, which the copy exists to
avoid): the damage check before a write (safety.check_workbook) inflates every part once and verifies it,
unless the file is exactly as a checked save of ours left it, whose parts were verified then. It does
verify that the local header and the data descriptor agree with the central directory (signature,
name, compression method, CRC and sizes) and that the data is all there, raising DamagedEntry if not.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from typing import BinaryIO

# zipfile's own threshold for ZIP64 fields (a signed 32-bit bound some readers assume).
ZIP64_LIMIT = (1 << 31) - 1
CHUNK = 1 << 20  # a raw copy crosses in pieces this size

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # 30 bytes: signature … name length, extra length
_CENTRAL = struct.Struct("<4sBBBBHHHHIIIHHHHHII")  # 46 bytes
_DESCRIPTOR_SIG = b"PK\x07\x08"
_ZIP64_END = struct.Struct("<4sQHHLLQQQQ")  # 56 bytes
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_END = struct.Struct("<4sHHHHIIH")
_LOCAL_SIG = b"PK\x03\x04"
_ZIP64_EXTRA = 0x0001
_UTF8_NAME = 0x800
_DATA_DESCRIPTOR = 0x08
_MAX32 = 0xFFFFFFFF
_VERSION = 20  # what an entry without ZIP64 needs (deflate); zipfile writes the same
_VERSION_ZIP64 = 45


class DamagedEntry(Exception):
    """A source entry whose local header, data or data descriptor does not match the central directory."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.name = name


def dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    """(time, date) fields of a local or central header."""
    year, month, day, hour, minute, second = date_time
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


def zip64_extra(values: list[int]) -> bytes:
    """The ZIP64 extended information extra field holding `values` (8 bytes each, in the order the
    format lists them: uncompressed size, compressed size, local header offset)."""
    return struct.pack(f"<HH{len(values)}Q", _ZIP64_EXTRA, 8 * len(values), *values)


def without_field(extra: bytes, field_id: int) -> bytes:
    """An extra field block with every record of `field_id` removed (bytes past a malformed record kept)."""
    kept, i = [], 0
    while i + 4 <= len(extra):
        fid, size = struct.unpack_from("<HH", extra, i)
        if i + 4 + size > len(extra):
            break
        if fid != field_id:
            kept.append(extra[i : i + 4 + size])
        i += 4 + size
    return b"".join(kept) + extra[i:]


def _field(extra: bytes, field_id: int) -> bytes | None:
    i = 0
    while i + 4 <= len(extra):
        fid, size = struct.unpack_from("<HH", extra, i)
        if fid == field_id:
            return extra[i + 4 : i + 4 + size]
        i += 4 + size
    return None


def central_record(info: zipfile.ZipInfo, name: bytes, offset: int, *, extract_version: int | None = None) -> bytes:
    """The central directory record of an entry written at `offset`: ZIP64 fields for each of the sizes
    and the offset beyond ZIP64_LIMIT, the source's other extra fields kept, its old ZIP64 field dropped."""
    big = [v for v in (info.file_size, info.compress_size, offset) if v > ZIP64_LIMIT]
    extra = without_field(info.extra, _ZIP64_EXTRA)
    version = extract_version if extract_version is not None else info.extract_version
    if big:
        extra = zip64_extra(big) + extra
        version = max(version, _VERSION_ZIP64)
    time, date = dos_time(info.date_time)
    fixed = _CENTRAL.pack(
        b"PK\x01\x02",
        info.create_version,
        info.create_system,
        version,
        info.reserved,
        info.flag_bits,
        info.compress_type,
        time,
        date,
        info.CRC,
        _MAX32 if info.compress_size > ZIP64_LIMIT else info.compress_size,
        _MAX32 if info.file_size > ZIP64_LIMIT else info.file_size,
        len(name),
        len(extra),
        len(info.comment),
        0,
        info.internal_attr,
        info.external_attr,
        _MAX32 if offset > ZIP64_LIMIT else offset,
    )
    return fixed + name + extra + info.comment


class ZipWriter:
    """A zip written front to back onto `stream` (no seeking): add() for new content, copy_raw() for an
    entry of another zip taken as it is, close() for the central directory. Use as a context manager:
    the central directory is written only when the block ends without an exception."""

    def __init__(self, stream: BinaryIO) -> None:
        self._out = stream
        # Offsets count from the stream's start, as zipfile's do: a zip written after other bytes still reads.
        self._offset = stream.tell() if stream.seekable() else 0
        self._central: list[bytes] = []
        self._names: set[str] = set()

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)

    def _claim(self, name: str) -> None:
        if name in self._names:
            raise ValueError(f"duplicate zip entry {name!r}")
        self._names.add(name)

    def add(
        self,
        name: str,
        data: bytes,
        date_time: tuple[int, int, int, int, int, int],
        *,
        external_attr: int = 0,
        create_system: int = 0,
    ) -> None:
        """Deflate `data` (zlib's default level, as zipfile does) into a new entry."""
        self._claim(name)
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        packed = compressor.compress(data) + compressor.flush()
        info = zipfile.ZipInfo(name, date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.flag_bits = flags
        info.create_system, info.create_version, info.extract_version = create_system, _VERSION, _VERSION
        info.external_attr = external_attr
        info.CRC, info.file_size, info.compress_size = zlib.crc32(data), len(data), len(packed)
        info.extra = b""
        self._write_local(info, encoded, packed)

    def _write_local(self, info: zipfile.ZipInfo, name: bytes, packed: bytes) -> None:
        offset = self._offset
        sizes = [info.file_size, info.compress_size]
        zip64 = max(sizes) > ZIP64_LIMIT
        extra = zip64_extra(sizes) if zip64 else b""
        version = _VERSION_ZIP64 if zip64 else _VERSION
        time, date = dos_time(info.date_time)
        header = _LOCAL.pack(
            _LOCAL_SIG,
            version,
            info.flag_bits,
            info.compress_type,
            time,
            date,
            info.CRC,
            _MAX32 if zip64 else info.compress_size,
            _MAX32 if zip64 else info.file_size,
            len(name),
            len(extra),
        )
        self._write(header + name + extra)
        self._write(packed)
        self._central.append(central_record(info, name, offset, extract_version=version))

    def copy_raw(self, source: BinaryIO, info: zipfile.ZipInfo) -> None:
        """Copy the entry `info` of the zip open as `source` byte for byte: its local header, compressed
        data and data descriptor; its central record rebuilt for the new offset. DamagedEntry if the
        local header or data descriptor disagrees with `info` or the data is cut short."""
        self._claim(info.filename)
        name = info.filename

        def read_exactly(size: int, what: str) -> bytes:
            data = source.read(size)
            if len(data) != size:
                raise DamagedEntry(name, f"{what} cut short")
            return data

        source.seek(info.header_offset)
        header = read_exactly(_LOCAL.size, "local header")
        _sig, _version, flags, method, _t, _d, crc, csize, usize, name_len, extra_len = _LOCAL.unpack(header)
        if _sig != _LOCAL_SIG:
            raise DamagedEntry(name, "no local header where the central directory points")
        local_name = read_exactly(name_len, "local header")
        local_extra = read_exactly(extra_len, "local header")
        central_name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_NAME else "cp437")
        if local_name != central_name:
            raise DamagedEntry(name, "the local header names another entry")
        if method != info.compress_type:
            raise DamagedEntry(name, "the local header gives another compression method")
        if not flags & _DATA_DESCRIPTOR:
            self._check_sizes(info, crc, csize, usize, local_extra)
        offset = self._offset
        self._write(header + local_name + local_extra)
        left = info.compress_size
        while left:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                raise DamagedEntry(name, "compressed data cut short")
            self._write(chunk)
            left -= len(chunk)
        if flags & _DATA_DESCRIPTOR:
            self._write(self._descriptor(source, info, _field(local_extra, _ZIP64_EXTRA) is not None))
        self._central.append(central_record(info, central_name, offset))

    @staticmethod
    def _check_sizes(info: zipfile.ZipInfo, crc: int, csize: int, usize: int, extra: bytes) -> None:
        """The local header's CRC and sizes (ZIP64 ones from its extra field) against the central directory's."""
        if usize == _MAX32 or csize == _MAX32:
            wide = _field(extra, _ZIP64_EXTRA) or b""
            wanted = (usize == _MAX32) + (csize == _MAX32)
            if len(wide) < 8 * wanted:
                raise DamagedEntry(info.filename, "the local header's ZIP64 sizes are missing")
            values = list(struct.unpack_from(f"<{wanted}Q", wide))
            usize = values.pop(0) if usize == _MAX32 else usize
            csize = values.pop(0) if csize == _MAX32 else csize
        if (crc, csize, usize) != (info.CRC, info.compress_size, info.file_size):
            raise DamagedEntry(info.filename, "the local header's CRC or sizes differ from the central directory's")

    @staticmethod
    def _descriptor(source: BinaryIO, info: zipfile.ZipInfo, zip64: bool) -> bytes:
        """The data descriptor after an entry's data, as it is: with or without its signature, with 4- or
        8-byte sizes (8 when the local header has a ZIP64 field; the other width tried too, as some writers
        differ), whichever agrees with the central directory."""
        after = source.read(24)
        expected = (info.CRC, info.compress_size, info.file_size)
        signed = after[:4] == _DESCRIPTOR_SIG
        for width in ("Q", "L") if zip64 else ("L", "Q"):
            layout = struct.Struct(f"<L{width}{width}")
            for start in (4, 0) if signed else (0,):
                end = start + layout.size
                if len(after) >= end and layout.unpack_from(after, start) == expected:
                    return after[:end]
        raise DamagedEntry(info.filename, "its data descriptor differs from the central directory")

    def close(self) -> None:
        """Write the central directory and the end records (ZIP64 ones when the count, size or offset
        needs them)."""
        start = self._offset
        for record in self._central:
            self._write(record)
        size, count = self._offset - start, len(self._central)
        if count >= 0xFFFF or start > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end64 = self._offset
            self._write(
                _ZIP64_END.pack(b"PK\x06\x06", 44, _VERSION_ZIP64, _VERSION_ZIP64, 0, 0, count, count, size, start)
            )
            self._write(_ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
        self._write(
            _END.pack(
                b"PK\x05\x06", 0, 0, min(count, 0xFFFF), min(count, 0xFFFF), min(size, _MAX32), min(start, _MAX32), 0
            )
        )
        self._central = []
