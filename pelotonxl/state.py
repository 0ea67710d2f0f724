"""The state folder: the one module that knows what lives where inside it.

    <home>/tokens/<account key>.json         the token set, owner-only (peloton.auth.TokenStore)
    <home>/accounts/<user id>/store.sqlite   raw JSON of every workout and graph (peloton.store)
    <home>/last_account                      user id of the most recent refresh: the account the
                                             worksheet functions answer for

<home> is the State folder setting (PELOTON_XL_HOME, --home), else the user data folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pelotonxl.errors import ConfigError

LAST_ACCOUNT_FILE = "last_account"


def default_home() -> Path:
    """~/.local/share/peloton_xl, ~/Library/Application Support/peloton_xl, %LOCALAPPDATA%\\peloton_xl."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("peloton_xl", appauthor=False))


class StateFolder:
    def __init__(self, root: Path | str | None = None):
        # "~" as a shell would read it: a Config cell or an environment variable is not expanded for us.
        self.root = Path(root).expanduser() if root else default_home()

    def __repr__(self) -> str:
        return f"StateFolder({str(self.root)!r})"

    def ensure(self) -> None:
        """Create the folder, or say in one line why it cannot be used.

        Checked up front: failing later would mean after a sign-in, with an error about a subfolder."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # An existing folder may still refuse writes (permissions, a read-only disk): try one.
            probe = self.root / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ConfigError(f"The state folder {self.root} cannot be used ({err.strerror}): point "
                              "PELOTON_XL_HOME (or --home) at a folder you can write to.") from None

    def token_file(self, account: str) -> Path:
        # Hashed: an email address makes a poor file name, and the name need not reveal it.
        key = hashlib.sha256((account or "default").strip().lower().encode()).hexdigest()[:16]
        return self.root / "tokens" / f"{key}.json"

    def store_file(self, user_id: str) -> Path:
        return self.root / "accounts" / _safe(user_id) / "store.sqlite"

    @property
    def last_account_file(self) -> Path:
        return self.root / LAST_ACCOUNT_FILE

    def remember_account(self, user_id: str) -> None:
        """The worksheet functions answer for the account of the most recent refresh."""
        tmp = self.last_account_file.with_suffix(".tmp")
        tmp.write_text(user_id, encoding="utf-8")
        tmp.replace(self.last_account_file)

    def last_account(self) -> str | None:
        try:
            return self.last_account_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None


def _safe(user_id: str) -> str:
    """A user id as a folder name (Peloton's are 32 hex digits): nothing that could leave the folder."""
    cleaned = "".join(c for c in str(user_id) if c.isalnum() or c in "-_")
    if not cleaned:
        raise ValueError(f"not a usable account id: {user_id!r}")
    return cleaned
