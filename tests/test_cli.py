"""The command line as a member meets it: help, the demo, where it runs from, which setting wins,
exit statuses, and one clear line (never a traceback) for everything foreseeable."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from support import CLI, PASSWORD, REPO, USERNAME, cli_in_process, table_rows
from support.workbook_samples import type_into_config

from pelotonxl import cli
from pelotonxl.demo.account import make_account
from pelotonxl.demo.server import FakePeloton
from pelotonxl.settings import DEFAULT_EVERY_N, DEFAULT_WORKERS
from pelotonxl.template import new_workbook

CLOSING_LINE = re.compile(r"(\d+) workouts \((\d+) new(?:, \d+ removed)?\) written to (\S+\.xlsm) in \d+\.\d s")


def base_env(home: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELOTON_")}
    env["PELOTON_XL_HOME"] = str(home)
    env.update(values)
    return env


def server_env(server: FakePeloton, home: Path, **values: str) -> dict[str, str]:
    return base_env(
        home,
        PELOTON_API_URL=server.url,
        PELOTON_AUTH_URL=server.url,
        PELOTON_USERNAME=USERNAME,
        PELOTON_PASSWORD=PASSWORD,
        **values,
    )


def run(
    args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(CLI), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture
def run_here(monkeypatch, capsys):
    """Like `run`, with the CLI in this process: for stories where the subprocess is not the point."""
    return lambda args, env: cli_in_process(monkeypatch, capsys, args, env)


def workouts_in(path: Path) -> int:
    return len(table_rows(path, "Workouts"))


@pytest.mark.e2e  # two whole demo refreshes, over HTTP to the demo server
def test_the_demo_ends_yesterday_whenever_it_runs_and_a_rerun_another_day_stays_consistent(
    tmp_path, monkeypatch, capsys
):
    from datetime import date

    from pelotonxl.demo import account

    book = tmp_path / "Demo.xlsm"
    args = ["--demo", "--workbook", str(book), "--home", str(tmp_path / "home"), "--every-n", "300", "-q"]
    for today in (date(2026, 12, 2), date(2027, 3, 10)):
        monkeypatch.setattr(
            account,
            "demo_end",
            lambda today=today: account.datetime(
                today.year, today.month, today.day, 18, 0, tzinfo=account.timezone.utc
            ),
        )
        assert cli.main(args) == 0
        starts = [row[1] for row in openpyxl.load_workbook(book)["Workouts"].iter_rows(min_row=2, values_only=True)]
        assert len(starts) == 360  # the same 360, moved: none left over
        assert max(starts).date() in (today, date.fromordinal(today.toordinal() - 1))
    capsys.readouterr()


# --- help ----------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_help_explains_every_option_and_the_exit_statuses(tmp_path):
    result = run(["--help"], base_env(tmp_path / "home"))
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for action in cli.build_parser()._actions:
        if action.help == argparse.SUPPRESS:
            continue
        assert any(option in text for option in action.option_strings), action.option_strings
        words = " ".join(action.help.split()).replace("%%", "%")
        assert words in text, action.option_strings
    for status in ("0 written", "1 failed", "3 written"):
        assert status in text


# --- the demo, from anywhere ---------------------------------------------------------------------


@pytest.mark.e2e
def test_demo_from_another_folder_creates_the_workbook_and_ends_with_one_closing_line(tmp_path, monkeypatch, run_here):
    folder = tmp_path / "somewhere else"
    folder.mkdir()
    env = base_env(tmp_path / "home")
    result = run(["--demo", "--workbook", "My Demo.xlsm", "--every-n", "300"], env, cwd=folder)  # coarse: quicker
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    match = re.fullmatch(r"360 workouts \(360 new\) written to My Demo\.xlsm in \d+\.\d s", lines[0])
    assert match, lines
    assert "Created My Demo.xlsm from the template." in result.stderr
    assert workouts_in(folder / "My Demo.xlsm") == 360
    assert not (REPO / "My Demo.xlsm").exists()

    # The rerun from another folder again, in this process: the entry script was the first run's point.
    monkeypatch.chdir(REPO / "pelotonxl")
    again = run_here(["--demo", "--workbook", str(folder / "My Demo.xlsm"), "-q", "--every-n", "300"], env)
    assert again.returncode == 0, again.stderr
    assert re.fullmatch(r"360 workouts \(0 new\) written to My Demo\.xlsm in \d+\.\d s", again.stdout.strip())
    assert again.stderr == ""


# --- flag > environment > Config > default ----------------------------------------------------------


class Concurrency:
    """The most graph requests the server is handling at once: what --workers controls."""

    def __init__(self, server: FakePeloton, expected: int) -> None:
        self.peak = 0
        self._now = 0
        self._changed = threading.Condition()
        route = server.route

        def counting_route(method, path, query, body, authorization):
            if not path.endswith("/performance_graph"):
                return route(method, path, query, body, authorization)
            with self._changed:
                self._now += 1
                self.peak = max(self.peak, self._now)
                self._changed.notify_all()
                # The first requests are held until `expected` are in flight (a loaded machine may start the
                # workers late: a fixed sleep made this flaky), then a moment longer, so that a client
                # allowing more than `expected` shows it in `peak`.
                self._changed.wait_for(lambda: self.peak >= expected, timeout=10)
            try:
                time.sleep(0.03)
                return route(method, path, query, body, authorization)
            finally:
                with self._changed:
                    self._now -= 1

        server.route = counting_route


@pytest.mark.parametrize(
    "source, expected",
    [
        ("default", (DEFAULT_EVERY_N, DEFAULT_WORKERS)),
        ("config", (60, 3)),
        ("env", (30, 2)),
        ("flag", (15, 1)),
    ],
)
def test_flag_beats_environment_beats_config_beats_default(workbook, tmp_path, run_here, source, expected):
    with FakePeloton(make_account(12, seed=4), username=USERNAME, password=PASSWORD) as srv:
        concurrency = Concurrency(srv, expected[1])
        env = server_env(srv, tmp_path / "home")
        args = ["--workbook", str(workbook)]
        if source != "default":
            type_into_config(workbook, "every_n", 60)
            type_into_config(workbook, "workers", 3)
        if source in ("env", "flag"):
            env.update(PELOTON_EVERY_N="30", PELOTON_WORKERS="2")
        if source == "flag":
            args += ["--every-n", "15", "--workers", "1"]
        result = run_here(args, env)
        assert result.returncode == 0, result.stderr
        every_n = {r.query.get("every_n") for r in srv.requests if r.path.endswith("/performance_graph")}
    assert every_n == {str(expected[0])}
    assert concurrency.peak == expected[1]


# --- exit statuses and messages ------------------------------------------------------------------------


@pytest.fixture
def account():
    return make_account(30, seed=11)  # small: these tests are about the command line, not the sync


@pytest.mark.e2e
def test_exit_0_then_3_when_a_workouts_details_fail_then_0_again(server, workbook, home, account, run_here):
    env = server_env(server, home)
    assert run_here(["--workbook", str(workbook)], env).returncode == 0
    account.add_workouts(2)
    newest = account.workouts[0]["id"]
    server.always_fail_graph(newest, status=404)
    result = run(["--workbook", str(workbook)], env)  # the exit status 3 a shell or scheduler sees
    assert result.returncode == 3
    assert CLOSING_LINE.fullmatch(result.stdout.strip()).group(1, 2) == ("32", "2")
    assert f"  {newest}: " in result.stderr
    server.always_fail_graph(None)
    assert run_here(["--workbook", str(workbook)], env).returncode == 0


def nothing_listening() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


FORESEEABLE = {
    "not an .xlsm": (["--workbook", "{tmp}/Book.xlsx"], {}, "not a macro-enabled workbook"),
    "missing folder": (["--workbook", "{tmp}/no such folder/Book.xlsm"], {}, "does not exist"),
    "folder named like a workbook": (["--workbook", "{tmp}/Folder.xlsm"], {}, "Folder.xlsm is a folder"),
    "workers too many": (["--workers", "64"], {}, "16 or fewer"),
    "workers zero": (["--workers", "0"], {}, "at least 1"),
    "workers in env not a number": ([], {"PELOTON_WORKERS": "lots"}, "whole number"),
    "no username": ([], {"PELOTON_USERNAME": ""}, "PELOTON_USERNAME"),
    "nobody listening": ([], {"PELOTON_AUTH_URL": "{dead}", "PELOTON_API_URL": "{dead}"}, "check your connection"),
    "state folder is a file": ([], {"PELOTON_XL_HOME": "{tmp}/home-file"}, "home-file"),
    "export into a file": (["--export", "{tmp}/home-file"], {}, "home-file is a file, not a folder"),
    "export under a missing folder": (["--export", "{tmp}/no such folder/out"], {}, "no such folder does not exist"),
}


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.e2e) if c == "not an .xlsm" else c for c in FORESEEABLE]
)
def test_foreseeable_failures_are_one_line_exit_1_without_a_traceback(server, workbook, tmp_path, run_here, case):
    args, env_values, words = FORESEEABLE[case]
    (tmp_path / "Folder.xlsm").mkdir()
    (tmp_path / "home-file").write_text("not a folder")
    dead = nothing_listening()
    fill = lambda text: text.format(tmp=tmp_path, dead=dead)  # noqa: E731
    env = server_env(server, tmp_path / "home")
    env.update({k: fill(v) for k, v in env_values.items()})
    args = [fill(a) for a in args]
    if "--workbook" not in args:
        args = ["--workbook", str(workbook), *args]
    before = workbook.read_bytes()
    result = (run if case == "not an .xlsm" else run_here)(args, env)  # one as a shell sees it
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peloton_xl: "), result.stderr
    assert words in lines[0]
    assert "unexpected" not in lines[0]
    assert result.stdout == ""
    assert workbook.read_bytes() == before


@pytest.mark.e2e
def test_a_usage_mistake_is_argparses_exit_2_with_the_usage_line(tmp_path):
    result = run(["--every-n", "often"], base_env(tmp_path / "home"))
    assert result.returncode == 2
    assert "usage: python peloton_xl.py" in result.stderr and "--every-n" in result.stderr


# --- the two entries: python peloton_xl.py and the installed peloton-xl --------------------------------

HEAVY = {"xlwings", "pandas", "openpyxl", "numpy", "requests"}
ENTRIES = {
    "python peloton_xl.py": [str(CLI), "--help"],
    "peloton-xl": ["-c", "import sys; from pelotonxl.cli import console_main; sys.exit(console_main())", "--help"],
}


@pytest.mark.parametrize("entry", list(ENTRIES))
@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_answer_without_importing_the_package_or_heavy_libraries(tmp_path, entry, option):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *ENTRIES[entry][:-1], option],
        check=False,
        cwd=REPO,
        env=base_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {entry} " if option == "--help" else "peloton_xl ")
    imported = {
        line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    }
    # The parser and the names it quotes: the jobs' modules (and logging, typing, pathlib) load after parsing.
    assert {m for m in imported if m.startswith("pelotonxl")} == {"pelotonxl", "pelotonxl.cli", "pelotonxl.file_names"}
    assert not HEAVY & {m.split(".")[0] for m in imported}


def test_default_workbook_beside_peloton_xl_py_or_in_the_current_folder(tmp_path, monkeypatch, capsys):
    checkout, here = tmp_path / "checkout", tmp_path / "here"
    checkout.mkdir()
    here.mkdir()
    monkeypatch.chdir(here)
    created = []
    real = new_workbook.create_from_template

    def create(path):
        made = real(path)
        created.append((path, path.read_bytes() == new_workbook.template_bytes()))
        return made

    monkeypatch.setattr(new_workbook, "create_from_template", create)
    # --workers 0 fails once the workbook is found (created if missing), before any network.
    assert cli.main(["--workers", "0"], workbook_dir=checkout) == 1  # python peloton_xl.py
    assert cli.main(["--demo", "--workers", "0"]) == 1  # peloton-xl
    assert cli.main(["--workers", "0"]) == 1  # peloton-xl, the member's own
    # Never the git-tracked template beside peloton_xl.py: a refresh into it would make `git pull` abort.
    assert created == [
        (checkout / "MyPelotonWorkbook.xlsm", True),
        (here / "PelotonDemo.xlsm", True),
        (here / "PelotonWorkbook.xlsm", True),
    ]
    assert not list(checkout.iterdir()) and not list(here.iterdir())  # failed runs leave no new file behind
    err = capsys.readouterr().err
    assert "Created MyPelotonWorkbook.xlsm from the template." in err and "at least 1" in err


def test_the_checkouts_own_workbook_is_ignored_by_git():
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/MyPelotonWorkbook.xlsm" in ignored and "/PelotonDemo.xlsm" in ignored


# --- a missing workbook is a copy of the packaged template ------------------------------------------------


def test_a_workbook_created_meanwhile_by_another_process_is_left_alone(tmp_path, monkeypatch):
    path = tmp_path / "Book.xlsm"
    copy = shutil.copyfileobj

    def copy_then_lose_the_race(source, target):
        copy(source, target)
        path.write_bytes(b"the other process's workbook")

    monkeypatch.setattr(new_workbook.shutil, "copyfileobj", copy_then_lose_the_race)
    assert new_workbook.create_from_template(path) is False
    assert path.read_bytes() == b"the other process's workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["Book.xlsm"]  # no temp file left


def test_without_hard_links_the_copy_is_still_created_once(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(new_workbook.os, "link", no_links)
    path = tmp_path / "Book.xlsm"
    assert new_workbook.create_from_template(path) is True
    assert new_workbook.create_from_template(path) is False
    assert path.read_bytes() == new_workbook.template_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["Book.xlsm"]


@pytest.mark.e2e
def test_processes_creating_the_same_workbook_at_once_all_succeed(tmp_path):
    path, go = tmp_path / "Book.xlsm", tmp_path / "go"
    racer = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pelotonxl.template.new_workbook import create_from_template\n"
        "while not Path(sys.argv[1]).exists(): time.sleep(0.001)\n"
        "print(create_from_template(Path(sys.argv[2])))\n"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", racer, str(go), str(path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    go.touch()
    results = [proc.communicate(timeout=60) for proc in racers]
    assert [proc.returncode for proc in racers] == [0] * 4, results
    assert sorted(out.strip() for out, _ in results) == ["False", "False", "False", "True"]
    assert path.read_bytes() == new_workbook.template_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Book.xlsm", "go"]


def test_pyproject_installs_the_runtime_half_of_requirements_txt():
    """`pip install .` and `pip install -r requirements.txt` run the same code on the same libraries."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {}
    text = (REPO / "requirements.txt").read_text(encoding="utf-8")
    for line in text.split("# Test-only", 1)[0].splitlines():  # what runs; below the marker, what tests
        spec = line.split("#", 1)[0].replace(" ", "")
        if spec and not spec.startswith("-"):
            runtime[re.match(r"[\w.-]+", spec).group(0).lower()] = spec
    assert "filelock" in runtime and "pyopenvba" in runtime  # the refresh lock; setup and upgrade write VBA
    assert sorted(project["dependencies"]) == sorted(runtime.values())
    assert project["scripts"] == {"peloton-xl": "pelotonxl.cli:console_main"}
    assert project["requires-python"] == ">=3.10"
