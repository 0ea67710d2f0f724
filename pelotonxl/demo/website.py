"""The Peloton website's sign-in (Auth0's hosted login, Flow B) as the local server plays it.

    GET  /authorize              PKCE request of the web client -> 302 /login, sets the `auth0` cookie
    GET  /login                  the login page, sets the `_csrf` cookie
    POST /usernamepassword/login JSON with `_csrf`, state, username, password -> a hidden form (HTML)
    POST /login/callback         that form -> 302 /authorize/resume
    GET  /authorize/resume       -> 302 to the return URL with `?code=…&state=…`
    POST /oauth/token            grant_type=authorization_code (FakePeloton routes it here): code + verifier

Faults a test (or `python -m pelotonxl.demo.server --fault …`) switches on, by name in `faults`:
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from pelotonxl.settings import DEFAULT_WEB_CLIENT_ID, DEFAULT_WEB_REDIRECT_URL

if TYPE_CHECKING:
    from pelotonxl.demo.server import FakePeloton, Reply, Request

# name -> what it does (the module doc's list, and the demo server's --fault help)
FAULTS = {
    "no-password-grant": "the app's password grant is refused for its client (unauthorized_client)",
    "no-website": "the website's /authorize refuses the web client (back to the return URL with an error)",
    "no-csrf": "the login page sets no _csrf cookie",
    "changed-form": "the page after the password holds no hidden form (the website changed)",
    "code-reused": "every code counts as used already (as if redeemed twice)",
}
__doc__ = (__doc__ or "") + "".join(f"    {name:18} {what}\n" for name, what in FAULTS.items())
PATHS = frozenset({"/authorize", "/login", "/usernamepassword/login", "/login/callback", "/authorize/resume"})
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class _Transaction:
    """One /authorize request, from the redirect to its code."""

    client_id: str
    redirect_uri: str
    state: str  # the client's
    challenge: str
    scope: str
    csrf: str = ""
    signed_in: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    used: bool = False


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class Website:
    """The hosted login of one FakePeloton (its account, username and password)."""

    def __init__(
        self,
        fake: FakePeloton,
        client_id: str = DEFAULT_WEB_CLIENT_ID,
        redirect_uri: str = DEFAULT_WEB_REDIRECT_URL,
    ) -> None:
        self.fake = fake
        self.client_id, self.redirect_uri = client_id, redirect_uri
        self.faults: set[str] = set()
        self._transactions: dict[str, _Transaction] = {}
        self._results: dict[str, str] = {}  # wresult of a hidden form -> its transaction
        self._sessions: dict[str, str] = {}  # `auth0` cookie -> its transaction (the state in the URLs)
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        self.paths = PATHS
        self.issued: list[str] = []  # every cookie, form result and code handed out: tests look for leaks

    def respond(self, request: Request) -> Reply:
        handler = {
            ("GET", "/authorize"): self._authorize,
            ("GET", "/login"): self._login_page,
            ("POST", "/usernamepassword/login"): self._password,
            ("POST", "/login/callback"): self._callback,
            ("GET", "/authorize/resume"): self._resume,
        }.get((request.method, request.path))
        if handler is None:
            return self._reply(405, json.dumps({"error": "method_not_allowed"}).encode())
        return handler(request)

    # -- the steps -------------------------------------------------------------------------------
    def _authorize(self, request: Request) -> Reply:
        q = request.query
        if q.get("redirect_uri") != self.redirect_uri:
            return self._page(400, "Callback URL mismatch.")  # Auth0 never redirects to an unknown URL
        if q.get("client_id") != self.client_id or "no-website" in self.faults:
            return self._back(q, error="unauthorized_client", error_description="Client is not allowed to sign in.")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return self._back(q, error="invalid_request", error_description="PKCE with S256 is required.")
        txn, session = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self._transactions[txn] = _Transaction(
                self.client_id, self.redirect_uri, q.get("state", ""), q["code_challenge"], q.get("scope", "")
            )
            self._sessions[session] = txn
        self.issued.append(session)
        location = f"/login?{urlencode({'state': txn, 'client': self.client_id, 'protocol': 'oauth2'})}"
        return self._redirect(location, cookie=f"auth0={session}; Path=/; HttpOnly; SameSite=None")

    def _login_page(self, request: Request) -> Reply:
        txn = self._transaction(request, request.query.get("state"))
        if txn is None:
            return self._page(400, "Invalid state.")
        txn.csrf = secrets.token_urlsafe(24)
        self.issued.append(txn.csrf)
        cookie = None if "no-csrf" in self.faults else f"_csrf={txn.csrf}; Path=/usernamepassword/login; HttpOnly"
        return self._page(200, "<div id='auth0-lock'>Log in to Peloton</div>", cookie=cookie)

    def _password(self, request: Request) -> Reply:
        form = _form(request.body)
        txn = self._transaction(request, form.get("state"))
        if txn is None:
            return self._page(403, "Invalid state.")
        if not txn.csrf or form.get("_csrf") != txn.csrf or request.cookies.get("_csrf") != txn.csrf:
            return self._page(403, "Invalid csrf token.")
        username, password = str(form.get("username", "")), form.get("password")
        if username.lower() != self.fake.username.lower() or password != self.fake.password:
            wrong = {"name": "ValidationError", "code": "invalid_user_password", "statusCode": 400}
            wrong["description"] = "Wrong email or password."
            return self._reply(400, json.dumps(wrong).encode())
        if "changed-form" in self.faults:
            return self._page(200, "<div id='challenge'>Please verify you are a human.</div>")
        result = secrets.token_urlsafe(32)
        self.issued.append(result)
        with self._lock:
            self._results[result] = str(form.get("state"))
        fields = {"wa": "wsignin1.0", "wresult": result, "wctx": json.dumps({"state": form.get("state")})}
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'
            for name, value in fields.items()
        )
        return self._page(
            200,
            f'<form method="post" name="hiddenform" action="{self.fake.url}/login/callback">{inputs}'
            "<noscript><p>Script is disabled. Click Submit to continue.</p><input type='submit' value='Submit'>"
            "</noscript></form>",
        )

    def _callback(self, request: Request) -> Reply:
        form = _form(request.body)
        with self._lock:
            txn_id = self._results.pop(str(form.get("wresult", "")), None)
            txn = self._transactions.get(txn_id or "")
        if txn is None or not txn_id:
            return self._page(400, "Invalid sign-in result.")
        txn.signed_in = True
        return self._redirect(f"/authorize/resume?{urlencode({'state': txn_id})}")

    def _resume(self, request: Request) -> Reply:
        txn_id = request.query.get("state", "")
        txn = self._transaction(request, txn_id)
        if txn is None or not txn.signed_in:
            return self._page(400, "Invalid state.")
        code = secrets.token_urlsafe(24)
        self.issued.append(code)
        with self._lock:
            self._transactions.pop(txn_id, None)
            self._codes[code] = _Code(txn.client_id, txn.redirect_uri, txn.challenge, txn.scope)
        return self._redirect(f"{txn.redirect_uri}?{urlencode({'code': code, 'state': txn.state})}")

    def exchange(self, form: dict[str, Any]) -> tuple[int, Any]:
        """POST /oauth/token with grant_type=authorization_code: a code once, with its verifier."""
        with self._lock:
            grant = self._codes.get(str(form.get("code", "")))
            fresh = grant is not None and not grant.used and "code-reused" not in self.faults
            if grant is not None:
                grant.used = True
        if grant is None or not fresh:
            return 403, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return 403, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        if _s256(str(form.get("code_verifier", ""))) != grant.challenge:
            return 403, {"error": "invalid_grant", "error_description": "Failed to verify code verifier"}
        return 200, self.fake.token_reply(grant.client_id, grant.scope, refresh="offline_access" in grant.scope)

    # -- replies ---------------------------------------------------------------------------------
    def _transaction(self, request: Request, state: object) -> _Transaction | None:
        """The transaction the `auth0` cookie names, when the request's state names the same one."""
        with self._lock:
            txn_id = self._sessions.get(request.cookies.get("auth0", ""), "")
            txn = self._transactions.get(txn_id)
        return txn if txn is not None and state == txn_id else None

    def _back(self, query: dict[str, str], **error: str) -> Reply:
        return self._redirect(f"{self.redirect_uri}?{urlencode({**error, 'state': query.get('state', '')})}")

    def _redirect(self, location: str, cookie: str | None = None) -> Reply:
        from pelotonxl.demo.server import Reply

        headers = {"Location": location}
        if cookie:
            headers["Set-Cookie"] = cookie
        return Reply(302, b"", HTML_TYPE, headers)

    def _page(self, status: int, body: str, cookie: str | None = None) -> Reply:
        page = f"<!DOCTYPE html><html><head><title>Log in | Peloton</title></head><body>{body}</body></html>"
        reply = self._reply(status, page.encode(), HTML_TYPE)
        if cookie:
            reply.headers["Set-Cookie"] = cookie
        return reply

    @staticmethod
    def _reply(status: int, data: bytes, content_type: str = "application/json; charset=utf-8") -> Reply:
        from pelotonxl.demo.server import Reply

        return Reply(status, data, content_type)


def _form(body: bytes) -> dict[str, Any]:
    """A JSON object or a form-urlencoded body, as the browser would send either."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return dict(parse_qsl(body.decode("utf-8", "replace")))
    return data if isinstance(data, dict) else {}
