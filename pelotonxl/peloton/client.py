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
from pelotonxl.errors import ApiError
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
    ):
        self.settings = settings
        self.auth = auth
        self.http = http or new_session(settings.workers)
        self.pacer = pacer or Pacer()
        self.max_attempts = max_attempts
        self.timeout = timeout
        self._count_lock = threading.Lock()
        self.requests_made = 0

    # -- endpoints ----------------------------------------------------------------------------
    def user_id(self) -> str:
        """From the token's claim when it has one (no request), else from /api/me."""
        self.auth.access_token()
        return self.auth.user_id or str(self.get_json("/api/me")["id"])

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

        A 429/503 that says when to come back (Retry-After) costs no attempt: the whole pool waits it
        out, within the pacer's time budget, counted from this request's first try."""
        url = self.settings.api_url.rstrip("/") + path
        token = self.auth.access_token()
        max_attempts = attempts or self.max_attempts
        renewed = False
        attempt = 0
        started = self.pacer.clock()
        while True:
            attempt += 1
            if self.pacer.gave_up() or self.pacer.clock() - started >= self.pacer.give_up_after:
                raise ApiError(
                    f"Peloton kept failing for {self.pacer.give_up_after:g} seconds, so "
                    f"{path} was not fetched; refresh again later.",
                    path,
                )
            self.pacer.wait_turn()
            with self._count_lock:
                self.requests_made += 1
            try:
                resp = self.http.get(
                    url,
                    params=params,
                    timeout=self.timeout,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Peloton-Platform": "web",
                        "Accept": "application/json",
                    },
                )
            except TRANSIENT as exc:
                if attempt >= max_attempts:
                    raise ApiError(
                        f"Could not reach Peloton for {path} after {attempt} tries "
                        f"({type(exc).__name__}); check your connection.",
                        path,
                    ) from None
                self.pacer.push_back(None)
                continue
            except requests.RequestException as exc:  # a bad URL setting, not a passing fault
                raise ApiError(f"Cannot request {url}: {exc}. Check the API URL setting.", path) from None
            if resp.status_code == 401 and not renewed:
                renewed = True  # renew once, then retry once: not a failed attempt
                attempt -= 1
                token = self.auth.token_rejected(token)
                continue
            if resp.status_code in RETRYABLE:
                retry_after = _retry_after(resp)
                if retry_after is not None and resp.status_code in (429, 503) and max_attempts > 1:
                    attempt -= 1  # told when to come back: waiting is the plan, not a failure
                    self.pacer.push_back(retry_after)
                    continue
                if attempt < max_attempts:
                    self.pacer.push_back(retry_after)
                    continue
            else:  # a last 429/5xx is no sign of recovery
                self.pacer.ok()
            if resp.status_code == 401:
                where = getattr(getattr(self.auth, "store", None), "path", None)
                saved = f"delete the saved sign-in {where}" if where else "delete the saved token"
                pasted = (
                    "the pasted access token was refused: paste a new one"
                    if self.settings.access_token
                    else "paste a new token"
                )
                raise ApiError(
                    f"Peloton said 'not logged in' for {path} even after renewing the sign-in; "
                    f"sign in again ({saved}, or {pasted}).",
                    path,
                    401,
                )
            return _checked_json(resp, path)


class _OwnAuthorization(AuthBase):
    """The session's auth: leaves each request's own Authorization header alone.

    Without one, requests looks up ~/.netrc on every request and, finding a login there (a `default`
    entry is enough), replaces our Bearer token with it: every call would then answer 401."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def new_session(workers: int) -> requests.Session:
    session = requests.Session()
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


def _checked_json(resp: requests.Response, path: str) -> dict:
    status = resp.status_code
    if status == 401:
        raise ApiError(
            f"Peloton said 'not logged in' for {path} even after renewing the sign-in; "
            "sign in again (delete the saved token or paste a new one).",
            path,
            status,
        )
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
        html = "html" in ctype or resp.text.lstrip().startswith("<")
        kind = "an HTML page instead of JSON" if html else "malformed JSON"
        raise ApiError(f"Peloton sent {kind} for {path} (HTTP {status}); try again later.", path, status) from None
    if not isinstance(data, dict):
        raise ApiError(f"Peloton sent unexpected JSON for {path}; try again later.", path, status)
    return data
