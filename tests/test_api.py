"""The API client over real HTTP: paging, headers, retries, backoff and unreadable answers."""

from __future__ import annotations

import pytest
import requests
from support import settings_for

from pelotonxl.demo.account import make_account
from pelotonxl.errors import ApiError
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.client import Pacer, PelotonClient, new_session


@pytest.fixture
def account():
    return make_account(250, seed=11)  # two and a half pages of 100: paging is the point here


class FakeClock:
    """Time that moves only when someone sleeps: backoff is checked without waiting."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(settings, clock: FakeClock | None = None, **kwargs) -> PelotonClient:
    auth = Authenticator(settings, TokenStore(settings.home_path, settings.username), requests.Session())
    pacer = Pacer(clock=clock, sleep=clock.sleep) if clock else Pacer(base=0.01, cap=0.05)
    return PelotonClient(settings, auth, pacer=pacer, **kwargs)


def test_every_workout_past_the_100_cap_in_pages_of_100(server, settings, account):
    client = make_client(settings)
    pages = list(client.workout_pages(client.user_id()))
    assert [len(p) for p in pages] == [100, 100, 50]
    ids = [w["id"] for p in pages for w in p]
    assert ids == [w["id"] for w in account.workouts]  # all 250, newest first, no repeats
    listed = [r for r in server.requests if r.path.endswith("/workouts")]
    assert [r.query["page"] for r in listed] == ["0", "1", "2"]
    assert {r.query["limit"] for r in listed} == {"100"}
    assert all(r.query["joins"] == "ride,ride.instructor" for r in listed)


def test_every_api_call_sends_the_platform_header(server, settings):
    client = make_client(settings)
    list(client.workout_pages(client.user_id()))
    api_calls = [r for r in server.requests if r.path.startswith("/api")]
    assert api_calls and all(r.platform_header for r in api_calls)


def test_user_id_comes_from_the_token_without_a_request(server, settings, account):
    client = make_client(settings)
    assert client.user_id() == account.user_id
    assert [r.path for r in server.requests] == ["/oauth/token"]


def test_429_with_retry_after_is_honoured(server, settings):
    clock = FakeClock()
    client = make_client(settings, clock)
    uid = client.user_id()
    server.fail_next(r"/workouts$", status=429, times=1, headers={"Retry-After": "7"})
    assert len(next(client.workout_pages(uid))) == 100
    assert clock.sleeps == [7.0]


def test_retry_after_is_capped(server, settings):
    clock = FakeClock()
    client = make_client(settings, clock)
    uid = client.user_id()
    server.fail_next(r"/workouts$", status=429, times=1, headers={"Retry-After": "86400"})
    next(client.workout_pages(uid))
    assert clock.sleeps == [client.pacer.retry_after_cap]


def test_429_without_retry_after_and_5xx_back_off_exponentially_with_jitter(server, settings):
    clock = FakeClock()
    client = make_client(settings, clock)
    uid = client.user_id()
    server.fail_next(r"/workouts$", status=429, times=1)
    server.fail_next(r"/workouts$", status=503, times=2)
    next(client.workout_pages(uid))
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps):
        full = client.pacer.base * 2**attempt
        assert full / 2 <= slept <= full  # equal jitter: half fixed, half random


def test_gives_up_after_bounded_retries_with_a_clear_error(server, settings):
    clock = FakeClock()
    client = make_client(settings, clock, max_attempts=3)
    uid = client.user_id()
    server.fail_next(r"/workouts$", status=500, times=10)
    with pytest.raises(ApiError, match="HTTP 500") as err:
        next(client.workout_pages(uid))
    assert err.value.status == 500 and "/workouts" in str(err.value)
    assert len(clock.sleeps) == 2


def test_connection_reset_is_retried(server, settings):
    client = make_client(settings)
    uid = client.user_id()
    server.reset_next(r"/workouts$")
    assert len(next(client.workout_pages(uid))) == 100


def test_read_timeout_is_retried(server, settings):
    client = make_client(settings, timeout=(2.0, 0.3))
    uid = client.user_id()
    server.slow_next(r"/workouts$", 1.0)
    assert len(next(client.workout_pages(uid))) == 100


def test_html_error_page_names_the_endpoint(server, settings):
    client = make_client(settings, max_attempts=1)
    client.user_id()
    server.html_error_next(r"/performance_graph$", status=200)
    with pytest.raises(ApiError) as err:
        client.performance_graph("a" * 32)
    assert "HTML page" in str(err.value) and "/performance_graph" in str(err.value)
    assert "Traceback" not in str(err.value) and "<" not in str(err.value)


def test_malformed_json_names_the_endpoint(server, settings, account):
    client = make_client(settings)
    client.user_id()
    server.malformed_json_next(r"/api/me$")
    with pytest.raises(ApiError, match="malformed JSON for /api/me"):
        client.get_json("/api/me")


def test_one_pushback_slows_every_thread_of_the_pool():
    clock = FakeClock()
    pacer = Pacer(base=2.0, clock=clock, sleep=clock.sleep)
    delay = pacer.push_back(None)
    pacer.wait_turn()  # another thread, about to send its own request
    assert clock.sleeps == [pytest.approx(delay)]
    pacer.wait_turn()  # once the pause is over nobody waits
    assert len(clock.sleeps) == 1
    pacer.push_back(None)
    pacer.push_back(None)
    assert pacer.waits[2] >= 4.0  # consecutive pushbacks grow
    pacer.ok()
    assert pacer.push_back(None) <= 2.0  # success resets the growth


def test_an_unusable_api_url_is_one_clear_error_without_retries(server, home):

    settings = settings_for(server, home, api_url="htp://127.0.0.1:9")
    clock = FakeClock()
    client = make_client(settings, clock)
    with pytest.raises(ApiError, match="Check the API URL setting"):
        client.get_json("/api/me")
    assert clock.sleeps == []


def test_a_login_in_netrc_never_replaces_the_token(server, settings, tmp_path, monkeypatch):
    # requests sends a ~/.netrc login (a `default` entry is enough) as Basic auth in place of the
    # Bearer token unless the session has an auth of its own: every call would answer 401.
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone@example.com password not-peloton\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    http = new_session(settings.workers)
    auth = Authenticator(settings, TokenStore(settings.home_path, settings.username), http)
    client = PelotonClient(settings, auth, http=http, pacer=Pacer(base=0.01, cap=0.05))
    pages = list(client.workout_pages(client.user_id()))
    assert sum(map(len, pages)) == 250
    assert {r.status for r in server.requests} == {200}
