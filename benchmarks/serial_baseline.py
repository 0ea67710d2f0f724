"""The serial, cache-less baseline: how the seed script fetched a history, one request at a time.

Sign in, page through the workout list (100 a page), then fetch every performance graph in turn
with one plain requests.Session, and keep nothing. The seed's `/auth/login` is gone, so it signs in
with the same Auth0 password grant peloton_xl uses: both sides pay for exactly one sign-in request.

Run as a script by bench_refresh.py, in its own process, so its wall time and peak memory are
measured the same way as the CLI's. The password comes from PELOTON_PASSWORD, never the command line.

    PELOTON_PASSWORD=... python benchmarks/serial_baseline.py --api-url URL --username NAME
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys

import requests

# The same values peloton_xl sends, so both sides ask the server for the same work.
CLIENT_ID = "mgsmWCD0A8Qn6uz6mmqI6qeBNHH9IPwS"
SCOPE = "offline_access openid"
USER_ID_CLAIM = "http://onepeloton.com/user_id"
PAGE_SIZE = 100


def fetch_everything(api_url: str, auth_url: str, username: str, password: str, every_n: int) -> dict:
    """Fetch every workout and graph serially; return counts only (the data is dropped)."""
    http = requests.Session()
    requests_made = 1
    resp = http.post(
        auth_url.rstrip("/") + "/oauth/token",
        json={
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "scope": SCOPE,
            "username": username,
            "password": password,
        },
        timeout=30,
    )
    resp.raise_for_status()
    token = resp.json()["access_token"]
    user_id = _user_id(token)
    headers = {"Authorization": f"Bearer {token}", "Peloton-Platform": "web", "Accept": "application/json"}
    base = api_url.rstrip("/")

    workout_ids: list[str] = []
    page = 0
    while True:
        resp = http.get(
            f"{base}/api/user/{user_id}/workouts",
            headers=headers,
            timeout=30,
            params={"joins": "ride,ride.instructor", "limit": PAGE_SIZE, "page": page, "sort_by": "-created"},
        )
        requests_made += 1
        resp.raise_for_status()
        body = resp.json()
        workout_ids += [w["id"] for w in body["data"]]
        if not body["data"] or not body.get("show_next"):
            break
        page += 1

    graph_bytes = 0
    for wid in workout_ids:
        resp = http.get(
            f"{base}/api/workout/{wid}/performance_graph", headers=headers, timeout=30, params={"every_n": every_n}
        )
        requests_made += 1
        resp.raise_for_status()
        graph_bytes += len(resp.content)
        resp.json()  # parsed, as any real client would, then dropped
    return {
        "workouts": len(workout_ids),
        "pages": page + 1,
        "graphs": len(workout_ids),
        "graph_bytes": graph_bytes,
        "requests": requests_made,
    }


def _user_id(token: str) -> str:
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return str(json.loads(base64.urlsafe_b64decode(payload))[USER_ID_CLAIM])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--api-url", required=True)
    p.add_argument("--auth-url", help="default: the API URL")
    p.add_argument("--username", required=True)
    p.add_argument("--every-n", type=int, default=300)
    args = p.parse_args(argv)
    password = os.environ.get("PELOTON_PASSWORD", "")
    if not password:
        print("serial_baseline: set PELOTON_PASSWORD", file=sys.stderr)
        return 1
    counts = fetch_everything(args.api_url, args.auth_url or args.api_url, args.username, password, args.every_n)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
