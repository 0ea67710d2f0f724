"""The local Peloton stand-in over real HTTP: routes, paging, sign-in, tokens, faults, latency."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import requests
from support import REPO
from support.faulty_peloton import FaultyPeloton

from pelotonxl.demo import tokens
from pelotonxl.demo.account import make_account
from pelotonxl.demo.catalogue import ZERO_RIDE_ID
from pelotonxl.demo.server import DEMO_PASSWORD, DEMO_USERNAME, FakePeloton
from pelotonxl.settings import DEFAULT_CLIENT_ID

FIXTURES = Path(__file__).parent / "fixtures"
USER = "rider@example.com"
SECRET_WORD = "pedal-hard-42"


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def acct():
    return make_account(250, seed=3)


@pytest.fixture
def srv(acct):
    with FaultyPeloton(acct, username=USER, password=SECRET_WORD) as server:
        yield server


def sign_in(server, session: requests.Session | None = None, **overrides) -> requests.Response:
    body = {
        "grant_type": "password",
        "client_id": DEFAULT_CLIENT_ID,
        "scope": "offline_access openid",
        "username": USER,
        "password": SECRET_WORD,
        **overrides,
    }
    return (session or requests).post(server.url + "/oauth/token", json=body, timeout=5)


@pytest.fixture
def api(srv):
    """A signed-in session sending the headers a good client sends."""
    session = requests.Session()
    token = sign_in(srv, session).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "Peloton-Platform": "web"})
    srv.clear_requests()
    yield session
    session.close()


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def workouts_url(server, user_id: str) -> str:
    return f"{server.url}/api/user/{user_id}/workouts"


# ---- paging ------------------------------------------------------------------------------


def test_paging_past_the_100_cap(srv, api, acct):
    pages = [
        api.get(
            workouts_url(srv, acct.user_id),
            params={"joins": "ride,ride.instructor", "limit": 100, "page": p, "sort_by": "-created"},
        ).json()
        for p in range(3)
    ]
    assert [len(p["data"]) for p in pages] == [100, 100, 50]
    assert [(p["page"], p["count"], p["total"], p["page_count"]) for p in pages] == [
        (0, 100, 250, 3),
        (1, 100, 250, 3),
        (2, 50, 250, 3),
    ]
    assert [(p["show_previous"], p["show_next"]) for p in pages] == [(False, True), (True, True), (True, False)]
    assert [w["id"] for p in pages for w in p["data"]] == [w["id"] for w in acct.workouts]
    assert pages[0]["next"]["workout_id"] == pages[1]["data"][0]["id"] and pages[2]["next"] is None
    assert sum(pages[0]["summary"].values()) == 250 and pages[0]["sort_by"] == "-created_at,-pk"


def test_limit_is_capped_at_100_and_past_the_end_is_empty(srv, api, acct):
    body = api.get(workouts_url(srv, acct.user_id), params={"limit": 250, "page": 0}).json()
    assert body["limit"] == 100 and len(body["data"]) == 100 and body["page_count"] == 3
    beyond = api.get(workouts_url(srv, acct.user_id), params={"limit": 100, "page": 9}).json()
    assert beyond["data"] == [] and beyond["show_next"] is False and beyond["count"] == 0


def test_small_pages_and_default_limit(srv, api, acct):
    body = api.get(workouts_url(srv, acct.user_id), params={"limit": 25, "page": 9}).json()
    assert (len(body["data"]), body["page_count"], body["show_next"]) == (25, 10, False)
    assert len(api.get(workouts_url(srv, acct.user_id)).json()["data"]) == 20


def test_bad_paging_values_and_another_users_id(srv, api, acct):
    assert api.get(workouts_url(srv, acct.user_id), params={"limit": "lots"}).status_code == 400
    assert api.get(workouts_url(srv, acct.user_id), params={"page": -1}).status_code == 400
    other = api.get(workouts_url(srv, "f" * 32))
    assert other.status_code == 404 and other.json()["status"] == 404


def test_ride_and_instructor_only_when_joined(srv, api, acct):
    url = workouts_url(srv, acct.user_id)
    plain = api.get(url, params={"limit": 100}).json()["data"]
    ride = api.get(url, params={"limit": 100, "joins": "ride"}).json()["data"]
    full = api.get(url, params={"limit": 100, "joins": "ride,ride.instructor"}).json()["data"]
    assert all("ride" not in w for w in plain)
    with_ride = [w for w in ride if "ride" in w]
    assert with_ride and all("instructor" not in w["ride"] and "instructor_id" in w["ride"] for w in with_ride)
    assert any(w["ride"]["instructor"] for w in full if "ride" in w)
    # Workouts without a class never get a ride, joined or not.
    bare = {w["id"] for w in acct.workouts[:100] if "ride" not in w}
    assert bare and all("ride" not in w for w in full if w["id"] in bare)


def test_a_growing_account_shows_on_the_next_page_request(acct):
    grown = make_account(40, seed=5)
    with FakePeloton(grown) as server:
        session = requests.Session()
        token = sign_in(server, session, username=DEMO_USERNAME, password=DEMO_PASSWORD).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        grown.add_workouts(3)
        body = session.get(workouts_url(server, grown.user_id), params={"limit": 100}).json()
        assert body["total"] == 43 and body["data"][0]["id"] == grown.workouts[0]["id"]


# ---- other routes ------------------------------------------------------------------------


def test_me_workout_graph_and_ride_details(srv, api, acct):
    me = api.get(srv.url + "/api/me").json()
    assert me["id"] == acct.user_id and me["total_workouts"] == 250
    classy = next(w for w in acct.workouts if w.get("ride") and w["ride"]["id"] in acct.rides)
    one = api.get(f"{srv.url}/api/workout/{classy['id']}", params={"joins": "ride,ride.instructor"}).json()
    assert one["id"] == classy["id"] and "ftp_info" in one and "leaderboard_rank" in one
    assert one["ride"]["id"] == classy["ride"]["id"]
    graph = api.get(f"{srv.url}/api/workout/{classy['id']}/performance_graph", params={"every_n": 60}).json()
    assert graph == acct.graph(classy["id"], 60)
    details = api.get(f"{srv.url}/api/ride/{classy['ride']['id']}/details").json()
    assert details["ride"]["id"] == classy["ride"]["id"] and details["playlist"]["songs"]


def test_unknown_ids_and_zero_ride_are_404(srv, api, acct):
    assert api.get(f"{srv.url}/api/workout/{'a' * 32}").status_code == 404
    assert api.get(f"{srv.url}/api/workout/{'a' * 32}/performance_graph?every_n=5").status_code == 404
    assert api.get(f"{srv.url}/api/ride/{ZERO_RIDE_ID}/details").status_code == 404
    assert api.get(f"{srv.url}/api/ride/{'b' * 32}/details").status_code == 404
    assert api.get(f"{srv.url}/api/nothing/here").status_code == 404
    wid = acct.workouts[0]["id"]
    assert api.get(f"{srv.url}/api/workout/{wid}/performance_graph?every_n=0").status_code == 400


def test_payloads_have_the_shapes_of_the_real_samples(srv, api, acct):
    page = api.get(workouts_url(srv, acct.user_id), params={"limit": 100, "joins": "ride"}).json()
    real_page = fixture("workouts_page_joins_ride.json")
    assert set(real_page) <= set(page)
    real_item = real_page["data"][0]
    item = next(w for w in page["data"] if "ride" in w)
    assert set(real_item) - {"ride", "has_leaderboard_metrics"} <= set(item)
    shared_ride_keys = {
        "id",
        "title",
        "duration",
        "difficulty_rating_avg",
        "overall_rating_avg",
        "original_air_time",
        "fitness_discipline",
        "instructor_id",
        "has_pedaling_metrics",
        "pedaling_start_offset",
        "pedaling_duration",
        "length",
        "is_fixed_distance",
    }
    assert shared_ride_keys <= set(real_item["ride"]) and shared_ride_keys <= set(item["ride"])
    real_graph = fixture("performance_graph_cycling.json")
    bike = next(
        w
        for w in acct.workouts
        if w["device_type"] == "home_bike_v1" and w["effort_zones"] and w["fitness_discipline"] == "cycling"
    )
    graph = api.get(f"{srv.url}/api/workout/{bike['id']}/performance_graph?every_n=45").json()
    assert set(real_graph) - {"splits_data"} <= set(graph)
    real_hr = next(m for m in real_graph["metrics"] if m["slug"] == "heart_rate")
    hr = next(m for m in graph["metrics"] if m["slug"] == "heart_rate")
    assert set(real_hr) == set(hr) and set(real_hr["zones"][0]) == set(hr["zones"][0])
    assert set(real_graph["summaries"][0]) == set(graph["summaries"][0])
    assert set(real_graph["segment_list"][0]) <= set(graph["segment_list"][0])
    real_me = fixture("legacy_auth_login_response.json")["user_data"]
    me = api.get(srv.url + "/api/me").json()
    assert set(real_me) - {"contract_agreements"} <= set(me)
    assert set(real_me["workout_counts"][0]) == set(me["workout_counts"][0])


# ---- sign-in and tokens ------------------------------------------------------------------


def test_password_grant_gives_a_signed_jwt_and_a_refresh_token(srv, acct):
    reply = sign_in(srv)
    assert reply.status_code == 200
    body = reply.json()
    assert {"access_token", "refresh_token", "id_token", "scope", "token_type", "expires_in"} <= set(body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 172800
    token = claims(body["access_token"])
    assert token["http://onepeloton.com/user_id"] == acct.user_id and token["sub"].endswith(acct.user_id)
    assert token["exp"] - token["iat"] == 172800
    assert srv.requests[-1].path == "/oauth/token" and srv.requests[-1].status == 200


def test_sign_in_refusals_are_auth0_errors(srv):
    wrong = sign_in(srv, password="nope")
    assert wrong.status_code == 403
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Wrong email or password."}
    assert sign_in(srv, username="someone@else.com").status_code == 403
    client = sign_in(srv, client_id="WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM")
    assert client.status_code == 403 and client.json() == {
        "error": "unauthorized_client",
        "error_description": "Grant type 'password' not allowed for the client.",
    }
    assert sign_in(srv, username=USER.upper()).status_code == 200  # emails are not case sensitive


def test_refresh_grant_and_revoked_refresh_tokens(srv, acct):
    first = sign_in(srv).json()
    body = {"grant_type": "refresh_token", "client_id": DEFAULT_CLIENT_ID, "refresh_token": first["refresh_token"]}
    renewed = requests.post(srv.url + "/oauth/token", json=body, timeout=5)
    assert renewed.status_code == 200
    assert renewed.json()["access_token"] != first["access_token"]
    assert claims(renewed.json()["access_token"])["http://onepeloton.com/user_id"] == acct.user_id
    srv.revoke_refresh_tokens()
    refused = requests.post(srv.url + "/oauth/token", json=body, timeout=5)
    assert refused.status_code == 403
    assert refused.json() == {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
    again = sign_in(srv).json()  # a password sign-in still works and its refresh token too
    body["refresh_token"] = again["refresh_token"]
    assert requests.post(srv.url + "/oauth/token", json=body, timeout=5).status_code == 200


def test_legacy_login_is_gone(srv):
    reply = requests.post(srv.url + "/auth/login", json={"username_or_email": USER, "password": SECRET_WORD}, timeout=5)
    assert reply.status_code == 403
    assert reply.json() == {"status": 403, "message": "Access forbidden. Endpoint no longer accepting requests."}


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer not.a.token", "Basic abc"])
def test_api_without_a_valid_token_is_401(srv, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    reply = requests.get(srv.url + "/api/me", headers=headers, timeout=5)
    assert reply.status_code == 401
    assert reply.json() == {
        "status": 401,
        "error_code": 3020,
        "subcode": None,
        "message": "Not logged in",
        "details": None,
    }


def test_a_tampered_token_is_refused(srv):
    token = sign_in(srv).json()["access_token"]
    header, payload, signature = token.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["exp"] += 10**6
    payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    reply = requests.get(
        srv.url + "/api/me", headers={"Authorization": f"Bearer {header}.{payload}.{signature}"}, timeout=5
    )
    assert reply.status_code == 401


def test_a_short_lived_token_expires_mid_run(acct, monkeypatch):
    # The server's clock is the test's: it stands still while a loaded machine is slow, then moves on 1.1 s
    # instead of the test sleeping.
    clock = [time.time()]
    monkeypatch.setattr(tokens, "time", types.SimpleNamespace(time=lambda: clock[0]))
    with FaultyPeloton(acct, token_lifetime=1) as server:
        token = sign_in(server, username=DEMO_USERNAME, password=DEMO_PASSWORD).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(server.url + "/api/me", headers=headers, timeout=5).status_code == 200
        clock[0] += 1.1
        assert requests.get(server.url + "/api/me", headers=headers, timeout=5).status_code == 401


def test_tokens_survive_a_restart_with_the_same_secret(acct):
    with FaultyPeloton(acct, secret=b"kept") as server:
        token = server.mint_access_token()
    headers = {"Authorization": f"Bearer {token}"}
    with FakePeloton(acct, secret=b"kept") as again:
        assert requests.get(again.url + "/api/me", headers=headers, timeout=5).status_code == 200
    with FakePeloton(acct, secret=b"another") as other:
        assert requests.get(other.url + "/api/me", headers=headers, timeout=5).status_code == 401


def test_a_stopped_server_answers_nobody_even_on_a_kept_alive_connection(acct):
    server = FakePeloton(acct).start()
    session = requests.Session()
    assert session.post(server.url + "/auth/login", json={}, timeout=5).status_code == 403
    url = server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        session.post(url + "/auth/login", json={}, timeout=5)
    with pytest.raises(RuntimeError):
        _ = server.url


# ---- request log -------------------------------------------------------------------------


def test_request_log_records_path_query_status_and_platform_header(srv, api, acct):
    api.get(workouts_url(srv, acct.user_id), params={"limit": 100, "page": 1})
    requests.get(srv.url + "/api/me", timeout=5)
    first, second = srv.requests
    assert (first.method, first.path, first.status, first.platform_header) == (
        "GET",
        f"/api/user/{acct.user_id}/workouts",
        200,
        True,
    )
    assert first.query == {"limit": "100", "page": "1"}
    assert (second.path, second.status, second.platform_header) == ("/api/me", 401, False)
    assert srv.request_count() == 2 and srv.request_count("/oauth") == 0
    srv.clear_requests()
    assert srv.requests == [] and srv.request_count() == 0


# ---- faults --------------------------------------------------------------------------------


def test_fail_next_429_with_and_without_retry_after(srv, api):
    srv.fail_next(r"^/api/me$", status=429, headers={"Retry-After": "7"})
    limited = api.get(srv.url + "/api/me")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert api.get(srv.url + "/api/me").status_code == 200  # fired once
    srv.fail_next(r"^/api/me$", status=429)
    bare = api.get(srv.url + "/api/me")
    assert bare.status_code == 429 and "Retry-After" not in bare.headers and bare.text == "error code: 1015"


def test_fail_next_counts_down_and_matches_query_values(srv, api, acct):
    srv.fail_next(r"/workouts$", status=503, times=2, page="1")
    url = workouts_url(srv, acct.user_id)
    assert api.get(url, params={"page": 0}).status_code == 200
    assert [api.get(url, params={"page": 1}).status_code for _ in range(3)] == [503, 503, 200]
    srv.fail_next(r"/workouts$", status=500, body={"custom": True})
    assert api.get(url).json() == {"custom": True}


def test_401_once_even_with_a_valid_token(srv, api):
    srv.fail_next(r"^/api/me$", status=401)
    first = api.get(srv.url + "/api/me")
    assert first.status_code == 401 and first.json()["error_code"] == 3020
    assert api.get(srv.url + "/api/me").status_code == 200


def test_html_error_page(srv, api, acct):
    srv.html_error_next(r"/performance_graph$", status=502)
    reply = api.get(f"{srv.url}/api/workout/{acct.workouts[0]['id']}/performance_graph?every_n=5")
    assert reply.status_code == 502 and reply.headers["Content-Type"].startswith("text/html")
    assert "<html" in reply.text and "Cloudflare" in reply.text
    with pytest.raises(ValueError):
        reply.json()


def test_malformed_json(srv, api):
    srv.malformed_json_next(r"^/api/me$")
    reply = api.get(srv.url + "/api/me")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(reply.text)
    assert api.get(srv.url + "/api/me").json()["id"]


def test_reset_closes_the_connection_without_a_reply(srv, api):
    srv.reset_next(r"^/api/me$")
    with pytest.raises(requests.ConnectionError):
        api.get(srv.url + "/api/me")
    assert srv.requests[-1].status is None
    assert api.get(srv.url + "/api/me").status_code == 200


def test_slow_reply_trips_a_read_timeout(srv, api):
    srv.slow_next(r"^/api/me$", 0.8)
    with pytest.raises(requests.ReadTimeout):
        api.get(srv.url + "/api/me", timeout=(2, 0.2))
    assert api.get(srv.url + "/api/me", timeout=(2, 0.5)).status_code == 200  # the fault was used up


def test_a_graph_that_always_fails(srv, api, acct):
    bad, good = acct.workouts[7]["id"], acct.workouts[8]["id"]
    srv.always_fail_graph(bad, status=503)
    assert [api.get(f"{srv.url}/api/workout/{bad}/performance_graph").status_code for _ in range(3)] == [503] * 3
    assert api.get(f"{srv.url}/api/workout/{good}/performance_graph").status_code == 200
    srv.always_fail_graph(None)
    assert api.get(f"{srv.url}/api/workout/{bad}/performance_graph").status_code == 200


def test_clear_faults(srv, api):
    srv.fail_next(r"^/api/me$", status=500, times=100)
    srv.always_fail_graph("a" * 32)
    srv.clear_faults()
    assert api.get(srv.url + "/api/me").status_code == 200
    assert srv.faults.failing_graphs == {}


# ---- latency and speed ---------------------------------------------------------------------


def test_latency_overlaps_across_concurrent_requests(srv, api):
    srv.latency = 0.2
    token = api.headers["Authorization"]
    codes: list[int] = []

    def fetch():
        codes.append(requests.get(srv.url + "/api/me", headers={"Authorization": token}, timeout=5).status_code)

    # Overlapped, not queued: each reply waits until all four requests are being answered at once,
    # which a server answering one after another never reaches (the barrier breaks: no 200s).
    all_four = threading.Barrier(4, timeout=10)
    answer = srv.respond

    def respond_together(request):
        all_four.wait()
        return answer(request)

    srv.respond = respond_together
    threads = [threading.Thread(target=fetch) for _ in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4
    assert time.perf_counter() - started >= 0.2  # the latency was applied (a sleep's lower bound)


def test_kept_alive_requests_share_one_connection_without_nagle_delays(srv, api, acct):
    api.get(srv.url + "/api/me")
    for w in acct.workouts[:50]:
        assert api.get(f"{srv.url}/api/workout/{w['id']}/performance_graph?every_n=300").status_code == 200
    connections = list(srv._server.open_connections)
    assert len(connections) == 1  # kept alive: one connection for 51 requests
    # Without TCP_NODELAY each small reply waits ~40 ms for the client's delayed ACK.
    assert connections[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.mark.e2e
def test_module_serves_the_demo_from_the_command_line():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pelotonxl.demo.server", "--workouts", "30"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        url = first.split(" at ")[1].strip()
        token = requests.post(
            url + "/oauth/token",
            timeout=5,
            json={
                "grant_type": "password",
                "client_id": DEFAULT_CLIENT_ID,
                "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD,
            },
        ).json()["access_token"]
        me = requests.get(url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert me["total_workouts"] == 30
    finally:
        proc.terminate()
        proc.wait(timeout=10)
