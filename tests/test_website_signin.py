"""The second way in: the Peloton website's sign-in (Flow B), the order of routes, and what a member is
told when a route breaks. Every step goes over HTTP to the local server, with its sign-in faults."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import support
from support import PASSWORD, USERNAME, settings_for
from support.faulty_peloton import FaultyPeloton
from support.live_book import make_book
from support.xlwings_autospec import real_api

from pelotonxl import ribbon
from pelotonxl.demo.account import make_account
from pelotonxl.demo.server import FakePeloton, Reply, Request
from pelotonxl.errors import ConfigError, LoginError
from pelotonxl.peloton.auth import Authenticator, TokenStore, jwt_claims
from pelotonxl.peloton.signin_routes import RouteMemory, route_order
from pelotonxl.peloton.transport import refused_redirect
from pelotonxl.peloton.web_signin import WebsiteSignIn, pkce_pair
from pelotonxl.settings import DEFAULT_CLIENT_ID, DEFAULT_WEB_CLIENT_ID, DEFAULT_WEB_REDIRECT_URL, resolve
from pelotonxl.state import StateFolder


def make_auth(settings):
    store = TokenStore(settings.home_path, settings.username)
    return Authenticator(settings, store, requests.Session()), store


def paths(server):
    return [r.path for r in server.requests]


# ---- the server's Flow B, step by step ---------------------------------------------------------


def _authorize_params(challenge: str, state: str = "s1") -> dict[str, str]:
    return {
        "client_id": DEFAULT_WEB_CLIENT_ID,
        "redirect_uri": DEFAULT_WEB_REDIRECT_URL,
        "response_type": "code",
        "scope": "offline_access openid peloton-api.members:default",
        "state": state,
        "nonce": "n1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def test_the_server_walks_every_step_of_the_website_sign_in(server, account):
    verifier, challenge = pkce_pair()
    web = requests.Session()
    first = web.get(f"{server.url}/authorize", params=_authorize_params(challenge), allow_redirects=False)
    assert first.status_code == 302 and first.headers["Location"].startswith("/login?")
    assert "auth0" in web.cookies
    page = web.get(server.url + first.headers["Location"], allow_redirects=False)
    assert page.status_code == 200 and "_csrf" in web.cookies
    txn = dict(parse_qsl(urlsplit(first.headers["Location"]).query))["state"]
    body = {"state": txn, "username": USERNAME, "password": PASSWORD, "_csrf": "forged"}
    assert web.post(f"{server.url}/usernamepassword/login", json=body).status_code == 403  # csrf checked
    body["_csrf"] = web.cookies["_csrf"]
    wrong = web.post(f"{server.url}/usernamepassword/login", json={**body, "password": "nope"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_user_password"
    form = web.post(f"{server.url}/usernamepassword/login", json=body)
    assert form.status_code == 200 and 'name="wresult"' in form.text and f"{server.url}/login/callback" in form.text
    wresult = form.text.split('name="wresult" value="')[1].split('"')[0]
    back = web.post(
        f"{server.url}/login/callback", data={"wa": "wsignin1.0", "wresult": wresult}, allow_redirects=False
    )
    resume = web.get(server.url + back.headers["Location"], allow_redirects=False)
    returned = urlsplit(resume.headers["Location"])
    assert f"{returned.scheme}://{returned.netloc}{returned.path}" == DEFAULT_WEB_REDIRECT_URL
    query = dict(parse_qsl(returned.query))
    assert query["state"] == "s1"
    exchange = {
        "grant_type": "authorization_code",
        "client_id": DEFAULT_WEB_CLIENT_ID,
        "code": query["code"],
        "redirect_uri": DEFAULT_WEB_REDIRECT_URL,
    }
    wrong_verifier = requests.post(f"{server.url}/oauth/token", json={**exchange, "code_verifier": "x" * 50})
    assert wrong_verifier.status_code == 403  # and that try used the code up, as Auth0 does
    again = requests.post(f"{server.url}/oauth/token", json={**exchange, "code_verifier": verifier})
    assert again.json()["error_description"] == "Invalid authorization code"


def test_a_code_is_good_once(server, settings):
    website = WebsiteSignIn(settings)
    grant = website.sign_in(USERNAME, PASSWORD)
    tokens = website.exchange(grant)
    assert jwt_claims(tokens["access_token"])["azp"] == DEFAULT_WEB_CLIENT_ID and tokens["refresh_token"]
    with pytest.raises(LoginError, match="Invalid authorization code"):
        website.exchange(grant)


# ---- the routes, as the Authenticator takes them ------------------------------------------------


def test_password_grant_switched_off_signs_in_by_the_website_and_remembers_it(server, settings, account):
    server.website.faults.add("no-password-grant")
    auth, store = make_auth(settings)
    token = auth.access_token()
    assert jwt_claims(token)["http://onepeloton.com/user_id"] == account.user_id
    assert auth.signed_in_by == "website"
    assert store.routes.load() == "website"
    saved = json.loads(store.path.read_text())
    assert saved["client_id"] == DEFAULT_WEB_CLIENT_ID
    assert "/usernamepassword/login" in paths(server)

    # The next sign-in goes straight to the website: no refused password grant first.
    store.clear()
    server.clear_requests()
    make_auth(settings)[0].access_token()
    assert "/authorize" in paths(server)
    assert not [r for r in server.requests if r.path == "/oauth/token" and r.status == 403]


def test_a_website_sign_in_is_renewed_by_the_website_client(server, settings):
    server.website.faults.add("no-password-grant")
    auth, store = make_auth(settings)
    old = auth.access_token()
    server.clear_requests()
    assert auth.token_rejected(old) != old  # the server renews a web refresh token only for the web client
    assert paths(server) == ["/oauth/token"]
    assert json.loads(store.path.read_text())["client_id"] == DEFAULT_WEB_CLIENT_ID


def test_a_saved_website_sign_in_is_renewed_by_the_website_client_in_a_later_run(server, settings):
    server.website.faults.add("no-password-grant")
    make_auth(settings)[0].access_token()
    server.clear_requests()
    settings.password = ""  # a later run: only the saved token set, read back from its file

    def later() -> float:
        return time.time() + 172800 - 60  # inside the renewal margin

    store = TokenStore(settings.home_path, settings.username)
    auth = Authenticator(settings, store, requests.Session(), clock=later)
    auth.access_token()
    assert [(r.path, r.status) for r in server.requests] == [("/oauth/token", 200)]


def test_the_usual_route_costs_no_website_request(server, settings):
    auth, store = make_auth(settings)
    auth.access_token()
    assert paths(server) == ["/oauth/token"] and auth.signed_in_by == "app"
    assert not store.routes.path.exists()  # the usual route needs no memory


@pytest.mark.parametrize(
    ("faults", "method", "words"),
    [
        (
            {"no-password-grant", "no-website"},
            "auto",
            ["refused both sign-ins", "not allowed for the client", "Client is not allowed", "paste an access token"],
        ),
        ({"no-csrf"}, "website", ["no _csrf cookie", "Sign-in method to auto or app", "paste an access token"]),
        ({"changed-form"}, "website", ["no sign-in form", "Sign-in method to auto or app", "paste an access token"]),
        ({"code-reused"}, "website", ["Invalid authorization code", "paste an access token"]),
        ({"no-password-grant"}, "app", ["Sign-in method to auto or website", "paste an access token"]),
        ({"no-password-grant", "no-csrf"}, "auto", ["refused both sign-ins", "no _csrf cookie", "paste an access"]),
    ],
)
def test_each_broken_route_ends_in_one_line_saying_what_to_try_next(server, home, faults, method, words):
    server.website.faults.update(faults)
    auth, store = make_auth(settings_for(server, home, signin_method=method))
    with pytest.raises(LoginError) as caught:
        auth.access_token()
    line = str(caught.value)
    assert "\n" not in line and PASSWORD not in line
    for word in words:
        assert word in line
    assert not store.path.exists()


def test_a_wrong_password_on_the_website_tries_no_other_route(server, home):
    server.website.faults.add("no-password-grant")
    auth, _ = make_auth(settings_for(server, home, password="wrong"))
    with pytest.raises(LoginError, match="Wrong email or password"):
        auth.access_token()
    # The app route was refused for the client, the website refused the password: nothing more.
    assert paths(server).count("/usernamepassword/login") == 1


def test_a_remembered_website_route_falls_back_to_the_app_when_the_website_breaks(server, settings):
    RouteMemory(StateFolder(settings.home), settings.username).save("website")
    server.website.faults.add("changed-form")
    auth, store = make_auth(settings)
    auth.access_token()
    assert auth.signed_in_by == "app" and not store.routes.path.exists()


def test_sign_in_method_token_never_sends_the_password(server, home):
    auth, _ = make_auth(settings_for(server, home, signin_method="token"))
    with pytest.raises(LoginError, match="Sign-in method is 'token'"):
        auth.access_token()
    assert server.requests == []


def test_sign_in_method_is_one_of_four_words():
    assert resolve(environ={"PELOTON_SIGNIN_METHOD": " Website "}).signin_method == "website"
    with pytest.raises(ConfigError, match="PELOTON_SIGNIN_METHOD must be one of auto, app, website, token"):
        resolve(environ={"PELOTON_SIGNIN_METHOD": "browser"})
    assert route_order("auto", None) == ["app", "website"]
    assert route_order("auto", "website") == ["website", "app"]
    assert route_order("website", "app") == ["website"]


# ---- the password goes nowhere but the sign-in host ------------------------------------------------


class _Elsewhere(FaultyPeloton):
    """A sign-in service whose pages point away from it: a redirect, or a form posting elsewhere."""

    target = ""
    step = "/authorize"

    def respond(self, request: Request) -> Reply:
        if request.path == self.step and self.step == "/authorize":
            return Reply(302, b"", "text/html", {"Location": f"{self.target}/login?state=x"})
        reply = super().respond(request)
        if request.path == self.step and reply.status == 200:
            reply.data = reply.data.replace(f"{self.url}/login/callback".encode(), f"{self.target}/steal".encode())
        return reply


@pytest.mark.parametrize("step", ["/authorize", "/usernamepassword/login"])
def test_the_sign_in_never_follows_a_page_to_another_host(home, step):
    with (
        FakePeloton(make_account(3, seed=2)) as other,
        _Elsewhere(make_account(3, seed=2), username=USERNAME, password=PASSWORD) as server,
    ):
        server.target, server.step = other.url, step
        server.website.faults.add("no-password-grant")
        auth, _ = make_auth(settings_for(server, home))
        with pytest.raises(LoginError, match="another host") as caught:
            auth.access_token()
        assert other.requests == []  # never asked: not the password, not the form
        assert "paste an access token" in str(caught.value)


def test_https_to_http_and_other_hosts_are_refused():
    origin = "https://auth.onepeloton.com"
    assert refused_redirect(origin, "https://auth.onepeloton.com/login?state=1") is None
    assert "https to http" in (refused_redirect(origin, "http://auth.onepeloton.com/login") or "")
    assert "another host" in (refused_redirect(origin, "https://auth.onepeloton.com.evil.example/login") or "")
    assert "another host" in (refused_redirect(origin, "https://auth.onepeloton.com:8443/login") or "")


# ---- what the member sees ----------------------------------------------------------------------


def test_cli_signs_in_by_the_website_when_the_password_grant_is_off(server, workbook, home, run_cli):
    server.website.faults.add("no-password-grant")
    done = support.run_cli(server, workbook, home, "-vv")  # a subprocess: -vv logs every request
    assert done.returncode == 0, done.stderr
    assert "/usernamepassword/login" in done.stderr
    assert "signed in through the Peloton website's sign-in" in done.stdout
    said = done.stdout + done.stderr
    assert PASSWORD not in said
    for secret in server.website.issued:  # cookies, form results and codes it handed out
        assert secret not in said
    saved = json.loads(TokenStore(home, USERNAME).path.read_text())
    assert saved["access_token"] not in said and saved["refresh_token"] not in said

    again = run_cli(server, workbook, home)
    assert again.returncode == 0 and "website" not in again.stdout  # a saved sign-in: nothing to say


def test_cli_with_both_routes_off_names_the_pasted_token_and_the_csv(server, workbook, home, run_cli):
    server.website.faults.update({"no-password-grant", "no-website"})
    done = run_cli(server, workbook, home)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "PELOTON_ACCESS_TOKEN" in done.stderr and "--import-csv" in done.stderr


def test_the_app_client_still_signs_in_when_only_the_website_is_broken(server, settings):
    server.website.faults.update({"no-website", "no-csrf", "changed-form", "code-reused"})
    auth, _ = make_auth(settings)
    assert jwt_claims(auth.access_token())["azp"] == DEFAULT_CLIENT_ID


def test_the_ribbon_says_when_the_website_signed_in(server, home):
    server.website.faults.add("no-password-grant")
    book = make_book(server, home)

    result = ribbon.refresh_book(real_api(book), environ={})

    assert result is not None and result.signed_in_by == "website"
    [alert] = book.app.alerts
    assert alert["mode"] == "info" and "Signed in through the Peloton website's sign-in" in alert["prompt"]
