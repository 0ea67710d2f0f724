"""Secrets: the password and the tokens Peloton issues stay out of every file, log and output.

The one place a token may live is the token file (0600, in a 0700 folder); the password lives
nowhere, unless the member typed it into the Config sheet, and then the CLI offers to remove it.
"""

from __future__ import annotations

import os
import pty
import re
import socket
import stat
import subprocess
import sys
import zipfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import CLI, USERNAME, cli_in_process
from support.faulty_peloton import FaultyPeloton
from support.live_book import make_book
from support.workbook_samples import read_parts, type_into_config
from support.xlwings_autospec import real_api

from pelotonxl import ribbon
from pelotonxl.commands.demo import demo_settings
from pelotonxl.demo.account import make_account
from pelotonxl.peloton.auth import TokenStore
from pelotonxl.settings import resolve
from pelotonxl.xlsx import config_sheet

SECRET = "Zq7!peloton-XL-secret#Ω-2024"


class IssuedTokens:
    """Every access and id token the server signs, recorded as it hands them out."""

    def __init__(self, server: FaultyPeloton) -> None:
        self.values: list[str] = []
        for method in ("access_token", "id_token"):
            original = getattr(server.tokens, method)

            def recording(*args, _original=original, **kwargs):
                token = _original(*args, **kwargs)
                self.values.append(token)
                return token

            setattr(server.tokens, method, recording)


@pytest.fixture
def account():
    return make_account(30, seed=11)  # small: what matters here is where secrets end up


@pytest.fixture
def secret_server():
    # Short-lived tokens and some latency, so a run also renews its token with the refresh token.
    with FaultyPeloton(
        make_account(40, seed=3), username=USERNAME, password=SECRET, token_lifetime=2, latency=0.03
    ) as srv:
        yield srv


def env_for(server: FaultyPeloton, home: Path, tmp: Path, password: str | None = SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
    env.update(
        PELOTON_API_URL=server.url,
        PELOTON_AUTH_URL=server.url,
        PELOTON_USERNAME=USERNAME,
        PELOTON_XL_HOME=str(home),
        TMPDIR=str(tmp),
        TEMP=str(tmp),
        TMP=str(tmp),
    )
    if password is not None:
        env["PELOTON_PASSWORD"] = password
    return env


def run(
    server, workbook: Path, home: Path, tmp: Path, *args: str, password: str | None = SECRET, stdin=subprocess.DEVNULL
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(CLI), "--workbook", str(workbook), *args],
        env=env_for(server, home, tmp, password),
        stdin=stdin,
        capture_output=True,
        timeout=120,
    )
    assert b"Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def run_here(monkeypatch, capsys):
    """Like `run`, with the CLI in this process: for stories where the subprocess is not the point."""

    def run_in_process(server, workbook: Path, home: Path, tmp: Path, *args: str, password: str | None = SECRET):
        result = cli_in_process(
            monkeypatch, capsys, ["--workbook", str(workbook), *args], env_for(server, home, tmp, password)
        )
        return subprocess.CompletedProcess(
            result.args, result.returncode, result.stdout.encode(), result.stderr.encode()
        )

    return run_in_process


def needles(secrets: list[str]) -> list[bytes]:
    """Each secret, and the last stretch of each (a signature is enough to forge nothing, but a leak)."""
    out = []
    for value in secrets:
        out.append(value.encode())
        if len(value) > 40:
            out.append(value[-24:].encode())
    return out


def leaks_in(blob: bytes, secrets: list[str]) -> list[str]:
    return [n.decode() for n in needles(secrets) if n in blob]


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def workbook_blobs(path: Path) -> dict[str, bytes]:
    return {f"{path.name}:{name}": data for name, data in read_parts(path).items()}


@pytest.mark.e2e
def test_password_and_tokens_appear_in_no_file_log_or_output(secret_server, workbook, home, tmp_path):
    issued = IssuedTokens(secret_server)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    outputs = [run(secret_server, workbook, home, tmp, "-vv")]
    outputs.append(run(secret_server, workbook, home, tmp, "-vv", "--full"))
    assert [r.returncode for r in outputs] == [0, 0], outputs[-1].stderr
    token_file = TokenStore(home, USERNAME).path
    stored = token_file.read_text()
    refresh_token = re.search(r'"refresh_token": "([^"]+)"', stored).group(1)
    posts = [r.status for r in secret_server.requests if r.path == "/oauth/token"]
    assert len(issued.values) >= 4 and len(posts) >= 2  # signed in, then renewed with the refresh token
    secrets = [SECRET, refresh_token, *issued.values]

    found: dict[str, list[str]] = {}
    for result in outputs:
        for name, blob in (("stdout", result.stdout), ("stderr", result.stderr)):
            if leaks_in(blob, secrets):
                found[name] = leaks_in(blob, secrets)
    assert b"/api/workout/" in outputs[0].stderr  # -vv did log the requests
    blobs = {
        str(p): p.read_bytes()
        for p in files_under(home) + files_under(tmp) + files_under(workbook.parent)
        if p != token_file
    }
    blobs.update(workbook_blobs(workbook))
    for name, blob in blobs.items():
        if leaks_in(blob, secrets):
            found[name] = leaks_in(blob, secrets)
    assert found == {}
    assert SECRET not in stored  # the token file holds tokens, never the password


def test_the_ribbon_side_refresh_keeps_secrets_out_of_the_book_and_the_state_folder(secret_server, home):
    issued = IssuedTokens(secret_server)
    book = make_book(secret_server, home, password=SECRET)
    assert ribbon.refresh_book(real_api(book), environ={}) is not None
    secrets = [SECRET, *issued.values]
    config = book.sheets["Config"]
    typed = [key for key, value in config.cells.items() if value == SECRET]  # the member typed it there
    written = repr(
        [
            (sheet.name, key, value)
            for sheet in book.sheets
            for key, value in sheet.cells.items()
            if not (sheet is config and key in typed)
        ]
    )
    said = repr(book.app.status_history) + repr(book.app.alerts)
    assert leaks_in(written.encode() + said.encode(), secrets) == []
    token_file = TokenStore(home, USERNAME).path
    for path in files_under(home):
        if path != token_file:
            assert leaks_in(path.read_bytes(), secrets) == [], path


def test_token_file_is_owner_only_in_an_owner_only_folder(server, workbook, home, tmp_path, run_here):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_here(server, workbook, home, tmp, password="correct horse battery staple")
    assert result.returncode == 0, result.stderr
    token_file = TokenStore(home, USERNAME).path
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700
    assert list(token_file.parent.iterdir()) == [token_file]  # no temp copy left beside it


# --- a password typed into the Config sheet ----------------------------------------------------------


def test_a_password_in_the_config_sheet_works_and_the_cli_says_how_to_remove_it(
    server, workbook, home, tmp_path, run_here
):
    password = server.password
    type_into_config(workbook, "password", password)
    assert config_sheet.read_config(workbook)["password"] == password
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_here(server, workbook, home, tmp, password=None)
    assert result.returncode == 0, result.stderr
    assert b"Tip: your password sits in the Config sheet" in result.stderr
    assert b"clear that cell" in result.stderr

    assert config_sheet.remove_config_value(workbook, "password") is True
    assert config_sheet.read_config(workbook)["password"] == ""
    assert config_sheet.read_config(workbook)["username"] == ""  # nothing else blanked
    leaking = [name for name, data in read_parts(workbook).items() if password.encode() in data]
    assert leaking == []
    with zipfile.ZipFile(workbook) as zf:
        assert zf.testzip() is None

    again = run_here(server, workbook, home, tmp, password=None)  # the saved sign-in carries on
    assert again.returncode == 0, again.stderr
    assert b"Tip:" not in again.stderr


@pytest.mark.e2e
def test_at_a_terminal_the_cli_removes_the_config_password_when_the_member_agrees(server, workbook, home, tmp_path):
    password = server.password
    type_into_config(workbook, "password", password)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")  # the member's answer, waiting in the terminal
        result = run(server, workbook, home, tmp, password=None, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert b"remove it now?" in result.stdout and b"Password removed from the Config sheet." in result.stdout
    assert all(password.encode() not in data for data in read_parts(workbook).values())
    assert config_sheet.read_config(workbook)["password"] == ""


# --- local servers listen on the loopback interface only -------------------------------------------


def listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process pid listens on, read from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                address, port = fields[1].split(":")
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.append((address, int(port, 16)))
    return found


LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp spells it


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_the_fake_server_listens_on_127_0_0_1_only(server):
    mine = [(address, port) for address, port in listening(os.getpid()) if port == server.port]
    assert mine == [(LOOPBACK, server.port)]
    # And from another interface of this machine, nothing answers on that port.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outbound interface
        other = probe.getsockname()[0]
    if other.startswith("127."):
        pytest.skip("no interface besides loopback")
    with pytest.raises(OSError):
        socket.create_connection((other, server.port), timeout=1).close()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_the_demo_server_listens_on_127_0_0_1_only():
    # The server --demo starts, started the way the CLI starts it (the refresh after it is not the point).
    with ExitStack() as stack:
        settings = demo_settings(resolve({}, environ={}), stack)
        port = urlsplit(settings.api_url).port
        assert [(address, p) for address, p in listening(os.getpid()) if p == port] == [(LOOPBACK, port)]
