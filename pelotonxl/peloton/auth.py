"""Signing in to Peloton's Auth0 service and keeping the token set between runs.

The old `/auth/login` (username + password → session cookie) answers 403 since October 2025.
Today: password grant on `{auth_url}/oauth/token`, else the website's sign-in (`web_signin`; the order is
`signin_routes`'), or a pasted token; then `Authorization: Bearer`.
Only the token set is ever written (0600 file); the password lives in memory for one sign-in.
"""

from __future__ import annotations

import base64
import json
import math
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import ConfigError, LoginError, shown_text
from pelotonxl.peloton import signin_routes, transport
from pelotonxl.peloton.signin_routes import APP, RouteMemory
from pelotonxl.peloton.web_signin import RouteBroken, WebsiteSignIn
from pelotonxl.settings import Settings
from pelotonxl.state import StateFolder

USER_ID_CLAIM = "http://onepeloton.com/user_id"
# Refresh this long before the access token expires, so a long sync never meets a dead token.
EXPIRY_MARGIN = 300
TOKEN_REPLY_BYTES = 2**20  # a token answer is a few kB
LEGACY_LOGIN_MESSAGE = (
    "Peloton switched off the old /auth/login sign-in in October 2025; "
    "clear the URL setting that points at it (defaults use auth.onepeloton.com/oauth/token)."
)


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: float = 0.0  # epoch seconds; 0 = unknown
    client_id: str = ""  # the Auth0 client that issued it, which must renew it; "" = the Sign-in client id

    def expires_soon(self, now: float) -> bool:
        return bool(self.expires_at) and now >= self.expires_at - self._margin()

    def _margin(self) -> float:
        # A token that lives less than twice the margin renews at half-life, not before every request.
        claims = jwt_claims(self.access_token)
        try:
            lifetime = float(claims["exp"]) - float(claims["iat"])
        except (KeyError, TypeError, ValueError):
            return EXPIRY_MARGIN
        return min(EXPIRY_MARGIN, max(lifetime / 2, 0.0))

    @property
    def user_id(self) -> str | None:
        value = jwt_claims(self.access_token).get(USER_ID_CLAIM)
        usable = isinstance(value, str) and value.strip() and value.isprintable() and len(value) < 200
        return value if usable else None


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, unverified: we only read our own user id and expiry from it."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, RecursionError):
        return {}


def usable_token(value: object) -> str | None:
    """A token as it can go into an Authorization header: text of visible ASCII characters once the
    surrounding whitespace is stripped. None for anything else (a line break inside, a space, a control
    character, a number, an object): requests would refuse the header and quote it whole in its error."""
    if not isinstance(value, str):
        return None
    token = value.strip()
    return token if token and all("!" <= ch <= "~" for ch in token) else None


def _paste_problem(value: str) -> str | None:
    """What is wrong with a pasted token, in words that never quote it; None when it is usable."""
    token = value.strip()
    if usable_token(token) is not None:
        return None
    if any(ch in "\r\n" for ch in token):
        return "contains a line break"
    if any(ch.isspace() for ch in token):
        return "contains a space"
    return "contains a character a token cannot hold"


def token_set_from_paste(access_token: str, refresh_token: str = "") -> TokenSet:
    """A pasted token set, stripped; a token with a line break or a control character inside is refused
    in one line that names the setting, never the token."""
    for name, value in (("access token", access_token), ("refresh token", refresh_token)):
        problem = _paste_problem(value) if value.strip() else None
        if problem:
            raise LoginError(
                f"The pasted {name} {problem}: paste it again on one line, exactly as the Peloton website shows it."
            )
    exp = jwt_claims(access_token.strip()).get("exp")
    return TokenSet(access_token.strip(), refresh_token.strip(), _claimed_expiry(exp))


def _claimed_expiry(exp: object) -> float:
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return 0.0
    return float(exp) if math.isfinite(exp) and 0 < exp < 1e11 else 0.0


class TokenStore:
    """One owner-only JSON file per account in the state folder."""

    def __init__(self, home: Path, account: str):
        self.path = StateFolder(home).token_file(account)
        self.routes = RouteMemory(StateFolder(home), account)

    def load(self) -> TokenSet | None:
        """The saved set, its modes made owner-only again; None when there is none or it cannot be used
        (unreadable, or a token no header can carry): then the member signs in again."""
        if not self._secure_folder(create=False):
            return None
        try:
            if stat.S_ISLNK(os.lstat(self.path).st_mode):
                raise self._symlink_error(self.path)
            os.chmod(self.path, 0o600)
            data = json.loads(self.path.read_text(encoding="utf-8"))
            access = usable_token(data["access_token"])
            refresh = data.get("refresh_token") or ""
            expires_at = float(data.get("expires_at") or 0)
            client_id = str(data.get("client_id") or "")
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if access is None or (refresh and usable_token(refresh) is None) or not math.isfinite(expires_at):
            return None
        return TokenSet(access, refresh.strip(), expires_at, client_id)

    def _secure_folder(self, create: bool) -> bool:
        """The tokens folder owner-only (0700), checked with lstat before any chmod: a folder that is a
        symbolic link is refused, so a token is never written (nor a chmod applied) where it points.
        False when the folder does not exist (and `create` is off)."""
        folder = self.path.parent
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            return False
        if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
            raise self._symlink_error(folder)
        if stat.S_IMODE(mode) != 0o700:
            os.chmod(folder, 0o700)
        return True

    @staticmethod
    def _symlink_error(path: Path) -> ConfigError:
        return ConfigError(
            f"{path} is a symbolic link (or not a plain folder or file): the saved sign-in is kept only in a "
            "folder of the state folder's own; remove the link, then refresh again."
        )

    def save(self, tokens: TokenSet) -> None:
        self._secure_folder(create=True)
        # Created 0600 from the first byte: never briefly world-readable.
        with replacing(self.path, self.path.with_suffix(f".{os.getpid()}.tmp"), mode=0o600) as tmp:
            tmp.write_text(json.dumps(asdict(tokens)), encoding="utf-8")
        self._remove_stale_temps()

    def _remove_stale_temps(self, older_than: float = 60.0) -> None:
        """Temp files a killed run left behind (a token inside: don't let them linger)."""
        for stale in self.path.parent.glob(f"{self.path.stem}.*.tmp"):
            try:
                if time.time() - stale.stat().st_mtime > older_than:
                    stale.unlink()
            except OSError:
                pass  # another run's, just replaced or removed

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class Authenticator:
    """Hands out a valid access token; signs in, refreshes and falls back as the rules say.

    Thread-safe: the graph pool shares one instance, and a 401 seen by several threads at once
    leads to a single refresh.
    """

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        http: requests.Session,
        password_provider: Callable[[], str | None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.http = http
        self.password_provider = password_provider
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: TokenSet | None = None
        self._password_login_tried = False
        self.requests_made = 0
        self.signed_in_by: str | None = None  # the route of this run's password sign-in, if there was one

    # -- public -------------------------------------------------------------------------------
    def access_token(self) -> str:
        with self._lock:
            if self._tokens is None:
                self._tokens = self._initial_tokens()
            if self._tokens.expires_soon(self.clock()):
                self._tokens = self._renew()
            return self._tokens.access_token

    def token_rejected(self, rejected: str) -> str:
        """The API answered 401 to `rejected`; return a fresh token (renewing at most once per token)."""
        with self._lock:
            if self._tokens is not None and self._tokens.access_token != rejected:
                return self._tokens.access_token  # another thread already renewed it
            self._tokens = self._renew()
            return self._tokens.access_token

    @property
    def user_id(self) -> str | None:
        return self._tokens.user_id if self._tokens else None

    # -- the rules ------------------------------------------------------------------------------
    def _initial_tokens(self) -> TokenSet:
        check_not_legacy(self.settings)
        if self.settings.access_token:
            pasted = token_set_from_paste(self.settings.access_token, self.settings.refresh_token)
            stored = self.store.load()
            # A stored set that grew out of this very paste (refreshed since) is newer: keep it.
            if stored is None or stored.refresh_token != pasted.refresh_token or not pasted.refresh_token:
                self.store.save(pasted)
                return pasted
            return stored
        stored = self.store.load()
        if stored is not None:
            return stored
        if self.settings.signin_method == "token":
            raise signin_routes.token_only_error()
        return self._password_login()

    def _renew(self) -> TokenSet:
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token:
            try:
                return self._refresh(tokens.refresh_token)
            except LoginError:
                if not self._can_use_password():
                    self.store.clear()
                    raise LoginError(
                        "Your saved Peloton sign-in has expired; set PELOTON_PASSWORD (or run "
                        "python peloton_xl.py in a terminal to be asked), or paste a new token."
                    ) from None
        return self._password_login()

    def _can_use_password(self) -> bool:
        if self.settings.signin_method == "token":
            return False
        return bool(self.settings.password or self.password_provider) and not self._password_login_tried

    def _password_login(self) -> TokenSet:
        if self._password_login_tried:
            # Never hammer the login endpoint: one password sign-in per run.
            raise LoginError("Peloton refused the new sign-in token; try again later.")
        self._password_login_tried = True
        if self.settings.signin_method == "token":
            raise signin_routes.token_only_error()
        if not self.settings.username:
            raise LoginError("No Peloton account set: fill in your email on the Config sheet or set PELOTON_USERNAME.")
        password = self.settings.password or (self.password_provider() if self.password_provider else None)
        if not password and self.password_provider and not self.settings.password:
            raise LoginError("No password was typed: run again and type it, set PELOTON_PASSWORD, or paste a token.")
        if not password:
            raise LoginError(
                "No password to sign in with: set PELOTON_PASSWORD, run "
                "python peloton_xl.py in a terminal to be asked, or paste a token."
            )
        tokens = self._sign_in_by_routes(password)
        del password
        self.store.save(tokens)
        return tokens

    def _sign_in_by_routes(self, password: str) -> TokenSet:
        """Sign in by the routes the Sign-in method allows, in order; the one that works is remembered.
        A route broken for everyone moves on to the next; a refused password stops at once."""
        method = self.settings.signin_method
        reasons: dict[str, str] = {}
        for route in signin_routes.route_order(method, self.store.routes.load()):
            try:
                tokens = self._app_sign_in(password) if route == APP else self._website_sign_in(password)
            except RouteBroken as exc:
                reasons[route] = str(exc)
                continue
            self.signed_in_by = route
            self.store.routes.save(route)
            return tokens
        raise signin_routes.all_routes_failed(method, reasons)

    def _app_sign_in(self, password: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "password",
                "client_id": self.settings.client_id,
                "scope": self.settings.scope,
                "username": self.settings.username,
                "password": password,
            },
            what="sign in",
        )

    def _website_sign_in(self, password: str) -> TokenSet:
        website = WebsiteSignIn(self.settings)
        try:
            data = website.exchange(website.sign_in(self.settings.username, password))
        finally:
            self.requests_made += website.requests_made
            website.http.close()
        access, refresh = _usable_pair(data)
        expires_in = _seconds(data.get("expires_in"))
        return TokenSet(access, refresh, self.clock() + expires_in if expires_in else 0.0, self.settings.web_client_id)

    def _refresh(self, refresh_token: str) -> TokenSet:
        # Renewed by the client that issued it: a website sign-in's refresh token is the web client's.
        client_id = (self._tokens.client_id if self._tokens else "") or self.settings.client_id
        tokens = self._token_request(
            {
                "grant_type": "refresh_token",
                "client_id": client_id,
                "refresh_token": refresh_token,
            },
            what="renew the sign-in",
        )
        tokens.client_id = client_id if client_id != self.settings.client_id else ""
        if not tokens.refresh_token:
            tokens.refresh_token = refresh_token  # Auth0 may not rotate it
        self.store.save(tokens)
        return tokens

    def _token_request(self, body: dict, what: str) -> TokenSet:
        url = self.settings.auth_url.rstrip("/") + "/oauth/token"
        self.requests_made += 1
        try:
            resp = transport.send(
                self.http, "POST", url, json=body, timeout=(10, 30), deadline=60.0, max_bytes=TOKEN_REPLY_BYTES
            )
        except transport.RedirectRefused as exc:  # the password would follow it: never
            raise LoginError(f"Peloton's sign-in service {exc}; not followed. Check the Sign-in URL setting.") from None
        except transport.ReplyTooLarge:
            raise LoginError(
                "Peloton's sign-in service sent an answer far too large for a token; try again later."
            ) from None
        except requests.exceptions.SSLError as exc:
            raise LoginError(transport.tls_line(url, exc, "the Sign-in URL setting")) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:  # a setting's fault, not the network's
            raise LoginError(
                f"Cannot request {url[:200]}: {type(exc).__name__}. Check the Sign-in URL setting."
            ) from None
        except requests.RequestException as exc:
            raise LoginError(
                f"Could not reach Peloton's sign-in service at {self.settings.auth_url} "
                f"({type(exc).__name__}); check your connection."
            ) from None
        data = _json_or_empty(resp)
        if resp.status_code == 429:
            raise LoginError("Peloton is limiting sign-ins right now (HTTP 429); wait an hour and retry.")
        if "no longer accepting requests" in str(data.get("message", "")).lower():
            raise LoginError(LEGACY_LOGIN_MESSAGE)
        if 400 <= resp.status_code < 500:
            reason = shown_text(
                data.get("error_description") or data.get("message") or data.get("error") or f"HTTP {resp.status_code}"
            )
            if data.get("error") == "unauthorized_client" and body["grant_type"] == "password":
                raise RouteBroken(reason)  # another route may still work: signin_routes decides
            if data.get("error") == "unauthorized_client":
                raise LoginError(
                    f"Peloton no longer allows password sign-in for this app ({reason}); "
                    "paste an access token from the Peloton website instead (see README)."
                )
            if body["grant_type"] == "password":
                raise LoginError(
                    f"Peloton refused the sign-in for {shown_text(self.settings.username, 80)}: {reason} "
                    "Check the email and password."
                )
            raise LoginError(f"Peloton refused to {what}: {reason}")
        if resp.status_code != 200 or "access_token" not in data:
            raise LoginError(
                f"Peloton's sign-in service answered HTTP {resp.status_code} without a token; try again later."
            )
        access, refresh = _usable_pair(data)
        expires_in = _seconds(data.get("expires_in"))
        return TokenSet(access, refresh, self.clock() + expires_in if expires_in else 0.0)


def _usable_pair(data: dict) -> tuple[str, str]:
    """The access and refresh tokens of a token answer, stripped; a token no header can carry is a refused
    sign-in: never saved, never sent, never quoted (a header holding it would fail and quote it whole)."""
    access = usable_token(data.get("access_token"))
    refresh = data.get("refresh_token") or ""
    if access is None or (refresh and usable_token(refresh) is None):
        raise LoginError(
            "Peloton's sign-in service sent a token that cannot be used (not text, or with spaces or "
            "control characters in it); sign in again later, or paste a token from the Peloton website."
        )
    return access, refresh.strip()


def _seconds(value: object) -> float:
    """A token's lifetime as sent; 0 (unknown: renewed when refused) when absent. Anything else is
    refused in one line rather than met later as a crash."""
    if value is None or value == "":
        return 0.0
    try:
        seconds = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0 or seconds > 10 * 365 * 86400:
        raise LoginError(
            f"Peloton's sign-in service sent a token with an unreadable lifetime "
            f"(expires_in {shown_text(str(value), 40)!r}); try again later."
        )
    return seconds


def check_not_legacy(settings: Settings) -> None:
    for url in (settings.api_url, settings.auth_url):
        if "/auth/login" in url:
            raise LoginError(LEGACY_LOGIN_MESSAGE)


def _json_or_empty(resp: requests.Response) -> dict:
    try:
        data = resp.json()
        return data if isinstance(data, dict) else {}
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return {}
