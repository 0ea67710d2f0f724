"""A hostile server, round two (issue 19): a --full that would wipe the history, and a damaged store.

The CLI runs in this process against the local Peloton server; docs/what-happens-when.md has a row each.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import zipfile
from pathlib import Path

import pytest
from support import one_line_error, table_rows

from pelotonxl.peloton.store import WorkoutStore

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")

N = 40  # the conftest account


def stored(home: Path, account) -> int:
    with sqlite3.connect(WorkoutStore.path_for(home, account.user_id)) as db:
        return db.execute("SELECT COUNT(*) FROM workouts").fetchone()[0]


@pytest.fixture
def refreshed(server, workbook, home, run_cli, account):
    """A workbook and store holding the account's 40 workouts."""
    assert run_cli(server, workbook, home).returncode == 0
    assert stored(home, account) == N
    return workbook


def test_a_full_refresh_meeting_an_empty_list_refuses_and_changes_nothing(server, refreshed, home, run_cli, account):
    server.rewrite(r"/workouts$", lambda body, query: {**body, "data": [], "show_next": False})
    before = refreshed.read_bytes()
    result = run_cli(server, refreshed, home, "--full")
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"--full would remove {N} of the {N} stored workouts" in line
    assert "--full --allow-removals" in line
    assert refreshed.read_bytes() == before
    assert stored(home, account) == N


def test_a_full_refresh_whose_list_is_shorter_than_the_account_count_refuses(server, refreshed, home, run_cli, account):
    server.rewrite(r"/workouts$", lambda body, query: {**body, "data": body["data"][5:]})
    before = refreshed.read_bytes()
    result = run_cli(server, refreshed, home, "--full")
    assert result.returncode == 1
    assert f"Peloton's list held {N - 5} of the {N} workouts its account page counts" in one_line_error(result)
    assert refreshed.read_bytes() == before and stored(home, account) == N


def test_workouts_deleted_on_peloton_are_still_removed_by_a_full_refresh(server, refreshed, home, run_cli, account):
    server.rewrite(r"/workouts$", lambda body, query: {**body, "data": body["data"][5:]})
    server.rewrite(r"^/api/me$", lambda body, query: {**body, "total_workouts": N - 5})
    result = run_cli(server, refreshed, home, "--full")
    assert result.returncode == 0, result.stderr
    assert f"{N - 5} workouts (0 new, 5 removed)" in result.stdout
    assert stored(home, account) == N - 5


def test_allow_removals_removes_them_on_purpose(server, refreshed, home, run_cli, account):
    server.rewrite(r"/workouts$", lambda body, query: {**body, "data": [], "show_next": False})
    result = run_cli(server, refreshed, home, "--full", "--allow-removals")
    assert result.returncode == 0, result.stderr
    assert f"0 workouts (0 new, {N} removed)" in result.stdout
    assert stored(home, account) == 0
    assert all(cell is None for row in table_rows(refreshed, "Workouts") for cell in row)  # one blank row


def test_allow_removals_without_full_is_refused(server, workbook, home, run_cli):
    result = run_cli(server, workbook, home, "--allow-removals")
    assert result.returncode == 1
    assert "--allow-removals only applies to --full" in one_line_error(result)


# --- a damaged store ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"this is not a database, it was overwritten" * 100,
        lambda data: data[: len(data) // 3],
        lambda data: data[:4096] + b"\xff" * (len(data) - 4096),
    ],
    ids=["garbage", "truncated", "pages overwritten"],
)
def test_a_damaged_store_is_set_aside_and_rebuilt_from_peloton(server, refreshed, home, run_cli, account, damage):
    path = WorkoutStore.path_for(home, account.user_id)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path.write_bytes(damage(path.read_bytes()))
    result = run_cli(server, refreshed, home)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"The local store {path} was damaged (" in line and "rebuilt from Peloton" in line
    assert "unexpected" not in line.lower()
    (aside,) = path.parent.glob("store.damaged-*.sqlite")
    assert aside.name in line  # kept beside the new store, for whoever wants to look
    assert stored(home, account) == N
    assert len(table_rows(refreshed, "Workouts")) == N


def _overwrite_keeping_stamps(path: Path) -> None:
    """Garbage over every page but the header, in place: same inode and size, modification time put back
    (as a tool writing in place and restoring times would leave it)."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(bytes(range(256)) * ((st.st_size - 4096) // 256))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.path.getsize(path) == st.st_size


def test_a_store_overwritten_with_its_size_and_time_kept_is_still_checked(server, workbook, home, run_cli, account):
    assert run_cli(server, workbook, home).returncode == 0  # no other program opens the store after it
    path = WorkoutStore.path_for(home, account.user_id)
    _overwrite_keeping_stamps(path)
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"The local store {path} was damaged (" in line and "rebuilt from Peloton" in line
    assert stored(home, account) == N


def test_damage_no_stamp_shows_is_one_line_and_the_next_refresh_rebuilds(server, refreshed, home, run_cli, account):
    """A bad sector changes no stamp: the record still vouches for the file, so the check is skipped and the
    damage met mid-refresh. One line, the workbook untouched, and the next refresh checks the store."""
    from pelotonxl.peloton import store as store_module
    from pelotonxl.state import checked_store_record

    path = WorkoutStore.path_for(home, account.user_id)
    _overwrite_keeping_stamps(path)
    checked_store_record(path).write_text(json.dumps(store_module._file_identity(path)), encoding="utf-8")
    before = refreshed.read_bytes()
    result = run_cli(server, refreshed, home, "--full")
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"The local store {path} is damaged (database disk image is malformed): refresh again" in line
    assert refreshed.read_bytes() == before
    assert not checked_store_record(path).exists()
    again = run_cli(server, refreshed, home)
    assert again.returncode == 0, again.stderr
    assert "was damaged" in again.stderr and stored(home, account) == N


# --- damaged workbook parts -------------------------------------------------------------------------


def _rewrite_zip(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            new = edit(info.filename, data)
            if new is not None:
                zout.writestr(info, new)


@pytest.mark.parametrize(
    ("part", "damage", "said"),
    [
        ("xl/workbook.xml", b"<workbook", "xl/workbook.xml cannot be read back"),
        ("xl/_rels/workbook.xml.rels", b"<Relationships", "xl/_rels/workbook.xml.rels cannot be read back"),
        ("[Content_Types].xml", b"<Types", "[Content_Types].xml cannot be read back"),
        ("xl/tables/table1.xml", b"<table", "xl/tables/table1.xml cannot be read back"),
        ("xl/styles.xml", b"<styleSheet><x", "xl/styles.xml cannot be read back"),
        ("xl/worksheets/_rels/sheet1.xml.rels", b"\xff\xfe", "xl/worksheets/_rels/sheet1.xml.rels cannot be read back"),
        ("xl/worksheets/sheet1.xml", None, "its sheet part xl/worksheets/sheet1.xml is missing"),
    ],
)
def test_a_damaged_workbook_part_is_named_in_the_documented_line(server, workbook, home, run_cli, part, damage, said):
    _rewrite_zip(workbook, lambda name, data: damage if name == part else data)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"Book.xlsm is damaged ({said}): restore it from a backup" in line
    assert workbook.read_bytes() == before
    assert server.request_count("/api/") == 0  # refused before any request


def _mark_entry(path: Path, part: str, *, flags: int = 0, method: int | None = None) -> None:
    """Set general-purpose flags (1: encrypted) or the compression method of one entry, in its local header
    and its central record alike, the data left as it is: a zip another tool wrote that way."""
    with zipfile.ZipFile(path) as zf:
        info, record = zf.getinfo(part), zf.start_dir
    raw = bytearray(path.read_bytes())

    def mark(at: int) -> None:  # `at`: the flags field; the method follows it
        struct.pack_into("<H", raw, at, struct.unpack_from("<H", raw, at)[0] | flags)
        if method is not None:
            struct.pack_into("<H", raw, at + 2, method)

    mark(info.header_offset + 6)
    while raw[record : record + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", raw, record + 28)
        if raw[record + 46 : record + 46 + name_len] == part.encode():
            mark(record + 8)
        record += 46 + name_len + extra_len + comment_len
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("part", "flags", "method"),
    [
        ("xl/vbaProject.bin", 1, None),  # encrypted: zipfile wants a password
        ("[Content_Types].xml", 1, None),  # read while opening the package, before the damage check
        ("xl/styles.xml", 0, 9),  # Deflate64, which zipfile cannot inflate
        ("xl/worksheets/sheet2.xml", 0, 99),  # WinZip's AES marker
        ("xl/workbook.xml", 0, 12),  # said to be bzip2, deflated in fact
    ],
    ids=["encrypted", "encrypted content types", "deflate64", "aes", "bzip2 label"],
)
def test_an_encrypted_or_unreadably_compressed_part_is_the_damaged_line(
    server, workbook, home, run_cli, part, flags, method
):
    _mark_entry(workbook, part, flags=flags, method=method)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"Book.xlsm is damaged ({part} cannot be read back): restore it from a backup" in line
    assert workbook.read_bytes() == before
    assert server.request_count("/api/") == 0


def test_json_nested_200000_deep_is_one_line(server, workbook, home, run_cli):
    server.fail_next(r"/workouts$", status=200, body=b"[" * 200_000 + b"]" * 200_000)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert "Peloton sent JSON nested too deep to read for /api/user/" in one_line_error(result)
    assert workbook.read_bytes() == before
