"""FaultyPeloton: the local Peloton server with faults a test switches on.

    with FaultyPeloton(make_account()) as srv:
        srv.fail_next(r"/workouts$", status=429, headers={"Retry-After": "2"})
        ...                                             # point the client at srv.url

Faults live here, not in the demo server: it only offers `respond`, which this class overrides.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pelotonxl.demo.server import NOT_LOGGED_IN, FakePeloton, Reply, Request
from pelotonxl.settings import DEFAULT_SCOPE

CLOUDFLARE_RATE_LIMITED = b"error code: 1015"
HTML_TYPE = "text/html; charset=UTF-8"


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"


def cloudflare_page(status: int) -> bytes:
    reason = _phrase(status)
    ray = secrets.token_hex(8)
    return (
        f'<!DOCTYPE html>\n<html lang="en-US"><head><title>api.onepeloton.com | {status}: {reason}</title>'
        f'</head><body><div id="cf-wrapper"><div id="cf-error-details"><h1>{reason}</h1>'
        f'<span class="cf-error-code">Error code {status}</span><p>The web server reported an error.</p>'
        f'</div><div class="cf-footer">Cloudflare Ray ID: <strong>{ray}</strong> &bull; '
        f"Performance &amp; security by Cloudflare</div></div></body></html>\n"
    ).encode()


@dataclass
class Fault:
    pattern: re.Pattern[str]
    kind: str  # fail | html | malformed | reset | slow | dribble | huge
    times: int
    query: dict[str, str] = field(default_factory=dict)
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str = "application/json"
    seconds: float = 0.0

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return bool(self.pattern.search(path)) and all(query.get(k) == str(v) for k, v in self.query.items())

    def reply(self) -> Reply:
        """The answer of a fail or html fault."""
        if self.kind == "html":
            return Reply(self.status, cloudflare_page(self.status), HTML_TYPE, dict(self.headers))
        content_type, body = self.content_type, self.body
        if body is None:
            if self.status == 401:
                body = NOT_LOGGED_IN
            elif self.status == 429:
                body, content_type = CLOUDFLARE_RATE_LIMITED, "text/plain; charset=UTF-8"
            else:
                body = {"status": self.status, "message": _phrase(self.status)}
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        else:
            data = body.encode() if isinstance(body, str) else bytes(body)
        return Reply(self.status, data, content_type, dict(self.headers))


def _dribbled(data: bytes):
    yield from (bytes([b]) for b in data)
    while True:
        yield b" "


def _huge_list(megabytes: int):
    item = b'{"id": "0123456789abcdef0123456789abcdef", "title": "' + b"x" * 900 + b'"},'
    for _ in range(megabytes * 2**20 // len(item)):
        yield item * 1
    yield b"{}]"


class FaultPlan:
    """Faults armed by a test; each fires on the next matching requests, `times` times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.failing_graphs: dict[str, int] = {}  # workout id -> status its graph always gets
        # (path regex, edit) pairs: each good JSON answer on a matching path goes through edit first
        self.rewrites: list[tuple[re.Pattern[str], Callable[[dict, dict[str, str]], dict]]] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str, query: dict[str, str]) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, query):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.failing_graphs.clear()
            self.rewrites.clear()


class FaultyPeloton(FakePeloton):
    """FakePeloton plus armed faults, short-lived tokens and revocable refresh tokens."""

    poll_interval = 0.005  # a test starts and stops a server each: stop() returns at once

    def __init__(self, *args: Any, token_lifetime: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if token_lifetime is not None:
            self.tokens.lifetime = token_lifetime
        self.faults = FaultPlan()

    def respond(self, request: Request) -> Reply:
        fault = self.faults.take(request.path, request.query)
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
            fault = None
        if fault and fault.kind == "reset":
            return Reply(None)
        if fault and fault.kind == "dribble":  # a good answer, one byte every `seconds`, for ever after it
            data = super().respond(request).data
            return Reply(200, b"", stream=_dribbled(data), pause=fault.seconds)
        if fault and fault.kind == "huge":  # a JSON list of `seconds` megabytes, never held whole
            return Reply(200, b"[", stream=_huge_list(int(fault.seconds)))
        if fault and fault.kind != "malformed":
            return fault.reply()
        reply = super().respond(request)
        if fault:  # malformed: a good answer cut short
            reply.data = reply.data[: max(1, len(reply.data) // 2)]
        elif reply.status == 200 and request.path.endswith("/performance_graph"):
            status = self.faults.failing_graphs.get(request.path.split("/")[-2])
            if status is not None:
                reply = Reply(status, json.dumps({"status": status, "message": "Internal server error"}).encode())
        if reply.status == 200:
            for pattern, edit in list(self.faults.rewrites):
                if pattern.search(request.path):
                    reply.data = json.dumps(edit(json.loads(reply.data), request.query)).encode()
        return reply

    # ---- faults --------------------------------------------------------------------------
    def fail_next(
        self,
        path_regex: str,
        status: int = 500,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        **query: str,
    ) -> None:
        """Answer the next `times` requests matching `path_regex` (and query values) with `status`.

        Without a body: 401 gets Peloton's "Not logged in", 429 Cloudflare's "error code: 1015",
        anything else a small JSON error. `body` may be a dict, str or bytes.
        """
        self.faults.add(
            Fault(re.compile(path_regex), "fail", times, query, status, dict(headers or {}), body, content_type)
        )

    def html_error_next(self, path_regex: str, status: int = 502, times: int = 1, **query: str) -> None:
        """Answer with a Cloudflare-style HTML error page instead of JSON."""
        self.faults.add(Fault(re.compile(path_regex), "html", times, query, status))

    def malformed_json_next(self, path_regex: str, times: int = 1, **query: str) -> None:
        """Answer 200 with the right JSON cut off halfway."""
        self.faults.add(Fault(re.compile(path_regex), "malformed", times, query, 200))

    def reset_next(self, path_regex: str, times: int = 1, **query: str) -> None:
        """Close the connection with a TCP reset instead of answering."""
        self.faults.add(Fault(re.compile(path_regex), "reset", times, query))

    def slow_next(self, path_regex: str, seconds: float, times: int = 1, **query: str) -> None:
        """Wait `seconds` before answering normally (for read timeouts)."""
        self.faults.add(Fault(re.compile(path_regex), "slow", times, query, seconds=seconds))

    def dribble_next(self, path_regex: str, pause: float, times: int = 1, **query: str) -> None:
        """Answer 200 one byte every `pause` seconds, without end (a read timeout never fires)."""
        self.faults.add(Fault(re.compile(path_regex), "dribble", times, query, seconds=pause))

    def huge_next(self, path_regex: str, megabytes: int, times: int = 1, **query: str) -> None:
        """Answer 200 with a valid JSON list of about `megabytes` MB, streamed (no Content-Length)."""
        self.faults.add(Fault(re.compile(path_regex), "huge", times, query, seconds=megabytes))

    def always_fail_graph(self, workout_id: str | None, status: int = 500) -> None:
        """Make one workout's performance graph fail every time; None makes every graph work again."""
        with self.faults._lock:
            if workout_id is None:
                self.faults.failing_graphs.clear()
            else:
                self.faults.failing_graphs[workout_id] = status

    def rewrite(self, path_regex: str, edit: Callable[[dict, dict[str, str]], dict]) -> None:
        """Pass every good JSON answer on a matching path through `edit(body, query)` from now on:
        a server whose answers are well-formed HTTP but wrong in content (pages that never end,
        odd fields, a token reply with a strange lifetime)."""
        with self.faults._lock:
            self.faults.rewrites.append((re.compile(path_regex), edit))

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---- tokens ----------------------------------------------------------------------------
    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused from now on (a password sign-in still works)."""
        with self._lock:
            self._refresh_tokens.clear()

    def mint_access_token(self) -> str:
        """A valid access token for the account, as if pasted from the browser."""
        return self.tokens.access_token(self.account.user_id, self.url, self.client_id, DEFAULT_SCOPE)
