"""The state folder: the one module that knows what lives where inside it.

    <home>/tokens/<account key>.json         the token set, owner-only (peloton.auth.TokenStore)
    <home>/tokens/<account key>.route        the sign-in route that last worked for the account
                                             ("app" or "website"; peloton.signin_routes)
    <home>/accounts/<user id>/store.sqlite   raw JSON of every workout and graph (peloton.store)
    <home>/accounts/<user id>/store.sqlite.checked  the store file as a refresh closed it after checking it
                                             (peloton.store: unchanged since, it is not checked again)
    <home>/imports/<account key>/store.sqlite  workouts imported from the website's CSV before the
                                             account's user id was known; the next refresh that signs
                                             in takes them into the account's store and removes this
    <home>/last_account                      user id of the most recent refresh into this folder
    <home>/demo/                             the demo's own state folder (same layout), so trying the
                                             demo never changes what the member's functions answer

<home> is the State folder setting (PELOTON_XL_HOME, --home), else the user data folder.

One file lives in the user data folder whatever the State folder is, so that the worksheet
functions find a refresh wherever it stored its data:

    <user data folder>/refreshes.json        {"last": {home, account}, "last_demo": {...},
                                              "workbooks": {<workbook path>: {home, account}}}
    <user data folder>/saved_workbooks.json  {<workbook path>: [the file's identity as a refresh saved
                                              it, the release]} (xlsx.safety: unchanged since, its
                                              content needs no checking again)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import ConfigError

LAST_ACCOUNT_FILE = "last_account"
DEMO_FOLDER = "demo"
REFRESHES_FILE = "refreshes.json"
SAVED_WORKBOOKS_FILE = "saved_workbooks.json"
MAX_WORKBOOKS = 50  # workbooks remembered in refreshes.json, most recent first

log = logging.getLogger(__name__)


def default_home() -> Path:
    """~/.local/share/peloton_xl, ~/Library/Application Support/peloton_xl, %LOCALAPPDATA%\\peloton_xl."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("peloton_xl", appauthor=False))


def refreshes_file() -> Path:
    """The machine-wide record of where refreshes stored their data (in the user data folder)."""
    return default_home() / REFRESHES_FILE


def saved_workbooks_file() -> Path:
    """The machine-wide record of the workbooks as refreshes last saved them (in the user data folder)."""
    return default_home() / SAVED_WORKBOOKS_FILE


def comparable_path(path: str | os.PathLike) -> str:
    """One spelling per file: absolute, resolved, case-folded where the file system ignores case."""
    return os.path.normcase(str(Path(path).expanduser().resolve(strict=False)))


@dataclass(frozen=True)
class RefreshRecord:
    """Where one refresh stored its data: the state folder and the account in it."""

    home: Path
    account: str

    @property
    def store_file(self) -> Path:
        return StateFolder(self.home).store_file(self.account)


class StateFolder:
    def __init__(self, root: Path | str | None = None):
        # "~" as a shell would read it: a Config cell or an environment variable is not expanded for us.
        self.root = Path(root).expanduser() if root else default_home()

    def __repr__(self) -> str:
        return f"StateFolder({str(self.root)!r})"

    def ensure(self, named: str = "PELOTON_XL_HOME (or --home)") -> None:
        """Create the folder, or say in one line why it cannot be used, blaming the setting `named`.

        Checked up front: failing later would mean after a sign-in, with an error about a subfolder."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # An existing folder may still refuse writes (permissions, a read-only disk): try one.
            probe = self.root / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise ConfigError(
                f"The state folder {self.root} cannot be used ({err.strerror}): point "
                f"{named} at a folder you can write to."
            ) from None

    def token_file(self, account: str) -> Path:
        # Hashed: an email address makes a poor file name, and the name need not reveal it.
        key = hashlib.sha256((account or "default").strip().lower().encode()).hexdigest()[:16]
        return self.root / "tokens" / f"{key}.json"

    def signin_route_file(self, account: str) -> Path:
        """Which route signed the account in last: tried first next time, so a refused one costs nothing."""
        return self.token_file(account).with_suffix(".route")

    def pending_import_file(self, account: str) -> Path:
        """The store of a CSV import made before the account was known (keyed like its token file)."""
        return self.root / "imports" / self.token_file(account).stem / "store.sqlite"

    def store_file(self, user_id: str) -> Path:
        return self.root / "accounts" / _safe(user_id) / "store.sqlite"

    @property
    def last_account_file(self) -> Path:
        return self.root / LAST_ACCOUNT_FILE

    def remember_account(self, user_id: str) -> None:
        """The worksheet functions answer for the account of the most recent refresh."""
        with replacing(self.last_account_file) as tmp:
            tmp.write_text(user_id, encoding="utf-8")

    def demo(self) -> StateFolder:
        """The demo's state folder inside this one: its tokens, store and last_account apart."""
        return StateFolder(self.root / DEMO_FOLDER)

    def last_account(self) -> str | None:
        try:
            return self.last_account_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None


def checked_store_record(store_file: Path) -> Path:
    """Beside a store: its file as the last refresh that checked it closed it."""
    return store_file.with_name(store_file.name + ".checked")


def record_refresh(home: Path | str, account: str, workbook: Path | str | None = None, *, demo: bool = False) -> None:
    """Remember, machine-wide, where a refresh stored its data: as this machine's most recent refresh
    (or most recent demo refresh) and as the refresh of `workbook`. A record that cannot be written is
    logged, never fatal: the workbook and the store are already written."""
    path = refreshes_file()
    data = _read_refreshes(path)
    entry = {"home": str(Path(home).expanduser().resolve(strict=False)), "account": account}
    data["last_demo" if demo else "last"] = entry
    if workbook is not None:
        books = {comparable_path(workbook): entry}
        books.update((k, v) for k, v in data.get("workbooks", {}).items() if k not in books)
        data["workbooks"] = dict(list(books.items())[:MAX_WORKBOOKS])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    except OSError as err:
        log.warning(
            "could not record this refresh in %s (%s): the worksheet functions may not find it", path, err.strerror
        )


def last_refresh() -> RefreshRecord | None:
    """This machine's most recent refresh of a member's account; the most recent demo refresh only
    when no member's refresh was ever recorded."""
    data = _read_refreshes(refreshes_file())
    return _record(data.get("last")) or _record(data.get("last_demo"))


def refresh_of(workbook: Path | str) -> RefreshRecord | None:
    """The most recent refresh of the workbook at that path, wherever it stored its data."""
    entry = _read_refreshes(refreshes_file()).get("workbooks", {}).get(comparable_path(workbook))
    return _record(entry)


def answering_store(book: Path | str | None, home: Path | str | None) -> tuple[RefreshRecord | None, tuple[str, ...]]:
    """Which refresh's store answers for `book` (a workbook's path; None: plain Python), and the files
    read to decide (a change to one means: decide again). The one rule, for the worksheet functions,
    Show ride and --export.

    The workbook's own last refresh, wherever it stored its data; else, when no State folder `home` is
    named, this machine's most recent refresh; else the last account of the state folder `home`
    (the default one when None). None: no refresh yet."""
    refreshes = str(refreshes_file())
    record = refresh_of(book) if book else None
    if record is None and not home:
        record = last_refresh()
    if record is not None:
        return record, (refreshes,)
    state = StateFolder(home or None)
    account = state.last_account()
    # With a State folder named, plain Python never reads the record; a workbook may find a later refresh there.
    read = (refreshes,) if book or not home else ()
    return (RefreshRecord(state.root, account) if account else None), (*read, str(state.last_account_file))


def _read_refreshes(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _record(entry: object) -> RefreshRecord | None:
    if not isinstance(entry, dict) or not entry.get("home") or not entry.get("account"):
        return None
    return RefreshRecord(Path(entry["home"]), str(entry["account"]))


def _safe(user_id: str) -> str:
    """A user id as a folder name (Peloton's are 32 hex digits): nothing that could leave the folder."""
    cleaned = "".join(c for c in str(user_id) if c.isalnum() or c in "-_")
    if not cleaned:
        raise ValueError(f"not a usable account id: {user_id!r}")
    return cleaned
