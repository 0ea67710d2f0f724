"""Sync stories against the local server: sync, change things upstream, sync again, check the store."""

from __future__ import annotations

import pytest
import requests

from pelotonxl.demo.account import make_account
from pelotonxl.errors import ApiError
from pelotonxl.peloton import sync as sync_module
from pelotonxl.peloton.auth import Authenticator, TokenStore
from pelotonxl.peloton.client import Pacer, PelotonClient
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.peloton.sync import sync

N = 150  # a page and a half of 100: paging is the point here


@pytest.fixture
def account():
    return make_account(N, seed=11)


def run_sync(settings, full=False, max_attempts=2):
    auth = Authenticator(settings, TokenStore(settings.home_path, settings.username), requests.Session())
    client = PelotonClient(settings, auth, pacer=Pacer(base=0.01, cap=0.02), max_attempts=max_attempts)
    uid = client.user_id()
    with WorkoutStore.for_account(settings.home_path, uid) as store:
        report = sync(client, store, uid, full=full)
        return report, store.failures(), store.count()


def api_requests(server):
    return [r for r in server.requests if r.path.startswith("/api")]


def graph_requests(server):
    return [r.path.split("/")[3] for r in server.requests if r.path.endswith("/performance_graph")]


def test_first_sync_stores_every_workout_and_graph(server, settings, account):
    report, failures, count = run_sync(settings)
    assert (report.total, report.new, report.graphs_fetched, count) == (N, N, N, N)
    assert failures == {} and report.failed == {}
    assert sorted(graph_requests(server)) == sorted(w["id"] for w in account.workouts)
    every_n = {r.query["every_n"] for r in server.requests if r.path.endswith("/performance_graph")}
    assert every_n == {str(settings.every_n)}


def test_nothing_new_costs_one_request(server, settings):
    run_sync(settings)
    server.clear_requests()
    report, _, _ = run_sync(settings)
    assert (report.new, report.graphs_fetched) == (0, 0)
    assert len(server.requests) == 1  # page 0; the token and user id are reused
    assert server.requests[0].path.endswith("/workouts")


def test_only_new_workouts_are_fetched(server, settings, account):
    run_sync(settings)
    added = account.add_workouts(5)
    server.clear_requests()
    report, _, count = run_sync(settings)
    assert (report.new, report.graphs_fetched, count) == (5, 5, N + 5)
    assert sorted(graph_requests(server)) == sorted(w["id"] for w in added)
    assert len(api_requests(server)) == 6  # one page and five graphs


def test_more_new_workouts_than_a_page_are_all_fetched(server, settings, account):
    run_sync(settings)
    account.add_workouts(130)
    report, _, count = run_sync(settings)
    assert (report.new, count) == (130, N + 130)


def test_in_progress_workout_is_summarised_once_finished(server, settings, account):
    run_sync(settings)
    (live,) = account.add_workouts(1)
    account.mark_in_progress(live["id"])
    report, _, _ = run_sync(settings)
    assert report.new == 1 and report.graphs_fetched == 0  # listed, not summarised
    account.finish(live["id"])
    server.clear_requests()
    report, _, _ = run_sync(settings)
    assert report.graphs_fetched == 1 and graph_requests(server) == [live["id"]]


def test_a_failing_graph_is_named_and_retried_next_time(server, settings, account):
    bad = account.workouts[17]["id"]
    server.always_fail_graph(bad)
    report, failures, count = run_sync(settings)
    assert count == N and report.graphs_fetched == N - 1
    assert list(report.failed) == [bad] and bad in failures
    server.always_fail_graph(None)
    server.clear_requests()
    report, failures, _ = run_sync(settings)
    assert graph_requests(server) == [bad] and failures == {} and report.failed == {}


def test_a_sync_killed_midway_is_completed_by_the_next(server, settings, account):
    """The first run dies during the graphs (here: an unexpected error) after some were committed."""
    server.fail_next(r"/performance_graph$", status=500, times=1000)
    report, failures, count = run_sync(settings, max_attempts=1)
    assert count == N and len(failures) == N
    server.clear_faults()
    report, failures, count = run_sync(settings)
    assert report.graphs_fetched == N and failures == {}


def test_a_sync_that_stops_during_paging_resumes_the_walk(server, settings, account):
    server.fail_next(r"/workouts$", status=500, times=100, page="1")
    with pytest.raises(ApiError):
        run_sync(settings, max_attempts=1)
    server.clear_faults()
    report, _, count = run_sync(settings)
    assert count == N  # page 0 was already known, but the walk did not stop there


def test_full_sync_refetches_and_drops_what_was_deleted_upstream(server, settings, account):
    run_sync(settings)
    gone = account.workouts[3]["id"]
    account.delete_workout(gone)
    server.clear_requests()
    report, _, count = run_sync(settings)
    assert count == N  # incremental: deletions are not noticed
    report, _, count = run_sync(settings, full=True)
    assert (report.pruned, count, report.graphs_fetched) == (1, N - 1, N - 1)


def test_a_workout_listed_twice_counts_once(server, settings, account):
    """A server that repeats an item (within a page, or across pages as they shift) must not inflate "new"."""
    account.workouts.insert(1, account.workouts[0])  # twice on the first page
    account.workouts.insert(140, account.workouts[50])  # on page 1, and again on page 2 (100 a page)
    report, _, count = run_sync(settings)
    assert (report.new, report.total, count) == (N, N, N)
    assert len(graph_requests(server)) == N  # and each graph fetched once


def test_a_store_of_coarse_graphs_is_refined_a_bounded_number_per_refresh(server, settings, account, monkeypatch):
    """A store filled at the old 300-second default upgrades itself across normal refreshes, newest first."""
    monkeypatch.setattr(sync_module, "REFINE_PER_REFRESH", 60)
    settings.every_n = 300
    run_sync(settings)
    settings.every_n = 5
    newest_first = [w["id"] for w in account.workouts]
    left = []
    for expected_refined in (60, 60, 30, 0):
        server.clear_requests()
        report, failures, count = run_sync(settings)
        assert (report.new, report.refined, count, failures) == (0, expected_refined, N, {})
        refined_now = graph_requests(server)  # fetched in parallel: any order
        done_before = N - (left[-1] if left else N)
        assert sorted(refined_now) == sorted(newest_first[done_before : done_before + expected_refined])
        assert {r.query["every_n"] for r in server.requests if r.path.endswith("/performance_graph")} <= {"5"}
        left.append(report.coarse_left)
    assert left == [90, 30, 0, 0]
    with WorkoutStore.for_account(settings.home_path, account.user_id) as store:
        graph = store.graph(account.workouts[0]["id"])
    assert graph["seconds_since_pedaling_start"][:2] == [5, 10]


def test_a_failed_refinement_keeps_the_coarse_graph_and_is_not_a_failure(server, settings, account):
    settings.every_n = 300
    run_sync(settings)
    settings.every_n = 5
    bad = account.workouts[0]["id"]
    server.always_fail_graph(bad)
    report, failures, _ = run_sync(settings)
    assert (report.refined, report.coarse_left, report.failed, failures) == (N - 1, 1, {}, {})
    with WorkoutStore.for_account(settings.home_path, account.user_id) as store:
        assert store.graph(bad)["seconds_since_pedaling_start"][0] == 300
    server.always_fail_graph(None)
    server.clear_requests()
    report, _, _ = run_sync(settings)
    assert graph_requests(server) == [bad] and report.coarse_left == 0


def test_a_workout_that_cannot_be_read_is_reported_on_every_refresh_until_it_reads(server, settings, account):
    """An incremental refresh lists only the newest page: an odd workout further down is still named by
    it (issue 20, item 4). A --full that lists it readable ends the report."""
    odd, skipped = account.workouts[-1]["id"], account.workouts[-2]["id"]  # on the second page

    def spoil(body: dict, query: dict) -> dict:
        data = [
            {**w, "total_work": "lots"} if w["id"] == odd else {**w, "created_at": "soon"} if w["id"] == skipped else w
            for w in body["data"]
        ]
        return {**body, "data": data}

    server.rewrite(r"/workouts$", spoil)
    first, _, count = run_sync(settings)
    assert set(first.unreadable) == {odd, skipped} and count == N - 1
    again, _, _ = run_sync(settings)  # one page: neither is listed again
    assert again.unreadable == first.unreadable
    server.clear_faults()
    again, _, _ = run_sync(settings)
    assert again.unreadable == first.unreadable  # not listed again: still as Peloton sent it last
    fixed, _, count = run_sync(settings, full=True)
    assert fixed.unreadable == {} and count == N
    assert run_sync(settings)[0].unreadable == {}
