"""Signing in: the password grant, the token store, renewal, fallbacks and the dead legacy login."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest
import requests
from support import PASSWORD, USERNAME, settings_for

from pelotonxl.errors import LoginError
from pelotonxl.peloton.auth import Authenticator, TokenStore, jwt_claims
from pelotonxl.peloton.client import PelotonClient


def make_auth(settings, clock=time.time, password_provider=None):
    store = TokenStore(settings.home_path, settings.username)
    return Authenticator(settings, store, requests.Session(), password_provider, clock=clock), store


def token_requests(server):
    return [r for r in server.requests if r.path == "/oauth/token"]


def test_password_grant_saves_an_owner_only_token_set(server, settings, account):
    auth, store = make_auth(settings)
    token = auth.access_token()
    assert jwt_claims(token)["http://onepeloton.com/user_id"] == account.user_id
    assert auth.user_id == account.user_id
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600
    saved = json.loads(store.path.read_text())
    assert saved["access_token"] == token and saved["refresh_token"]
    assert PASSWORD not in store.path.read_text()


def test_a_temp_token_file_left_by_a_killed_run_is_removed(server, settings):
    auth, store = make_auth(settings)
    store.path.parent.mkdir(parents=True)
    stale = store.path.with_suffix(".4242.tmp")
    stale.write_text('{"access_token": "left behind"}')
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    auth.access_token()
    assert not stale.exists() and store.path.exists()


def test_a_second_run_reuses_the_stored_token_without_signing_in(server, settings):
    make_auth(settings)[0].access_token()
    server.clear_requests()
    settings.password = ""  # the second run does not even need the password
    auth, _ = make_auth(settings)
    auth.access_token()
    assert token_requests(server) == []


def test_token_is_renewed_before_it_expires(server, settings):
    first, store = make_auth(settings)
    old = first.access_token()
    server.clear_requests()

    def later():
        return time.time() + 172800 - 60  # a minute before expiry, inside the margin

    auth, _ = make_auth(settings, clock=later)
    new = auth.access_token()
    bodies = [r for r in token_requests(server)]
    assert len(bodies) == 1 and new != old
    assert json.loads(store.path.read_text())["access_token"] == new


def test_401_renews_once_and_retries(server, settings, account):
    auth, _ = make_auth(settings)
    client = PelotonClient(settings, auth)
    client.user_id()
    server.fail_next(r"^/api/me$", status=401, times=1)
    assert client.get_json("/api/me")["id"] == account.user_id
    assert len(token_requests(server)) == 2  # the sign-in, then one renewal


def test_refused_refresh_token_falls_back_to_the_password(server, settings, account):
    make_auth(settings)[0].access_token()
    server.revoke_refresh_tokens()

    def later():
        return time.time() + 172800

    auth, _ = make_auth(settings, clock=later)
    assert jwt_claims(auth.access_token())["http://onepeloton.com/user_id"] == account.user_id
    grants = [r.status for r in token_requests(server)]
    assert grants[-2:] == [403, 200]  # refused refresh, then the password grant


def test_refused_refresh_token_without_password_says_how_to_sign_in(server, settings):
    make_auth(settings)[0].access_token()
    server.revoke_refresh_tokens()
    settings.password = ""
    auth, store = make_auth(settings, clock=lambda: time.time() + 172800)
    with pytest.raises(LoginError, match="PELOTON_PASSWORD"):
        auth.access_token()
    assert not store.path.exists()  # the dead token set is not kept


def test_wrong_password_names_the_credentials(server, home):
    settings = settings_for(server, home, password="wrong")
    auth, store = make_auth(settings)
    with pytest.raises(LoginError) as err:
        auth.access_token()
    assert USERNAME in str(err.value) and "Wrong email or password" in str(err.value)
    assert "wrong" not in str(err.value).replace("Wrong", "")
    assert not store.path.exists()


def test_only_one_password_sign_in_per_run(server, home):
    settings = settings_for(server, home, password="wrong")
    auth, _ = make_auth(settings)
    for _ in range(3):
        with pytest.raises(LoginError):
            auth.access_token()
    assert len(token_requests(server)) == 1  # never hammer the login endpoint


@pytest.mark.parametrize("setting", ["api_url", "auth_url"])
def test_a_configuration_pointing_at_the_dead_login_is_explained(server, home, setting):
    settings = settings_for(server, home, **{setting: server.url + "/auth/login"})
    auth, _ = make_auth(settings)
    with pytest.raises(LoginError, match="October 2025"):
        auth.access_token()
    assert server.requests == []


def test_legacy_endpoint_answer_is_explained(server, settings):
    """A proxy or old setting that routes the sign-in to /auth/login gets the plain story, not a 403."""
    legacy = requests.post(server.url + "/auth/login", json={"username_or_email": USERNAME, "password": PASSWORD})
    assert legacy.status_code == 403
    server.fail_next(r"^/oauth/token$", status=403, body=legacy.content)
    with pytest.raises(LoginError, match="October 2025"):
        make_auth(settings)[0].access_token()


def test_a_pasted_access_token_is_used_without_password(server, home, account):
    signed_in = make_auth(settings_for(server, home / "elsewhere"))[0]
    pasted = signed_in.access_token()
    settings = settings_for(server, home, username="", password="", access_token=pasted)
    server.clear_requests()
    auth, store = make_auth(settings)
    client = PelotonClient(settings, auth)
    assert client.user_id() == account.user_id
    assert token_requests(server) == []
    assert store.path.exists() and stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_password_prompt_is_used_when_no_password_is_set(server, home):
    settings = settings_for(server, home, password="")
    asked = []
    auth, _ = make_auth(settings, password_provider=lambda: asked.append(1) or PASSWORD)
    auth.access_token()
    assert asked == [1]


def test_no_account_at_all_is_one_clear_line(server, home):
    settings = settings_for(server, home, username="", password="")
    with pytest.raises(LoginError, match="PELOTON_USERNAME"):
        make_auth(settings)[0].access_token()
