"""A hostile server and machine, round two (issue 19): tokens, redirects, the token folder, TLS, deadlines.

Each story runs the CLI in this process against the local Peloton server; docs/what-happens-when.md has
a row for each.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from support import PASSWORD, USERNAME, one_line_error
from support.faulty_peloton import FaultyPeloton

from pelotonxl.demo.account import make_account
from pelotonxl.errors import ApiError
from pelotonxl.peloton import client as api
from pelotonxl.peloton import transport
from pelotonxl.peloton.auth import Authenticator, TokenStore

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")


def token_file(home: Path) -> Path:
    return TokenStore(home, USERNAME).path


def assert_secret_free(text: str, *secrets: str) -> None:
    assert PASSWORD not in text
    for secret in secrets:
        for piece in re.split(r"\s+", secret):
            if len(piece) >= 12:
                assert piece not in text


# --- tokens with a line break -------------------------------------------------------------------


def test_a_pasted_token_with_a_line_break_is_refused_in_one_line_never_quoted_or_saved(server, workbook, home, run_cli):
    token = server.mint_access_token()
    pasted = token[:40] + "\r\n" + token[40:]
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home, password=None, PELOTON_ACCESS_TOKEN=pasted)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "the pasted access token contains a line break" in line.lower()
    assert_secret_free(result.stdout + result.stderr, token[:40], token[40:])
    assert not token_file(home).exists()
    assert workbook.read_bytes() == before


def test_a_pasted_token_with_surrounding_whitespace_is_stripped_and_works(server, workbook, home, run_cli):
    token = server.mint_access_token()
    result = run_cli(server, workbook, home, password=None, PELOTON_ACCESS_TOKEN=f"  {token}\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(token_file(home).read_text())["access_token"] == token


@pytest.mark.parametrize(
    "sent",
    [
        lambda token: token[:30] + "\n" + token[30:],
        lambda token: token + " extra",
        lambda token: token + "\x1b[2J",
        lambda token: {"token": token},
        lambda token: 12345,
    ],
    ids=["line break", "space", "escape", "object", "number"],
)
def test_a_token_the_server_sends_that_no_header_can_carry_is_a_refused_sign_in(server, workbook, home, run_cli, sent):
    seen: list[str] = []

    def edit(body: dict, query: dict) -> dict:
        seen.append(body["access_token"])
        return {**body, "access_token": sent(body["access_token"])}

    server.rewrite(r"^/oauth/token$", edit)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "sent a token that cannot be used" in line and "unexpected" not in line.lower()
    assert_secret_free(result.stderr, *seen)
    assert not token_file(home).exists()  # never saved
    assert workbook.read_bytes() == before
    assert server.request_count("/api/") == 0  # never sent


def test_a_saved_token_with_a_line_break_is_dropped_and_the_member_signs_in_again(server, workbook, home, run_cli):
    path = token_file(home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"access_token": "abc\ndef", "refresh_token": "", "expires_at": 0}))
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr
    assert "\n" not in json.loads(path.read_text())["access_token"]


def test_a_request_error_quoting_a_header_is_said_without_it(settings, monkeypatch):
    """requests' InvalidHeader quotes the whole header value: only the error's kind reaches the member."""
    secret = "Bearer eyJhbGciOi.secret-token-value"

    class Refusing(requests.Session):
        def request(self, *args, **kwargs):
            raise requests.exceptions.InvalidHeader(f"Invalid leading whitespace in header: Authorization: {secret}")

    store = TokenStore(settings.home_path, settings.username)
    auth = Authenticator(settings, store, requests.Session())
    client = api.PelotonClient(settings, auth, http=Refusing())
    with pytest.raises(ApiError) as caught:
        client.get_json("/api/me")
    assert "secret-token-value" not in str(caught.value) and "InvalidHeader" in str(caught.value)


# --- redirects ----------------------------------------------------------------------------------


@pytest.fixture
def elsewhere():
    """Another server: a redirect to it leaves the origin."""
    with FaultyPeloton(make_account(3, seed=2), username=USERNAME, password=PASSWORD) as srv:
        yield srv


@pytest.mark.parametrize("status", [307, 308])
def test_the_sign_in_never_follows_a_redirect_to_another_host(server, elsewhere, workbook, home, run_cli, status):
    server.fail_next(r"^/oauth/token$", status=status, headers={"Location": f"{elsewhere.url}/oauth/token"})
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"redirected to another host (127.0.0.1:{elsewhere.url.rsplit(':', 1)[1]})" in line
    assert "not followed" in line
    assert elsewhere.requests == []  # the password went nowhere
    assert workbook.read_bytes() == before


def test_an_api_request_never_follows_a_redirect_to_another_host(server, elsewhere, workbook, home, run_cli):
    server.fail_next(r"/workouts$", status=302, headers={"Location": f"{elsewhere.url}/api/steal"})
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert "Peloton's API redirected to another host" in one_line_error(result)
    assert elsewhere.requests == []  # the token went nowhere


def test_a_redirect_on_the_same_server_is_followed(server, workbook, home, run_cli, account):
    server.fail_next(r"^/api/me$", status=301, headers={"Location": "/api/me"})
    result = run_cli(server, workbook, home)
    assert result.returncode == 0, result.stderr


def test_which_redirects_leave_the_origin():
    assert transport.refused_redirect("https://api.onepeloton.com/a", "http://api.onepeloton.com/a") == (
        "redirected from https to http"
    )
    assert "another host (evil.example)" in transport.refused_redirect("https://a.com/x", "https://evil.example/x")
    assert "another host (a.com:8443)" in transport.refused_redirect("https://a.com/x", "https://a.com:8443/x")
    assert "another host" in transport.refused_redirect("https://a.com/x", "ftp://a.com/x")
    assert transport.refused_redirect("https://a.com/x", "https://A.com:443/y") is None
    assert transport.refused_redirect("http://a.com/x", "https://a.com/y") is None  # an upgrade


# --- the token folder ---------------------------------------------------------------------------


def test_loosened_token_modes_are_tightened_on_the_next_load(server, workbook, home, run_cli):
    assert run_cli(server, workbook, home).returncode == 0
    path = token_file(home)
    os.chmod(path, 0o644)
    os.chmod(path.parent, 0o755)
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    assert [r for r in server.requests if r.path == "/oauth/token"] == []  # the saved token was reused
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_tokens_folder_that_is_a_symlink_is_refused_and_its_target_untouched(
    server, workbook, home, tmp_path, run_cli
):
    target = tmp_path / "shared folder"
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    home.mkdir()
    (home / "tokens").symlink_to(target)
    before = workbook.read_bytes()
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    assert "is a symbolic link" in one_line_error(result)
    assert list(target.iterdir()) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert workbook.read_bytes() == before


# --- TLS ----------------------------------------------------------------------------------------


@pytest.fixture
def self_signed_server(tmp_path):
    """A TLS server on 127.0.0.1 whose certificate no trust store knows."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def test_a_tls_failure_names_the_certificate(self_signed_server, server, workbook, home, run_cli):
    result = run_cli(server, workbook, home, PELOTON_AUTH_URL=self_signed_server)
    assert result.returncode == 1
    line = one_line_error(result)
    assert "certificate could not be verified" in line and "check your connection" not in line


# --- deadlines and size caps --------------------------------------------------------------------


def test_a_retry_after_beyond_the_budget_says_the_time_really_spent(server, workbook, home, run_cli, monkeypatch):
    from test_hostile import ScaledTime  # the scaled clock of round one

    scaled = ScaledTime(100.0)
    monkeypatch.setattr(api, "Pacer", functools.partial(api.Pacer, clock=scaled.clock, sleep=scaled.sleep))
    server.fail_next(r"/workouts$", status=429, times=100, headers={"Retry-After": "999999"})
    result = run_cli(server, workbook, home)
    assert result.returncode == 1
    seconds = int(re.search(r"kept failing for (\d+) seconds", one_line_error(result)).group(1))
    assert 120 <= seconds < 180  # one capped wait of 120 s, then the next would pass the 180 s budget


def test_a_body_dribbled_a_byte_at_a_time_ends_at_the_deadline(server, settings):
    server.dribble_next(r"^/api/me$", pause=0.05)
    store = TokenStore(settings.home_path, settings.username)
    auth = Authenticator(settings, store, api.new_session(1))
    client = api.PelotonClient(settings, auth, max_attempts=1, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(ApiError, match="after 1 tries"):
        client.get_json("/api/me")
    assert time.monotonic() - started < 5


def test_a_reply_past_the_size_cap_is_refused_as_it_streams(server, settings):
    server.huge_next(r"^/api/me$", megabytes=3)
    store = TokenStore(settings.home_path, settings.username)
    auth = Authenticator(settings, store, api.new_session(1))
    client = api.PelotonClient(settings, auth, max_bytes=2**20)
    with pytest.raises(ApiError, match=r"more than 1 MB for /api/me; not read"):
        client.get_json("/api/me")
