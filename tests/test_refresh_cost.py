"""What a refresh costs, counted (never timed): requests, /api/me, the parts of the workbook it rewrites,
the libraries it loads. Issue 22: nothing new costs nothing new; the first refresh asks for every page at
once."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta

import pytest
from support import CLI, cli_env, settings_for

from pelotonxl import refresh_job
from pelotonxl.demo.account import make_account
from pelotonxl.model import derived, workout_load
from pelotonxl.xlsx import status_cells

ME = "/api/me"


def api_paths(server) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/api")]


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def sheet_parts(path, *sheets: str) -> dict[str, bytes]:
    """The worksheet parts of these sheets, by sheet name."""
    from pelotonxl.xlsx import package as xp

    with xp.open_package(path) as pkg:
        return {name: pkg.data(xp.find_sheet(pkg, name).part) for name in sheets}


class Tomorrow(date):
    @classmethod
    def today(cls) -> date:
        return date.today() + timedelta(days=1)


def test_nothing_new_the_same_day_is_one_request_and_rewrites_only_the_status_cells(server, workbook, home, run_cli):
    assert run_cli(server, workbook, home).returncode == 0
    assert api_paths(server).count(ME) == 1  # the first refresh asks for Peloton's FTP
    before = parts(workbook)
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    assert len(server.requests) == 1 and server.requests[0].path.endswith("/workouts")  # page 0 only
    after = parts(workbook)
    changed = {name for name in before if before[name] != after.get(name)}
    config = sheet_parts(workbook, "Config")
    # The Config sheet (its status cells), the workbook part (the stamp) and styles at most.
    assert changed <= {*config_part_names(workbook), "xl/workbook.xml", "xl/styles.xml"}
    assert config and set(after) == set(before)


def config_part_names(path) -> set[str]:
    from pelotonxl.xlsx import package as xp

    with xp.open_package(path) as pkg:
        return {xp.find_sheet(pkg, "Config").part}


def test_a_new_day_redraws_the_dated_figures_and_asks_peloton_for_the_ftp_once(
    server, workbook, home, run_cli, monkeypatch
):
    assert run_cli(server, workbook, home).returncode == 0
    tables_before = sheet_parts(workbook, "Workouts", "Metrics")
    monkeypatch.setattr(refresh_job, "date", Tomorrow)
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    assert api_paths(server).count(ME) == 1
    assert len(server.requests) == 2  # the first page, /api/me
    assert sheet_parts(workbook, "Workouts", "Metrics") == tables_before  # the tables do not depend on the day
    assert status_cells.written_stamp(workbook).endswith("." + Tomorrow.today().isoformat())
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    assert api_paths(server).count(ME) == 0  # asked already that day


def test_five_new_workouts_cost_the_page_their_graphs_and_each_rides_record_and_an_ftp_test_asks_for_the_ftp(
    server, workbook, home, run_cli, account
):
    assert run_cli(server, workbook, home).returncode == 0
    added = account.add_workouts(5)
    for w in added[:2]:  # two of them rides, whatever the seed drew
        w["fitness_discipline"] = "cycling"
    rides = [w["id"] for w in added if w["fitness_discipline"] == "cycling"]
    assert 2 <= len(rides) < 5
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    # The first page, each new workout's graph and each new ride's own record (its ftp_info): nothing else.
    assert sorted(api_paths(server)) == sorted(
        [f"/api/user/{account.user_id}/workouts"]
        + [f"/api/workout/{wid}/performance_graph" for wid in (w["id"] for w in added)]
        + [f"/api/workout/{wid}" for wid in rides]
    )
    assert len(server.requests) == 6 + len(rides)
    (test,) = account.add_workouts(1)
    test["ride"] = {**(test.get("ride") or {}), "title": "20 min FTP Test Ride"}
    server.clear_requests()
    assert run_cli(server, workbook, home).returncode == 0
    assert api_paths(server).count(ME) == 1


def test_a_workbook_missing_a_sheet_of_the_refresh_gets_everything_again(server, workbook, home, run_cli):
    assert run_cli(server, workbook, home).returncode == 0
    assert status_cells.written_stamp(workbook) is not None
    from pelotonxl.xlsx import package as xp
    from pelotonxl.xlsx import safety

    with xp.open_package(workbook) as pkg:  # as if the member had deleted the Ride Data sheet
        xml = pkg.text("xl/workbook.xml")
        start = xml.index('<sheet name="Ride Data"')
        pkg.put("xl/workbook.xml", xml[:start] + xml[xml.index("/>", start) + 2 :])
        safety.save_atomically(pkg, workbook)
    assert status_cells.written_stamp(workbook) is None
    assert run_cli(server, workbook, home).returncode == 0
    with xp.open_package(workbook) as pkg:
        assert xp.find_sheet(pkg, "Ride Data") is not None


def test_a_nothing_new_refresh_loads_neither_pandas_nor_openpyxl(server, workbook, home):
    env = cli_env(server, home)
    first = subprocess.run([sys.executable, str(CLI), "--workbook", str(workbook)], env=env, capture_output=True)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(
        [sys.executable, "-X", "importtime", str(CLI), "--workbook", str(workbook)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0] for line in again.stderr.splitlines() if "import time:" in line
    }
    assert "pelotonxl" in imported and "requests" in imported
    assert not {"pandas", "numpy", "openpyxl"} & imported


def test_the_terminals_refresh_loads_pandas_without_pyarrow_and_the_export_still_writes_parquet(
    server, workbook, home, tmp_path
):
    import pyarrow.parquet as pq

    def imported_by(*extra: str) -> set[str]:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", str(CLI), "--workbook", str(workbook), "--full", *extra],
            env=cli_env(server, home),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "import time:" in line}

    refresh = imported_by()  # pandas' own attempt at pyarrow is listed, refused; its library is not loaded
    assert "pandas" in refresh and "pyarrow.lib" not in refresh  # 35 MB that pandas would load for nothing
    assert "pyarrow.lib" in imported_by("--export", str(tmp_path / "out"))
    assert pq.read_table(tmp_path / "out" / "workouts.parquet").num_rows == len(server.account.workouts)


class TestPages:
    @pytest.fixture
    def account(self):
        return make_account(250, seed=11)

    def test_the_first_refresh_asks_for_every_page_at_once_and_an_incremental_one_for_the_first(
        self, server, settings, account
    ):
        refresh_job.run_refresh(settings, lambda content: None)
        log = api_paths(server)
        pages = [i for i, path in enumerate(log) if path.endswith("/workouts")]
        assert len(pages) == math.ceil(len(account.workouts) / 100) == 3
        # Pages 1 and 2 are queued ahead of the first page's graphs: among the first requests of the pool.
        assert max(pages) <= len(pages) + settings.workers
        assert sorted(int(r.query["page"]) for r in server.requests if r.path.endswith("/workouts")) == [0, 1, 2]
        server.clear_requests()
        account.add_workouts(2)
        refresh_job.run_refresh(settings, lambda content: None)
        assert [r.query["page"] for r in server.requests if r.path.endswith("/workouts")] == ["0"]


class Later(datetime):
    @classmethod
    def now(cls, tz=None) -> datetime:  # type: ignore[override]
        return datetime.now(tz) + timedelta(days=1)


def test_a_new_day_writes_what_a_full_rebuild_writes_without_computing_any_workouts_load_again(
    settings, workbook, tmp_path, monkeypatch
):
    from pelotonxl.commands.targets import FileTarget

    def refresh(path, *, everything: bool = False) -> None:
        target = FileTarget(path)
        refresh_job.run_refresh(settings, target.write, shown=None if everything else target.shown)

    refresh(workbook)
    rebuilt = tmp_path / "Rebuilt.xlsm"
    shutil.copy(workbook, rebuilt)
    fitness_before = sheet_parts(workbook, "Fitness")["Fitness"]
    monkeypatch.setattr(refresh_job, "date", Tomorrow)
    monkeypatch.setattr(refresh_job, "datetime", Later)
    computed, facets = [], []
    monkeypatch.setattr(workout_load, "compute", lambda *a, **k: computed.append(1) or real_compute(*a, **k))
    monkeypatch.setattr(derived, "load", lambda store, facet: facets.append(facet) or real_load(store, facet))
    refresh(workbook)  # nothing new, a new day
    assert computed == [] and derived.POWER not in facets  # the loads are the stored ones, no ride's power read
    assert derived.ROWS in facets and derived.EFFORTS in facets  # the Dashboard and the curve's windows are redrawn
    refresh(rebuilt, everything=True)
    assert computed == [1]
    new_day, full = parts(workbook), parts(rebuilt)
    assert set(new_day) == set(full)
    differ = {name for name in full if new_day[name] != full[name]}
    assert differ <= config_part_names(workbook)  # the status cells: the time of each refresh
    assert sheet_parts(workbook, "Fitness")["Fitness"] != fitness_before  # a day more
    assert status_cells.written_stamp(workbook) == status_cells.written_stamp(rebuilt)


def test_a_new_day_computes_the_loads_again_when_another_workbooks_settings_replaced_them(
    server, home, settings, workbook, tmp_path, monkeypatch
):

    from pelotonxl.commands.targets import FileTarget

    other = tmp_path / "Other.xlsm"
    shutil.copy(workbook, other)
    for path, them in ((workbook, settings), (other, settings_for(server, home, ftp=150))):  # the same store
        target = FileTarget(path)
        refresh_job.run_refresh(them, target.write, shown=target.shown)
    monkeypatch.setattr(refresh_job, "date", Tomorrow)
    computed: list[int] = []
    monkeypatch.setattr(workout_load, "compute", lambda *a, **k: computed.append(1) or real_compute(*a, **k))
    target = FileTarget(workbook)
    refresh_job.run_refresh(settings, target.write, shown=target.shown)
    assert computed == [1]  # the stored figures were the other workbook's (FTP 150): not this one's


real_compute = workout_load.compute
real_load = derived.load
