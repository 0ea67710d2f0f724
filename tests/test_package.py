"""Release-ready: `python -m build` makes an sdist and a wheel that hold the template, and the wheel installed
into a fresh virtual environment gives a working `peloton-xl` (offline: the environment sees this Python's
libraries, and the wheel comes from disk)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from support import REPO

import pelotonxl
from pelotonxl.template.new_workbook import template_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WHEEL = f"peloton_xl-{pelotonxl.__version__}-py3-none-any.whl"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """Both distributions, built from a copy of the tracked sources (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):  # what setuptools reads; the package is all it ships
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "pelotonxl", source / "pelotonxl", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return out


def test_the_wheel_and_the_sdist_hold_the_template_and_one_version(dist):
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        assert wheel.read("pelotonxl/template/PelotonWorkbook.xlsm") == template_bytes()
        metadata = wheel.read(f"peloton_xl-{pelotonxl.__version__}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"peloton_xl-{pelotonxl.__version__}.dist-info/entry_points.txt").decode()
    assert f"\nVersion: {pelotonxl.__version__}\n" in metadata
    assert "Requires-Dist: pyopenvba==6.5.0" in metadata and "Requires-Dist: xlwings==0.37.8" in metadata
    assert "peloton-xl = pelotonxl.cli:console_main" in entry_points
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        template = next(n for n in names if n.endswith("pelotonxl/template/PelotonWorkbook.xlsm"))
        assert archive.extractfile(template).read() == template_bytes()


def test_the_installed_wheel_runs_peloton_xl(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-index", str(dist / WHEEL)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    command = str(bin_dir / "peloton-xl")
    here = tmp_path / "here"
    here.mkdir()
    version = subprocess.run([command, "--version"], capture_output=True, text=True, cwd=here, timeout=60)
    assert version.stdout.strip() == f"peloton_xl {pelotonxl.__version__}"
    # The installed package upgrades a 0.1.0 workbook from its own packaged template (no checkout anywhere).
    old = here / "Old.xlsm"
    shutil.copy(REPO / "tests" / "fixtures" / "releases" / "Member-0.1.0-refreshed.xlsm", old)
    upgraded = subprocess.run([command, "--upgrade-workbook", str(old)], capture_output=True, text=True, cwd=here)
    assert upgraded.returncode == 0, upgraded.stderr
    with zipfile.ZipFile(old) as book, zipfile.ZipFile(REPO / "PelotonWorkbook.xlsm") as template:
        assert book.read("customUI/customUI.xml") == template.read("customUI/customUI.xml")
