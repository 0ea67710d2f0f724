"""HTTP as peloton_xl sends it: no redirect off the origin, an overall deadline, a size cap.

requests alone would follow a 307 from the sign-in to any host with the password in the body, wait for
ever on a body dribbled a byte at a time (its timeout is per read), and hold any reply whole in memory.
`send` runs one request in a worker thread that streams the body within a byte budget, and gives up on
it at the deadline whatever the server does; `GuardedSession` refuses a redirect to another host or
from https to http before anything is resent.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

DEFAULT_DEADLINE = 120.0  # seconds for one request, from sending it to its last byte
# A page of 100 workouts is ~300 kB and a one-second graph of a two-hour ride ~1 MB: 8 MB is generous,
# and small enough that a refresh parsing one stays well under 300 MB whatever the server sends.
DEFAULT_MAX_BYTES = 8 * 2**20
CHUNK = 64 * 1024


class RedirectRefused(requests.RequestException):
    """A redirect off the origin (another host or port, or https to http): never followed."""


class ReplyTooLarge(requests.RequestException):
    """A body past the size cap: dropped as it streams in, never held."""


class DeadlinePassed(requests.RequestException):
    """The whole request took longer than its deadline (a body dribbled in, headers that never end)."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:  # a port that is not a number
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port


def refused_redirect(from_url: str, to_url: str) -> str | None:
    """Why a redirect from `from_url` to `to_url` must not be followed, or None when it stays on the origin
    (an http to https upgrade of the same host is no departure)."""
    old, new = _origin(from_url), _origin(to_url)
    if old[0] == "https" and new[0] == "http":
        return "redirected from https to http"
    upgrade = old[0] == "http" and new[0] == "https" and old[1] == new[1]
    if new[0] not in ("http", "https") or (new[1:] != old[1:] and not upgrade):
        host = new[1][:60] or "a URL without a host"
        port = f":{new[2]}" if new[1] == old[1] and new[2] != old[2] else ""  # the same name, another port
        return f"redirected to another host ({host}{port})"
    return None


class GuardedSession(requests.Session):
    """A session whose redirects stay on the origin they started from."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target: str | None = super().get_redirect_target(resp)
        if target is not None:
            why = refused_redirect(resp.url, urljoin(resp.url, target))
            if why:
                resp.close()
                raise RedirectRefused(why)
        return target


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    deadline: float = DEFAULT_DEADLINE,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **kwargs: Any,
) -> requests.Response:
    """`session.request(method, url, **kwargs)` with its body read in full (`.content` is set), within
    `deadline` seconds overall and `max_bytes` of body. Raises DeadlinePassed or ReplyTooLarge (both
    requests exceptions) instead of waiting or holding more; a redirect off the origin raises
    RedirectRefused when `session` is a GuardedSession."""
    result: Future[requests.Response] = Future()
    stop = threading.Event()
    worker = threading.Thread(
        target=_fetch, args=(session, method, url, kwargs, max_bytes, stop, result), daemon=True, name="http"
    )
    worker.start()
    try:
        return result.result(timeout=deadline)
    except TimeoutError:
        stop.set()  # the worker drops the connection at its next chunk (or its read timeout)
        raise DeadlinePassed(f"no complete answer within {deadline:g} seconds") from None


def _fetch(
    session: requests.Session,
    method: str,
    url: str,
    kwargs: dict[str, Any],
    max_bytes: int,
    stop: threading.Event,
    result: Future[requests.Response],
) -> None:
    try:
        resp = session.request(method, url, stream=True, **kwargs)
        try:
            resp._content = _read_body(resp, max_bytes, stop)  # what .content, .text and .json() read
        finally:
            resp.close()
    except BaseException as exc:  # handed to the waiting caller, which raises it
        if not result.done():
            result.set_exception(exc)
        return
    if not result.done():
        result.set_result(resp)


def _read_body(resp: requests.Response, max_bytes: int, stop: threading.Event) -> bytes:
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ReplyTooLarge(f"{int(declared) // 2**20} MB announced, more than {max_bytes // 2**20} MB")
    body = bytearray()
    try:
        _read_into(body, resp.raw, max_bytes, stop)
        return bytes(body)
    finally:
        # An exception's traceback keeps this frame, and so the body, alive for as long as the error is
        # kept (a failed graph's, until the refresh ends): empty it now.
        body.clear()


def _read_into(body: bytearray, raw: Any, max_bytes: int, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise DeadlinePassed("given up")
        # read1: whatever has arrived (at most CHUNK), so a dribbled body is checked byte by byte.
        try:
            chunk = raw.read1(CHUNK, decode_content=True)
        except ProtocolError as exc:  # as requests' own iter_content translates them
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc) from None
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        if not chunk:
            return
        body += chunk
        if len(body) > max_bytes:
            raise ReplyTooLarge(f"more than {max_bytes // 2**20} MB")


def tls_line(url: str, exc: Exception, setting: str) -> str:
    """One line for a TLS failure: it is the certificate (or the proxy presenting one), not the connection."""
    host = urlsplit(url).hostname or url
    text = str(exc)
    reason = (
        "its certificate could not be verified" if "CERTIFICATE" in text.upper() else "the secure connection failed"
    )
    return (
        f"{host}: {reason} (TLS). A proxy or antivirus that inspects HTTPS, or a wrong clock, causes this: "
        f"set REQUESTS_CA_BUNDLE to your organisation's certificate file, or check {setting}."
    )
