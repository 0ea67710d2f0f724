"""An import instead of a refresh: the website's workout CSV → the store → every sheet, no network.

The way in when no sign-in works (`--import-csv FILE`, or the Config sheet's *Import CSV file* for the
ribbon). The workouts go into the account's store when the account is known without asking Peloton
(a pasted or saved token names it); otherwise into a store kept for the username until a refresh
signs in, which takes them into the account's own store (`WorkoutStore.absorb`). Either way, a later
refresh replaces each CSV row with the API's record of the same workout (`WorkoutStore.save_workouts`).
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from pathlib import Path

from pelotonxl.model.problems import Problems
from pelotonxl.model.workbook import Status
from pelotonxl.peloton.auth import USER_ID_CLAIM, TokenStore, jwt_claims
from pelotonxl.peloton.csv_import import read_csv
from pelotonxl.peloton.store import WorkoutStore
from pelotonxl.peloton.sync import Progress, SyncReport
from pelotonxl.refresh_job import ImportSummary, RefreshResult, TableWriter, build_and_write
from pelotonxl.settings import Settings
from pelotonxl.state import StateFolder, record_refresh


def run_import(
    settings: Settings,
    write: TableWriter,
    csv_path: Path,
    *,
    progress: Progress | None = None,
    workbook: Path | None = None,
) -> RefreshResult:
    """Import the CSV at `csv_path` and write the workbook from the store. Raises ConfigError (one line)
    when the file is not the website's workout CSV at all; rows that cannot be read are in the result's
    `imported.problems` (exit status 3), the rest imported."""
    started = time.perf_counter()
    csv_path = Path(csv_path).expanduser()
    found = read_csv(csv_path)
    state = StateFolder(settings.home_path)
    state.ensure()
    user_id = known_account(settings)
    path = state.store_file(user_id) if user_id else state.pending_import_file(settings.username)
    if progress:
        progress("tables", 0, None)
    with WorkoutStore(path) as store:
        added = store.import_records(found.records)
        summary = ImportSummary(csv_path.name, added, found.rows, found.problems)
        status = import_status(summary)
        if progress:
            progress("workbook", 0, None)
        # Recorded before a live writer recalculates the PELOTON_ formulas, so they find this store.
        recorded = partial(record_refresh, settings.home_path, user_id, workbook) if user_id and workbook else None
        rows, write_seconds, _ = build_and_write(store, write, status, ftp=None, full=False, recorded=recorded)
    if user_id:
        state.remember_account(user_id)
    return RefreshResult(
        SyncReport(total=rows, new=added),
        rows,
        time.perf_counter() - started,
        write_seconds,
        0,
        imported=summary,
    )


def import_status(summary: ImportSummary) -> Status:
    """The Config sheet's status cells for an import: the rows that could not be read, else OK."""
    return Status(
        last_refresh=datetime.now().replace(microsecond=0),
        last_result=f"OK; {summary.added} workouts imported from {summary.file} (clear Import CSV file to refresh "
        "from Peloton)",
        problems=Problems.found(csv_rows=summary.problems, csv_file=summary.file),
    )


def known_account(settings: Settings) -> str | None:
    """The account's user id without a request: from a pasted token, else the saved one."""
    if settings.access_token:
        user_id = jwt_claims(settings.access_token.strip()).get(USER_ID_CLAIM)
        if isinstance(user_id, str) and user_id:
            return user_id
    saved = TokenStore(settings.home_path, settings.username).load()
    return saved.user_id if saved is not None and isinstance(saved.user_id, str) else None
