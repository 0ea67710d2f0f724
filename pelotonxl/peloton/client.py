"""PelotonClient: the few API calls we need, made politely and checked carefully."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from pelotonxl import __version__
from pelotonxl.errors import ApiError, shown_text
from pelotonxl.peloton import transport
from pelotonxl.peloton.auth import Authenticator
from pelotonxl.settings import Settings

# A pool's submit: runs fn(*args) somewhere and hands back its Future.
Submit = Callable[..., Future]
PAGE_SIZE = 100  # Peloton's cap: asking for more silently returns 100
MAX_PAGES = 5_000  # 500,000 workouts: past this, a server offering "more" is looping, not listing
RETRYABLE = {429, 500, 502, 503, 504}
# Failures worth another try: the network, a reset mid-answer, a slow reply.
TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    transport.DeadlinePassed,
)


class Pacer:
    """Backoff shared by every thread of the pool: when Peloton pushes back, everyone slows down.

    The clock and sleep are injected so tests can check the waits without sleeping.
    """

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 60.0,
        retry_after_cap: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        give_up_after: float = 180.0,
    ):
        self.base, self.cap, self.retry_after_cap = base, cap, retry_after_cap
        self.give_up_after = give_up_after
        self.clock, self.sleep = clock, sleep
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self._strikes = 0
        self._failing_since: float | None = None  # first failure since the last success
        self.waits: list[float] = []  # every pause imposed, for tests and -v output

    def wait_turn(self) -> None:
        with self._lock:
            delay = self._resume_at - self.clock()
        if delay > 0:
            self.sleep(delay)

    def push_back(self, retry_after: float | None) -> float:
        """Record a 429/5xx/connection failure; return the pause imposed on the whole pool."""
        with self._lock:
            self._strikes += 1
            if self._failing_since is None:
                self._failing_since = self.clock()
            if retry_after is not None:
                delay = min(max(retry_after, 0.0), self.retry_after_cap)
            else:
                exp = min(self.cap, self.base * 2 ** (self._strikes - 1))
                delay = exp / 2 + self.rng.uniform(0, exp / 2)  # "equal jitter"
            self._resume_at = max(self._resume_at, self.clock() + delay)
            self.waits.append(delay)
            return delay

    def ok(self) -> None:
        with self._lock:
            self._strikes = 0
            self._failing_since = None

    def gave_up(self) -> bool:
        """True when the next try would come give_up_after seconds into an unbroken run of failures.

        Per-request attempts are bounded, but hundreds of graphs each retrying into a long backoff
        would keep a run going for hours while Peloton is down; past this budget every pending
        request fails at once and the next refresh picks them up."""
        with self._lock:
            return (
                self._failing_since is not None
                and max(self._resume_at, self.clock()) - self._failing_since >= self.give_up_after
            )


class PelotonClient:
    """Peloton's API over one kept-alive HTTP session, shared by the graph pool's threads.

    Every request carries the current access token (renewed before it runs out, and once on a 401),
    is retried on timeouts, resets, 429 and 5xx with the shared `Pacer`'s backoff (honouring
    Retry-After), and must answer JSON of the expected shape, else an ApiError names the endpoint.
    `workout_pages` pages the workout list 100 at a time, newest first; `performance_graph` fetches
    one workout's details. `requests_made` counts what was sent, for -v and the benchmarks.
    """

    def __init__(
        self,
        settings: Settings,
        auth: Authenticator,
        http: requests.Session | None = None,
        pacer: Pacer | None = None,
        max_attempts: int = 5,
        timeout: tuple[float, float] = (10.0, 60.0),
        deadline: float = transport.DEFAULT_DEADLINE,
        max_bytes: int = transport.DEFAULT_MAX_BYTES,
    ):
        self.settings = settings
        self.auth = auth
        self.http = http or new_session(settings.workers)
        self.pacer = pacer or Pacer()
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.deadline, self.max_bytes = deadline, max_bytes
        self._count_lock = threading.Lock()
        self.requests_made = 0
        self._me: dict | None = None

    # -- endpoints ----------------------------------------------------------------------------
    def user_id(self) -> str:
        """Signs in; from the token's claim when it has one (no request), else from /api/me."""
        self.auth.access_token()
        if self.auth.user_id:
            return self.auth.user_id
        user_id = self.me().get("id")
        if not isinstance(user_id, str) or not user_id.strip() or not user_id.isprintable() or len(user_id) >= 200:
            raise ApiError("Peloton's /api/me named no account (its id is missing or not text); try again later.")
        return user_id

    def me(self) -> dict:
        """/api/me (the member, Peloton's FTP), asked once per client."""
        if self._me is None:
            self._me = self.get_json("/api/me")
        return self._me

    def me_if_asked(self) -> dict | None:
        """/api/me if this client asked for it already (`user_id` does when the token names no member)."""
        return self._me

    def workout_page(self, user_id: str, page: int) -> dict:
        """One page of the workout list (100 workouts, newest first), as Peloton sends it."""
        return self.get_json(
            f"/api/user/{user_id}/workouts",
            {"joins": "ride,ride.instructor", "limit": PAGE_SIZE, "page": page, "sort_by": "-created"},
        )

    def workout_pages(
        self, user_id: str, submit: Submit | None = None, idle: Callable[[], None] | None = None
    ) -> Iterator[list[dict]]:
        """Each page of workouts, newest first, until Peloton says there is no next page.

        With `submit` (a pool's submit), the pages after the first, whose count the first one tells,
        are all asked for at once in that pool (a walk that reads every page: a first refresh, --full);
        they are still checked and yielded in order, and those not needed are cancelled; while the next
        one is not in yet, `idle()` is called (to save what else the pool brought meanwhile).

        A server that keeps offering a next page (the same page again, pages past its own page_count,
        or more pages than any account has) would be asked ~500 times a second forever: it gets an
        ApiError instead, before anything is written."""
        path = "/api/user/{id}/workouts"
        seen: set = set()
        page = 0
        ahead: dict[int, Future] = {}
        try:
            while True:
                if page in ahead:
                    while idle is not None and not ahead[page].done():
                        idle()
                    body = ahead.pop(page).result()
                else:
                    body = self.workout_page(user_id, page)
                data = body.get("data")
                if not isinstance(data, list):
                    raise ApiError(f"Peloton's workout list (page {page}) had no data; try again later.", path)
                page_count = body.get("page_count")
                if page == 0 and submit is not None and (count := _page_count_agrees(body)):
                    for later in range(1, count):
                        ahead[later] = submit(self.workout_page, user_id, later)
                items = [w for w in data if isinstance(w, dict) and w.get("id")]
                ids = {w["id"] for w in items if isinstance(w["id"], (str, int))}
                if page and items and ids <= seen:
                    raise ApiError(
                        f"Peloton's workout list sent page {page} with nothing new and offered "
                        "yet another page; stopped listing. Try again later.",
                        path,
                    )
                seen |= ids
                if items:
                    yield items
                if not data or not body.get("show_next"):
                    return
                page += 1
                if isinstance(page_count, int) and not isinstance(page_count, bool) and page >= page_count:
                    raise ApiError(
                        f"Peloton's workout list offered page {page + 1} of {page_count}; "
                        "stopped listing. Try again later.",
                        path,
                    )
                if page >= MAX_PAGES:
                    raise ApiError(
                        f"Peloton's workout list offered more than {MAX_PAGES} pages; stopped listing. "
                        "Try again later.",
                        path,
                    )
        finally:
            for future in ahead.values():
                future.cancel()

    def performance_graph(self, workout_id: str, *, cheap: bool = False) -> dict:
        """One workout's details. `cheap`: a single try that never slows the pool down (for a graph
        that failed on earlier refreshes: it should not cost every refresh a full backoff)."""
        return self.get_json(
            f"/api/workout/{workout_id}/performance_graph",
            {"every_n": self.settings.every_n},
            attempts=1 if cheap else None,
        )

    # -- HTTP ---------------------------------------------------------------------------------
    def get_json(self, path: str, params: dict | None = None, *, attempts: int | None = None) -> dict:
        """GET path's JSON, retried up to `attempts` (default max_attempts) times on passing faults.

        What counts as a try: a network fault or a 429/5xx. What does not: the one renewal of a refused
        token (401), and a 429/503 that says when to come back (Retry-After), which the whole pool waits
        out, within the pacer's time budget counted from this request's first try. Each try has its own
        overall deadline (never past that budget) and a size cap: a dribbled or endless body ends."""
        url = self.settings.api_url.rstrip("/") + path
        token = self.auth.access_token()
        max_attempts = attempts or self.max_attempts
        tries, renewed, started = 0, False, self.pacer.clock()
        while True:
            elapsed = self.pacer.clock() - started
            if self.pacer.gave_up() or elapsed >= self.pacer.give_up_after:
                # The figure said is the time this request has really spent (a long Retry-After ends it sooner);
                # one the pool gave up on before it spent any was stopped by the others' failures.
                spent = f"for {elapsed:.0f} seconds" if elapsed >= 1 else "on this refresh's other requests"
                raise ApiError(f"Peloton kept failing {spent}, so {path} was not fetched; refresh again later.", path)
            deadline = max(1.0, min(self.deadline, self.pacer.give_up_after - elapsed))
            resp = self._send(url, path, params, token, deadline)
            if isinstance(resp, str):  # a passing network fault, by name
                tries += 1
                if tries >= max_attempts:
                    raise ApiError(
                        f"Could not reach Peloton for {path} after {tries} tries ({resp}); check your connection.",
                        path,
                    )
                self.pacer.push_back(None)
                continue
            if resp.status_code == 401:
                if renewed:
                    raise self._not_logged_in(path)
                renewed, token = True, self.auth.token_rejected(token)
                continue
            if resp.status_code not in RETRYABLE:
                self.pacer.ok()
                return _checked_json(resp, path)
            retry_after = _retry_after(resp)
            told_when = retry_after is not None and resp.status_code in (429, 503) and max_attempts > 1
            tries += 0 if told_when else 1
            if tries >= max_attempts:  # a last 429/5xx is no sign of recovery: its error is the answer
                return _checked_json(resp, path)
            self.pacer.push_back(retry_after)

    def _send(self, url: str, path: str, params: dict | None, token: str, deadline: float) -> requests.Response | str:
        """One GET in the pool's turn; a passing network fault (worth another try) as its name."""
        self.pacer.wait_turn()
        with self._count_lock:
            self.requests_made += 1
        try:
            return transport.send(
                self.http,
                "GET",
                url,
                params=params,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {token}", "Peloton-Platform": "web", "Accept": "application/json"},
                deadline=deadline,
                max_bytes=self.max_bytes,
            )
        except transport.RedirectRefused as exc:
            raise ApiError(f"Peloton's API {exc} for {path}; not followed. Check the API URL setting.", path) from None
        except transport.ReplyTooLarge:
            raise ApiError(
                f"Peloton sent more than {self.max_bytes // 2**20} MB for {path}; not read. Try again later.", path
            ) from None
        except requests.exceptions.SSLError as exc:
            raise ApiError(transport.tls_line(url, exc, "the API URL setting"), path) from None
        except TRANSIENT as exc:
            return type(exc).__name__
        except requests.RequestException as exc:  # a bad URL setting, not a passing fault
            # The exception's own text may quote a header (the token): only its kind is said.
            raise ApiError(
                f"Cannot request {shown_text(url)} ({type(exc).__name__}). Check the API URL setting.", path
            ) from None

    def _not_logged_in(self, path: str) -> ApiError:
        where = getattr(getattr(self.auth, "store", None), "path", None)
        saved = f"delete the saved sign-in {where}" if where else "delete the saved token"
        pasted = (
            "the pasted access token was refused: paste a new one"
            if self.settings.access_token
            else "paste a new token"
        )
        return ApiError(
            f"Peloton said 'not logged in' for {path} even after renewing the sign-in; "
            f"sign in again ({saved}, or {pasted}).",
            path,
            401,
        )


class _OwnAuthorization(AuthBase):
    """The session's auth: leaves each request's own Authorization header alone.

    Without one, requests looks up ~/.netrc on every request and, finding a login there (a `default`
    entry is enough), replaces our Bearer token with it: every call would then answer 401."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def new_session(workers: int) -> requests.Session:
    session = transport.GuardedSession()
    session.auth = _OwnAuthorization()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(4, workers + 2), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"peloton_xl/{__version__}"
    return session


def _page_count_agrees(body: dict) -> int:
    """A first page's page_count when it agrees with its total and page size (as Peloton's always do),
    else 0. Only then are the other pages asked for at once: a server that loops or lies is walked page
    by page, where the walk's checks stop it after a page or two."""
    count, total, limit, data = (body.get(k) for k in ("page_count", "total", "limit", "data"))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (count, total, limit)):
        return 0
    assert isinstance(count, int) and isinstance(total, int) and isinstance(limit, int)  # for the type checker
    agrees = (
        bool(body.get("show_next"))
        and isinstance(data, list)
        and 0 < limit == len(data)
        and 1 < count <= MAX_PAGES
        and count == -(-total // limit)
    )
    return count if agrees else 0


def _retry_after(resp: requests.Response, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After in seconds: a number, or an HTTP-date (seconds from `now`); None if absent or unreadable."""
    value = (resp.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


# A parsed JSON answer takes several times its size as Python objects: large ones are parsed one at a
# time, so the pool's threads never hold several at once.
_LARGE_ANSWER = 2**20
_one_large_parse = threading.Lock()


def _checked_json(resp: requests.Response, path: str) -> dict:
    if len(resp.content) > _LARGE_ANSWER:
        with _one_large_parse:
            return _parsed(resp, path)
    return _parsed(resp, path)


def _parsed(resp: requests.Response, path: str) -> dict:
    status = resp.status_code
    if status == 404:
        raise ApiError(f"Peloton has no {path} (HTTP 404).", path, status)
    ctype = resp.headers.get("Content-Type", "")
    if status >= 400:
        # An HTML page here is a proxy or Cloudflare speaking, not Peloton's API: say so.
        page = " with an HTML page" if "html" in ctype else ""
        raise ApiError(f"Peloton answered HTTP {status}{page} for {path}; try again later.", path, status)
    try:
        data = resp.json()
    except ValueError:
        html = "html" in ctype or resp.content[:512].lstrip().startswith(b"<")
        kind = "an HTML page instead of JSON" if html else "malformed JSON"
        raise ApiError(f"Peloton sent {kind} for {path} (HTTP {status}); try again later.", path, status) from None
    except RecursionError:
        raise ApiError(
            f"Peloton sent JSON nested too deep to read for {path}; try again later.", path, status
        ) from None
    if not isinstance(data, dict):
        kind = type(data).__name__.replace("NoneType", "null").replace("dict", "object")
        raise ApiError(f"Peloton sent a JSON {kind} instead of an object for {path}; try again later.", path, status)
    return data
