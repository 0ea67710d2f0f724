"""What to tell a member whose Python lacks a requirement: which package, and the command that installs it
in *this* Python (a virtual environment where the system's Python refuses pip, as Debian's and Ubuntu's do).

Standard library only: it answers precisely when the requirements are missing.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

# Import name -> the name pip installs it by, where the two differ.
DISTRIBUTIONS = {"yaml": "PyYAML", "dateutil": "python-dateutil", "pyopenvba": "pyOpenVBA"}


def in_virtual_environment() -> bool:
    return sys.prefix != sys.base_prefix


def externally_managed() -> bool:
    """True where pip refuses to install into this Python (PEP 668: Debian's, Ubuntu's, Homebrew's)."""
    if in_virtual_environment():
        return False
    return (Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").is_file()


def install_command(requirements: Path | None) -> str:
    """The command that installs the requirements for the Python running now."""
    what = f"-r {requirements}" if requirements is not None else "peloton-xl"
    if externally_managed():
        return (
            f"python3 -m venv .venv && .venv/bin/python -m pip install {what}, "
            "then run it with .venv/bin/python (see the README's Quick start)"
        )
    return f'"{sys.executable}" -m pip install {what}'


def missing_module_line(exc: ModuleNotFoundError, project: Path | None) -> str:
    """One line for a requirement missing from this Python; `project` is a checkout holding
    requirements.txt (None for the installed command)."""
    top = (exc.name or "a required package").split(".")[0]
    requirements = project / "requirements.txt" if project is not None else None
    if requirements is not None and not requirements.is_file():
        requirements = None
    return (
        f"{DISTRIBUTIONS.get(top, top)} is not installed in this Python ({sys.executable}): "
        f"install the requirements with {install_command(requirements)}."
    )
