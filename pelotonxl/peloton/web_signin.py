"""The Peloton website's sign-in (Flow B in the shared notes): the second route in, when the app's
password sign-in is refused.

Auth0's hosted login, driven as a browser would: `/authorize` with a PKCE challenge (redirects and
cookies, among them `_csrf`), the password posted as JSON to `/usernamepassword/login`, the hidden
form it answers submitted to `/login/callback`, and redirects followed to the website's return URL,
whose `code` the caller exchanges at `/oauth/token` with the PKCE verifier.

Every request goes to the Sign-in URL's own origin: a redirect to another host, or from https to
http, is refused, and the return URL is never opened (its code is read from the redirect itself).
Nothing here logs a URL with a code in it, a cookie or the password.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from pelotonxl.errors import LoginError
from pelotonxl.peloton.transport import refused_redirect, send
from pelotonxl.settings import Settings

log = logging.getLogger(__name__)

TENANT = "peloton-prod"
CONNECTION = "pelo-user-password"
WEB_SCOPE = "offline_access openid peloton-api.members:default"
MAX_REDIRECTS = 10
TIMEOUT = (10, 30)


class RouteBroken(LoginError):
    """This route cannot sign anyone in right now (refused for the client, a page not as expected):
    another route may still work. A wrong password is a plain LoginError: no other route helps."""


@dataclass(frozen=True)
class Grant:
    """What the website hands back: a one-time code, and the verifier that proves we asked for it."""

    code: str
    verifier: str
    redirect_uri: str


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class _HiddenForm(HTMLParser):
    """The first <form> of a page: its action and its hidden fields (Auth0's `wa`, `wresult`, `wctx`)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        values = {k.lower(): v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and values.get("type", "").lower() == "hidden" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside, self._done = False, True


class WebsiteSignIn:
    """One website sign-in, on a session of its own (its cookie jar is this sign-in's alone)."""

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.base = settings.auth_url.rstrip("/")
        self.http = session or requests.Session()
        self.http.trust_env = False  # no ~/.netrc login, no proxy picked from the environment mid-sign-in
        self.requests_made = 0

    def sign_in(self, username: str, password: str) -> Grant:
        """The code and verifier of a completed website sign-in. Raises RouteBroken when the website's
        sign-in does not go as it should, LoginError when Peloton refuses the email or password."""
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        redirect_uri = self.settings.web_redirect_url
        params = {
            "client_id": self.settings.web_client_id,
            "audience": self.settings.web_audience,
            "scope": WEB_SCOPE,
            "response_type": "code",
            "response_mode": "query",
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page, back = self._follow("GET", f"{self.base}/authorize?{urlencode(params)}")
        if back is not None:
            self._returned(back, state)  # refused before any page: it raises
        csrf = self._cookie("_csrf")
        if not csrf:
            raise RouteBroken("its sign-in page set no _csrf cookie")
        login_state = dict(parse_qsl(urlsplit(page.url).query)).get("state") or state
        log.debug("website sign-in: login page reached; posting the password to %s", self.base)
        body = {
            "client_id": self.settings.web_client_id,
            "redirect_uri": redirect_uri,
            "tenant": TENANT,
            "response_type": "code",
            "scope": WEB_SCOPE,
            "audience": self.settings.web_audience,
            "_csrf": csrf,
            "state": login_state,
            "_intstate": "deprecated",
            "nonce": nonce,
            "username": username,
            "password": password,
            "connection": CONNECTION,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        answer = self._send("POST", f"{self.base}/usernamepassword/login", json=body)
        del body, password
        self._check_login_answer(answer, username)
        form = _HiddenForm()
        form.feed(answer.text)
        if not form.action or not form.fields:
            raise RouteBroken("the page after the password has no sign-in form (Peloton changed its website)")
        action = urljoin(answer.url, form.action)
        why = refused_redirect(self.base, action)
        if why:
            raise RouteBroken(f"its sign-in form was {why}; not followed")
        _, back = self._follow("POST", action, data=form.fields)
        if back is None:
            raise RouteBroken("the sign-in never came back to the website with a code")
        return Grant(self._returned(back, state), verifier, redirect_uri)

    def exchange(self, grant: Grant) -> dict[str, Any]:
        """The token reply for a grant's code (Auth0's JSON, `access_token` in it)."""
        resp = self._send(
            "POST",
            f"{self.base}/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": self.settings.web_client_id,
                "code_verifier": grant.verifier,
                "code": grant.code,
                "redirect_uri": grant.redirect_uri,
            },
        )
        if resp.status_code == 429:
            raise LoginError("Peloton is limiting sign-ins right now (HTTP 429); wait an hour and retry.")
        data = _json_or_empty(resp)
        if resp.status_code != 200 or not isinstance(data.get("access_token"), str):
            reason = data.get("error_description") or data.get("error") or f"HTTP {resp.status_code}"
            raise RouteBroken(f"its code was refused at /oauth/token: {_clean(reason)}")
        return data

    # -- the steps' plumbing ---------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.requests_made += 1
        try:
            # An overall deadline and a size cap, as every request of the app has (transport.send).
            return send(self.http, method, url, allow_redirects=False, timeout=TIMEOUT, **kwargs)
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise LoginError(
                f"Cannot request {self.base[:200]}: {type(exc).__name__}. Check the Sign-in URL setting."
            ) from None
        except requests.RequestException as exc:
            raise LoginError(
                f"Could not reach Peloton's sign-in service at {self.base[:200]} ({type(exc).__name__}); "
                "check your connection."
            ) from None

    def _follow(self, method: str, url: str, **kwargs: Any) -> tuple[requests.Response, str | None]:
        """Request `url` and follow its redirects on the sign-in origin. Returns the last answer, and the
        return URL (with its code) when a redirect led there: that one is read, never requested."""
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._send(method, url, **kwargs)
            if resp.status_code == 429:
                raise LoginError("Peloton is limiting sign-ins right now (HTTP 429); wait an hour and retry.")
            location = resp.headers.get("Location") if resp.is_redirect else None
            if location is None:
                if resp.status_code >= 400:
                    raise RouteBroken(f"its sign-in answered HTTP {resp.status_code} at {urlsplit(url).path[:60]}")
                return resp, None
            target = urljoin(resp.url, location)
            if self._is_return(target):
                return resp, target
            why = refused_redirect(self.base, target)
            if why:
                raise RouteBroken(f"it {why}; not followed")
            method, url, kwargs = "GET", target, {}
        raise RouteBroken(f"it redirected more than {MAX_REDIRECTS} times")

    def _is_return(self, url: str) -> bool:
        expected, there = urlsplit(self.settings.web_redirect_url), urlsplit(url)
        return (there.scheme, there.netloc.lower(), there.path) == (
            expected.scheme,
            expected.netloc.lower(),
            expected.path,
        )

    def _returned(self, url: str, state: str) -> str:
        """The code the return URL carries; Auth0 puts a refusal there too (`error`)."""
        query = dict(parse_qsl(urlsplit(url).query))
        if query.get("error"):
            reason = query.get("error_description") or query["error"]
            raise RouteBroken(f"Peloton refused it: {_clean(reason)}")
        if query.get("state") != state:
            raise RouteBroken("the code came back for another sign-in (its state does not match)")
        if not query.get("code"):
            raise RouteBroken("it came back to the website without a code")
        return query["code"]

    def _cookie(self, name: str) -> str | None:
        for cookie in self.http.cookies:
            if cookie.name == name and cookie.value:
                return cookie.value
        return None

    def _check_login_answer(self, answer: requests.Response, username: str) -> None:
        if answer.status_code == 429:
            raise LoginError("Peloton is limiting sign-ins right now (HTTP 429); wait an hour and retry.")
        if answer.status_code in (400, 401):
            data = _json_or_empty(answer)
            if data.get("code") in ("invalid_user_password", "invalid_grant", "wrong_email_or_password"):
                reason = _clean(data.get("description") or "Wrong email or password.")
                raise LoginError(
                    f"Peloton refused the sign-in for {_clean(username, 80)}: {reason} Check the email and password."
                )
        if answer.status_code == 403:
            raise RouteBroken("it refused its own _csrf token (HTTP 403)")
        if answer.status_code != 200:
            raise RouteBroken(f"its password page answered HTTP {answer.status_code}")


def _clean(text: object, limit: int = 120) -> str:
    """Text from the server as a message may quote it: one line, printable, not a screenful."""
    raw = text if isinstance(text, str) else repr(text)
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in raw[: limit * 4]).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _json_or_empty(resp: requests.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
