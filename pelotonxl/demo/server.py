"""A local HTTP server that speaks Peloton's API and its Auth0 sign-in (127.0.0.1 only).

It serves a `DemoAccount` for `peloton_xl.py --demo` and for every client, sync and fault test,
through the very same HTTP the real service gets. One base URL answers both the API routes and
the Auth0 sign-in (`/oauth/token`, and the website's hosted login in `website.py`), so `api_url` and
`auth_url` may both point at it. `srv.website.faults` switches sign-in faults on (see website.FAULTS).

    with FakePeloton(make_account()) as srv:
        srv.latency = 0.05                              # per request, in the handler thread
        ...                                             # point the client at srv.url

A subclass may override `respond` to answer some requests differently (the tests inject faults so).

Run `python -m pelotonxl.demo.server` to serve the demo account by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pelotonxl.demo.account import DemoAccount, demo_end, make_account
from pelotonxl.demo.tokens import USER_ID_CLAIM, TokenIssuer
from pelotonxl.demo.website import FAULTS, Website
from pelotonxl.model.catalog import ZERO_RIDE_ID
from pelotonxl.model.workbook import PELOTON_ID
from pelotonxl.settings import DEFAULT_CLIENT_ID, DEFAULT_SCOPE

DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"
PAGE_CAP = 100  # Peloton never returns more than 100 workouts a page
DEFAULT_PAGE_SIZE = 20
DEFAULT_EVERY_N = 5

NOT_LOGGED_IN = {"status": 401, "error_code": 3020, "subcode": None, "message": "Not logged in", "details": None}
LEGACY_LOGIN_GONE = {"status": 403, "message": "Access forbidden. Endpoint no longer accepting requests."}
JSON_TYPE = "application/json; charset=utf-8"
TOKEN_LIFETIME = 172800  # 48 hours, like Peloton's


def _not_found(what: str) -> dict[str, Any]:
    return {"status": 404, "error_code": 4040, "subcode": None, "message": f"{what} not found", "details": None}


def _auth0_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


# ---- requests and replies -----------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    status: int | None  # None when the connection was reset instead of answered
    platform_header: bool  # "Peloton-Platform: web" was sent
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    body: bytes
    authorization: str  # the Authorization header, "" when absent
    cookies: dict[str, str] = field(default_factory=dict)  # the Cookie header, by name


@dataclass
class Reply:
    status: int | None  # None: no answer, the connection is reset instead
    data: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # Written after `data`, chunk by chunk, `pause` seconds apart, without a Content-Length (the connection
    # closes at its end): a body too large to hold, or one dribbled in (the tests' faults).
    stream: Iterable[bytes] | None = None
    pause: float = 0.0


# ---- the HTTP plumbing ---------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakePeloton) -> None:
        self.fake = fake
        self.open_connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        # http.server writes headers and body in two sends: without NODELAY, delayed ACKs
        # stall each keep-alive reply by ~40 ms and a benchmark measures this server.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._conn_lock:
            self.open_connections.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop idle keep-alive connections, so a stopped server answers nobody."""
        with self._conn_lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (read timeout, reset test) is business as usual here.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server_version = "FakePeloton/1.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = Request(
            method,
            url.path,
            dict(parse_qsl(url.query, keep_blank_values=True)),
            body,
            self.headers.get("Authorization", ""),
            _cookies(self.headers.get("Cookie", "")),
        )
        platform = self.headers.get("Peloton-Platform", "").lower() == "web"
        if fake.latency > 0:
            time.sleep(fake.latency)
        reply = fake.respond(request)
        fake._record(RequestRecord(method, request.path, request.query, reply.status, platform))
        if reply.status is None:
            # Linger 0: closing sends a TCP reset instead of an orderly goodbye.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if reply.stream is None:
            self.send_header("Content-Length", str(len(reply.data)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.data)
        for chunk in reply.stream or ():
            if reply.pause:
                time.sleep(reply.pause)
            self.wfile.write(chunk)
            self.wfile.flush()


# ---- the server --------------------------------------------------------------------------


class FakePeloton:
    """Peloton's API and Auth0 sign-in for one demo account, on 127.0.0.1."""

    poll_interval = 0.05  # seconds stop() may wait for the serving loop to notice

    def __init__(
        self,
        account: DemoAccount,
        *,
        username: str = DEMO_USERNAME,
        password: str = DEMO_PASSWORD,
        latency: float = 0.0,
        secret: bytes | str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        port: int = 0,
    ) -> None:
        self.account, self.username, self.password = account, username, password
        self.latency = latency
        self.client_id = client_id
        self.port = port
        raw = secret if secret is not None else secrets.token_bytes(32)
        self.tokens = TokenIssuer(raw.encode() if isinstance(raw, str) else raw, TOKEN_LIFETIME)
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> the client it was issued to
        self.website = Website(self)
        self._requests: list[RequestRecord] = []
        self._months_cache: tuple[tuple, dict[str, int]] | None = None
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakePeloton:
        if self._server is None:
            self._server = _Server(("127.0.0.1", self.port), self)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                name=f"fake-peloton-{self.port}",
                kwargs={"poll_interval": self.poll_interval},
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakePeloton:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakePeloton is not running: call start() or use it in a with block")
        return f"http://127.0.0.1:{self.port}"

    # ---- request log -----------------------------------------------------------------------
    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def request_count(self, prefix: str = "/api") -> int:
        with self._lock:
            return sum(1 for r in self._requests if r.path.startswith(prefix))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ---- routing ---------------------------------------------------------------------------
    def respond(self, request: Request) -> Reply:
        """The reply to one request: the extension point a subclass overrides to answer otherwise."""
        if request.path in self.website.paths:
            return self.website.respond(request)
        status, payload = self.route(request.method, request.path, request.query, request.body, request.authorization)
        return Reply(status, json.dumps(payload, separators=(",", ":")).encode())

    def route(self, method: str, path: str, query: dict[str, str], body: bytes, authorization: str) -> tuple[int, Any]:
        """Status and JSON payload for one request."""
        if path == "/oauth/token" and method == "POST":
            return self._oauth_token(body)
        if path == "/auth/login" and method == "POST":
            return 403, LEGACY_LOGIN_GONE
        if not path.startswith("/api/"):
            return 404, _not_found("Resource")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
        claims = self.tokens.verify(token) if token else None
        if claims is None or claims.get(USER_ID_CLAIM) != self.account.user_id:
            return 401, NOT_LOGGED_IN
        if method != "GET":
            return 405, {"status": 405, "message": "Method not allowed"}
        parts = path.strip("/").split("/")
        try:
            if parts == ["api", "me"]:
                return 200, self.account.me
            if len(parts) == 4 and parts[1] == "user" and parts[3] == "workouts":
                return self._workouts_page(parts[2], query)
            if len(parts) == 3 and parts[1] == "workout":
                return self._workout(parts[2], query)
            if len(parts) == 4 and parts[1] == "workout" and parts[3] == "performance_graph":
                return self._graph(parts[2], query)
            if len(parts) == 4 and parts[1] == "ride" and parts[3] == "details":
                return self._ride_details(parts[2])
        except ValueError as err:
            return 400, {"status": 400, "error_code": 4000, "subcode": None, "message": str(err), "details": None}
        return 404, _not_found("Resource")

    def _oauth_token(self, body: bytes) -> tuple[int, Any]:
        try:
            form = json.loads(body or b"{}")
        except ValueError:
            form = dict(parse_qsl(body.decode("utf-8", "replace")))  # Auth0 also takes form posts
        if not isinstance(form, dict):
            return 400, _auth0_error("invalid_request", "Expected a JSON object.")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self.website.exchange(form)
        if grant not in ("password", "refresh_token"):
            return 403, _auth0_error("unsupported_grant_type", f"Unsupported grant type: {grant}")
        client = form.get("client_id")
        with self._lock:  # a refresh token is renewed by the client it was issued to
            issued_to = self._refresh_tokens.get(str(form.get("refresh_token"))) if grant == "refresh_token" else None
        allowed = issued_to or self.client_id
        if client != allowed or (grant == "password" and "no-password-grant" in self.website.faults):
            return 403, _auth0_error("unauthorized_client", f"Grant type '{grant}' not allowed for the client.")
        if grant == "refresh_token":
            if issued_to is None:
                return 403, _auth0_error("invalid_grant", "Unknown or invalid refresh token.")
            # Auth0 without rotation: the old refresh token stays valid, none is sent
            return 200, self.token_reply(allowed, str(form.get("scope") or DEFAULT_SCOPE), refresh=False)
        scope = str(form.get("scope") or DEFAULT_SCOPE)
        user = str(form.get("username", ""))
        if user.lower() != self.username.lower() or form.get("password") != self.password:
            return 403, _auth0_error("invalid_grant", "Wrong email or password.")
        return 200, self.token_reply(self.client_id, scope, refresh="offline_access" in scope.split())

    def token_reply(self, client_id: str, scope: str, *, refresh: bool) -> dict[str, Any]:
        """Auth0's answer to a granted token request; with `refresh`, a refresh token for that client."""
        reply: dict[str, Any] = {
            "access_token": self.tokens.access_token(self.account.user_id, self.url, client_id, scope),
            "id_token": self.tokens.id_token(self.account.user_id, self.username, self.url, client_id),
            "scope": scope,
            "expires_in": self.tokens.lifetime,
            "token_type": "Bearer",
        }
        if refresh:
            reply["refresh_token"] = secrets.token_urlsafe(32)
            with self._lock:
                self._refresh_tokens[reply["refresh_token"]] = client_id
        return reply

    @staticmethod
    def _int(query: dict[str, str], name: str, default: int, lowest: int) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name} must be an integer") from None
        if value < lowest:
            raise ValueError(f"{name} must be at least {lowest}")
        return value

    @staticmethod
    def _joined(workout: dict[str, Any], joins: set[str]) -> dict[str, Any]:
        """The workout as the API shows it for these joins: ride only when asked, instructor likewise."""
        item = {k: v for k, v in workout.items() if k != "ride"}
        ride = workout.get("ride")
        if "ride" in workout and ("ride" in joins or "ride.instructor" in joins):
            item["ride"] = (
                ride
                if "ride.instructor" in joins or ride is None
                else {k: v for k, v in ride.items() if k != "instructor"}
            )
        return item

    def _workouts_page(self, user_id: str, query: dict[str, str]) -> tuple[int, Any]:
        if user_id != self.account.user_id:
            return 404, _not_found("User")
        limit = min(self._int(query, "limit", DEFAULT_PAGE_SIZE, 1), PAGE_CAP)
        page = self._int(query, "page", 0, 0)
        joins = set(filter(None, query.get("joins", "").split(",")))
        everything = list(self.account.workouts)  # a snapshot: the account may grow meanwhile
        total = len(everything)
        data = [self._joined(w, joins) for w in everything[page * limit : (page + 1) * limit]]
        page_count = math.ceil(total / limit)
        show_next = (page + 1) * limit < total
        following = everything[(page + 1) * limit] if show_next else None
        months = self._month_counts(everything)
        zone_totals = {f"heart_rate_z{i}_duration": 0 for i in range(1, 6)}
        for w in data:
            for key, seconds in ((w.get("effort_zones") or {}).get("heart_rate_zone_durations") or {}).items():
                zone_totals[key] = zone_totals.get(key, 0) + seconds
        return 200, {
            "data": data,
            "limit": limit,
            "page": page,
            "total": total,
            "count": len(data),
            "page_count": page_count,
            "show_previous": page > 0,
            "show_next": show_next,
            "sort_by": "-created_at,-pk",
            "next": {"workout_id": following["id"], "created_at": following["created_at"]} if following else None,
            "summary": months,
            "aggregate_stats": [],
            "total_heart_rate_zone_durations": zone_totals,
        }

    def _month_counts(self, everything: list[dict[str, Any]]) -> dict[str, int]:
        """Workouts per month (the envelope's `summary`), recounted only when the account changed."""
        key = (len(everything), everything[0]["id"], everything[-1]["id"]) if everything else ()
        cached = self._months_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        months: dict[str, int] = {}
        for w in everything:
            month = time.strftime("%Y-%m", time.gmtime(w["created_at"]))
            months[month] = months.get(month, 0) + 1
        self._months_cache = (key, months)
        return months

    def _workout(self, workout_id: str, query: dict[str, str]) -> tuple[int, Any]:
        try:
            workout = self.account.workout(workout_id)
        except KeyError:
            return 404, _not_found("Workout")
        item = self._joined(workout, set(filter(None, query.get("joins", "").split(","))))
        seed = int(workout_id[:8], 16) if PELOTON_ID.fullmatch(workout_id) else 0
        ranked = workout.get("has_leaderboard_metrics")
        zones = (workout.get("effort_zones") or {}).get("heart_rate_zone_durations")
        item.update(
            {
                "ftp_info": {"ftp": 190, "ftp_source": "ftp_workout_source", "ftp_workout_id": None},
                "leaderboard_rank": seed % 20000 + 1 if ranked else None,
                "total_leaderboard_users": seed % 20000 + 20001 if ranked else None,
                "device_type_display_name": {"home_bike_v1": "Bike", "home_tread": "Tread", "caesar": "Row"}.get(
                    str(workout.get("device_type")), "Peloton App"
                ),
                "achievement_templates": [],
                "average_effort_score": None,
                "total_heart_rate_zone_durations": zones,
                "is_skip_intro_available": True,
            }
        )
        return 200, item

    def _graph(self, workout_id: str, query: dict[str, str]) -> tuple[int, Any]:
        every_n = self._int(query, "every_n", DEFAULT_EVERY_N, 1)
        if not self.account.has_workout(workout_id):
            return 404, _not_found("Workout")
        return 200, self.account.graph(workout_id, every_n)

    def _ride_details(self, ride_id: str) -> tuple[int, Any]:
        ride = self.account.rides.get(ride_id)
        if ride_id == ZERO_RIDE_ID or ride is None or ride_id in self.account.rides_without_details:
            return 404, _not_found("Ride")
        songs: list[dict[str, Any]] = [
            {
                "id": f"{ride_id[:24]}{i:08x}",
                "title": title,
                "artists": [{"artist_id": f"{i:032x}", "artist_name": artist}],
                "start_time_offset": 60 + i * 240,
                "cue_time_offset": 60 + i * 240,
            }
            for i, (title, artist) in enumerate(
                (
                    ("Morning Light", "The Treadwells"),
                    ("Climb Higher", "Nova Reyes"),
                    ("Cool Down Blue", "Harbor Lights"),
                )
            )
        ]
        return 200, {
            "ride": ride,
            "playlist": {
                "id": ride_id[::-1],
                "ride_id": ride_id,
                "songs": songs,
                "is_top_artists_shown": True,
                "is_playlist_shown": True,
                "top_artists": [s["artists"][0] for s in songs],
            },
            "class_types": [
                {
                    "id": ride["ride_type_id"],
                    "name": ride["title"].split(" ", 2)[-1],
                    "fitness_discipline": ride["fitness_discipline"],
                }
            ],
            "segments": {
                "segment_list": [],
                "segment_category_distribution": {},
                "segment_body_focus_distribution": {},
            },
            "events": [],
            "sampled_top_tags": [],
        }


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def serve_demo(n_workouts: int = 360, port: int = 0, latency: float = 0.0, faults: tuple[str, ...] = ()) -> None:
    """Serve the demo account until Ctrl+C, printing where and how to sign in."""
    with FakePeloton(make_account(n_workouts, end=demo_end()), latency=latency, port=port) as srv:
        srv.website.faults.update(faults)
        print(f"Fake Peloton serving {n_workouts} demo workouts at {srv.url}")
        if faults:
            print(f"  sign-in faults: {', '.join(faults)}")
        print(f"  PELOTON_API_URL={srv.url} PELOTON_AUTH_URL={srv.url}")
        print(f"  PELOTON_USERNAME={DEMO_USERNAME} PELOTON_PASSWORD={DEMO_PASSWORD}")
        print("Ctrl+C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the synthetic demo account over Peloton's API.")
    parser.add_argument("--workouts", type=int, default=360)
    parser.add_argument("--port", type=int, default=0, help="0 lets the system choose")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=sorted(FAULTS),
        help="switch a sign-in fault on (repeatable): " + "; ".join(f"{name}: {what}" for name, what in FAULTS.items()),
    )
    args = parser.parse_args(argv)
    serve_demo(args.workouts, args.port, args.latency, tuple(args.fault))


if __name__ == "__main__":
    main()
