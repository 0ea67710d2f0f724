"""--export DIR: the store as Parquet files that pandas (and DuckDB, Power BI, Tableau) read back whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import cli_in_process

from pelotonxl.export import check_folder, export_store
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.settings import DEFAULT_EVERY_N
from pelotonxl.state import StateFolder

# The product's default sampling; the shared CLI environment asks for coarse graphs to keep other tests quick.
FINE = str(DEFAULT_EVERY_N)


def stored_records(home):
    state = StateFolder(home)
    with WorkoutStore(state.store_file(state.last_account())) as store:
        return list(store.records())


def test_export_writes_the_store_with_its_row_counts_and_types(server, workbook, home, tmp_path, account, run_cli):
    out = tmp_path / "export"
    result = run_cli(server, workbook, home, "--export", str(out), PELOTON_EVERY_N=FINE)
    assert result.returncode == 0, result.stderr
    records = stored_records(home)
    samples = sum(len(next(m for m in g["metrics"])["values"]) for _, g in records if g and g["metrics"])
    assert f"Exported {len(records)} workouts and {samples:,} samples to {out}" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["metrics.parquet", "series.parquet", "workouts.parquet"]

    workouts = pd.read_parquet(out / "workouts.parquet")
    metrics = pd.read_parquet(out / "metrics.parquet")
    series = pd.read_parquet(out / "series.parquet")
    assert len(workouts) == len(metrics) == len(records) == len(account.workouts)
    assert len(series) == samples > 0
    assert list(workouts.columns[:3]) == ["workout_id", "ride_id", "start_local"]
    assert "duration_s" in workouts.columns and "class_length_s" in workouts.columns
    assert str(workouts["start_local"].dtype) == "datetime64[us]" and workouts["personal_record"].dtype == bool
    assert str(workouts["start_utc"].dtype) == "datetime64[us, UTC]"
    assert workouts["duration_s"].dtype == np.int64 or str(workouts["duration_s"].dtype) == "Int64"
    assert metrics["avg_output_w"].dtype == np.float64
    assert list(series.columns[:2]) == ["workout_id", "elapsed_s"] and series["elapsed_s"].dtype == np.int64
    assert list(series.columns[2:7]) == ["output_w", "cadence_rpm", "resistance_pct", "speed_mph", "heart_rate_bpm"]

    ride = next(w for w in account.workouts if w["fitness_discipline"] == "cycling" and w.get("ride"))
    graph = account.graph(ride["id"], 5)
    one = series[series["workout_id"] == ride["id"]]
    expected = {m["slug"]: m["values"] for m in graph["metrics"]}
    assert one["elapsed_s"].tolist() == graph["seconds_since_pedaling_start"]
    assert one["output_w"].tolist() == expected["output"]
    assert one["cadence_rpm"].tolist() == expected["cadence"]
    assert workouts.loc[workouts["workout_id"] == ride["id"], "ride_id"].item() == ride["ride"]["id"]


def test_a_workout_without_a_graph_has_no_samples_and_gaps_are_null(tmp_path):
    workout = {
        "id": "a" * 32,
        "created_at": 1_700_000_000,
        "start_time": 1_700_000_000,
        "end_time": 1_700_000_900,
        "status": "COMPLETE",
        "fitness_discipline": "running",
        "timezone": "UTC",
    }
    other = dict(workout, id="b" * 32)
    graph = {
        "duration": 15,
        "seconds_since_pedaling_start": [5, 10, 15],
        "metrics": [
            {
                "slug": "pace",
                "display_unit": "min/mi",
                "values": [None, 9.5, 9.25],
                "alternatives": [{"slug": "speed", "display_unit": "mph", "values": [0, 6.3, 6.5]}],
            }
        ],
    }
    rows = export_store(lambda samples: [(workout, graph), (other, None)], tmp_path / "out")
    assert rows == {"workouts.parquet": 2, "metrics.parquet": 2, "series.parquet": 3}
    series = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert list(series.columns) == ["workout_id", "elapsed_s", "speed_mph", "pace_s_per_mi"]
    # A pace in seconds, as on the sheet (a duration) and from PELOTON_SERIES: 9.5 min is 9:30, 570 s.
    assert series["pace_s_per_mi"].tolist()[1:] == [570, 555] and series["pace_s_per_mi"].isna().tolist()[0]
    assert series["speed_mph"].tolist() == [0, 6.3, 6.5]


def test_a_metric_sampled_in_two_units_gets_a_column_per_unit_never_mixed(tmp_path):
    """A member who switched Peloton to metric: old rides in mph, new ones in kph, side by side."""
    base = {"start_time": 1_700_000_000, "end_time": 1_700_000_010, "fitness_discipline": "cycling"}
    graphs = [
        ({**base, "id": "a" * 32}, {"seconds_since_pedaling_start": [5, 10], "metrics": [speed("mph", [20, 21])]}),
        ({**base, "id": "b" * 32}, {"seconds_since_pedaling_start": [5, 10], "metrics": [speed("kph", [32, 33])]}),
    ]
    export_store(lambda samples: graphs, tmp_path / "out")
    series = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert list(series.columns) == ["workout_id", "elapsed_s", "speed_kph", "speed_mph"]
    assert series["speed_mph"].tolist()[:2] == [20, 21] and series["speed_mph"].isna().tolist()[2:] == [True, True]
    assert series["speed_kph"].tolist()[2:] == [32, 33]


def speed(unit: str, values: list[float]) -> dict:
    return {"slug": "speed", "display_name": "Speed", "display_unit": unit, "values": values}


def test_paces_are_exported_as_whole_seconds_named_so(tmp_path):
    """The workbook's m:ss paces (durations) land in Parquet as seconds: 8.47 min/mi is 508 s (8:28)."""
    workout = {
        "id": "c" * 32,
        "start_time": 1_700_000_000,
        "end_time": 1_700_001_800,
        "status": "COMPLETE",
        "fitness_discipline": "running",
        "timezone": "UTC",
        "total_work": 117051.3,
    }
    graph = {
        "summaries": [{"slug": "total_output", "display_unit": "kj", "value": 117}],
        "average_summaries": [
            {"slug": "avg_pace", "display_name": "Avg Pace", "display_unit": "min/mi", "value": 8.47}
        ],
    }
    export_store(lambda samples: [(workout, graph)], tmp_path / "out")
    metrics = pd.read_parquet(tmp_path / "out" / "metrics.parquet")
    assert metrics["avg_pace_s_per_mi"].tolist() == [508]
    assert metrics["total_output_kj"].tolist() == [117.1]  # total_work, as on every sheet
    assert pd.read_parquet(tmp_path / "out" / "workouts.parquet")["total_output_kj"].tolist() == [117.1]
    assert pd.read_parquet(tmp_path / "out" / "workouts.parquet")["duration_s"].tolist() == [1800]


def test_a_folder_that_cannot_be_used_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    for bad, words in (
        (tmp_path / "file", "is a file, not a folder"),
        (tmp_path / "missing" / "out", "does not exist"),
    ):
        with pytest.raises(Exception, match=words) as caught:
            check_folder(bad)
        assert "\n" not in str(caught.value)
    assert check_folder(tmp_path / "new") == tmp_path / "new" and (tmp_path / "new").is_dir()


@pytest.mark.slow
def test_export_works_with_the_demo(tmp_path, monkeypatch, capsys):
    env = {"PELOTON_XL_HOME": str(tmp_path / "home")}
    # Coarse graphs: that the demo exports is the point here; fine samples are the series tests' business.
    result = cli_in_process(
        monkeypatch,
        capsys,
        [
            "--demo",
            "--workbook",
            str(tmp_path / "Demo.xlsm"),
            "--export",
            str(tmp_path / "out"),
            "-q",
            "--every-n",
            "300",
        ],
        env,
    )
    assert result.returncode == 0, result.stderr
    assert len(pd.read_parquet(tmp_path / "out" / "workouts.parquet")) == 360
    assert pd.read_parquet(tmp_path / "out" / "series.parquet")["workout_id"].nunique() > 200


def test_an_old_coarse_store_upgrades_itself_across_refreshes_and_says_so(
    server, workbook, home, account, run_cli, monkeypatch, tmp_path
):
    from pelotonxl.peloton import sync as sync_module

    monkeypatch.setattr(sync_module, "REFINE_PER_REFRESH", 15)
    first = run_cli(server, workbook, home, PELOTON_EVERY_N="300")  # as the old default filled it
    assert first.returncode == 0 and "refined" not in first.stderr
    metrics_before = pd.read_parquet(
        _export(run_cli, server, workbook, home, tmp_path / "before", "300") / "metrics.parquet"
    )
    said = []
    for _ in range(3):
        result = run_cli(server, workbook, home, PELOTON_EVERY_N=FINE)
        assert result.returncode == 0, result.stderr
        said.append(next(line for line in result.stderr.splitlines() if "refined" in line))
        if len(said) == 1:  # the Config sheet says it too, for a refresh from Excel's ribbon
            assert last_result(workbook) == "OK; 15 graphs refined to 5-second samples, 25 left for the next refreshes"
    assert said == [
        f"peloton_xl: {done} stored graphs refined to the Graph sampling setting; {left} to go, "
        "refined by the next refreshes"
        for done, left in ((15, 25), (15, 10), (10, 0))
    ]
    assert "refined" not in run_cli(server, workbook, home, PELOTON_EVERY_N=FINE).stderr  # nothing left: nothing said
    assert last_result(workbook) == "OK"
    after = _export(run_cli, server, workbook, home, tmp_path / "after", FINE)
    pd.testing.assert_frame_equal(pd.read_parquet(after / "metrics.parquet"), metrics_before)  # summaries as they were
    series = pd.read_parquet(after / "series.parquet")
    assert series.groupby("workout_id")["elapsed_s"].diff().dropna().max() == 5  # every graph at 5 s now


def _export(run_cli, server, workbook, home, folder, every_n=None):
    extra = {"PELOTON_EVERY_N": every_n} if every_n else {}
    assert run_cli(server, workbook, home, "--export", str(folder), "-q", **extra).returncode == 0
    return folder


def last_result(workbook) -> str:
    import openpyxl

    config = openpyxl.load_workbook(workbook)["Config"]
    return next(row[1].value for row in config.iter_rows() if row[0].value == "Last result")
