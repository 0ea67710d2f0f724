"""Settings: one table of fields, resolved flag > environment > Config sheet > default.

The same FIELDS table lays out the Config sheet (template/build.py), reads it back
(xlsx/config_sheet.py, excel/workbook_link.py) and names the environment variables, so the three cannot drift.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pelotonxl.errors import ConfigError
from pelotonxl.state import StateFolder

DEFAULT_API_URL = "https://api.onepeloton.com"
DEFAULT_AUTH_URL = "https://auth.onepeloton.com"
# The mobile app's Auth0 client: the one that accepts the password grant (shared notes, Flow A).
DEFAULT_CLIENT_ID = "mgsmWCD0A8Qn6uz6mmqI6qeBNHH9IPwS"
DEFAULT_SCOPE = "offline_access openid"
# The website's Auth0 client and where it sends a member back (shared notes, Flow B): the second route in.
DEFAULT_WEB_CLIENT_ID = "WVoJxVDdPoFx4RNewvvg6ch2mZ7bwnsM"
DEFAULT_WEB_REDIRECT_URL = "https://members.onepeloton.com/callback"
DEFAULT_WEB_AUDIENCE = "https://api.onepeloton.com/"
# auto: the app's password sign-in, the website's when Peloton refuses it (or the one that worked last);
# app / website: that route only; token: never send a password, only the pasted (or saved) token.
SIGNIN_METHODS = ("auto", "app", "website", "token")
# Seconds between samples in a performance graph. Summaries, averages and heart-rate max/avg are
# whole-workout figures either way; the samples feed PELOTON_SERIES, the export and the power curve,
# which want them fine. A request costs the same at any sampling; only the payload grows.
DEFAULT_EVERY_N = 5
DEFAULT_WORKERS = 4
MAX_WORKERS = 16
MAX_EVERY_N = 3600  # an hour between samples: coarser than any workout is long


@dataclass(frozen=True)
class Field:
    name: str  # attribute on Settings
    label: str  # column A of the Config sheet
    env: str  # environment variable
    default: Any
    help: str  # column C of the Config sheet
    kind: type = str
    secret: bool = False
    lowest: int = 1  # bounds of a whole-number setting
    highest: int | None = None
    hint: str = ""  # said after a value out of bounds
    choices: tuple[str, ...] = ()  # the words a text setting may take (any case); empty: any text


FIELDS: tuple[Field, ...] = (
    Field("username", "Peloton email or username", "PELOTON_USERNAME", "", "The account to refresh."),
    Field(
        "password",
        "Password (optional)",
        "PELOTON_PASSWORD",
        "",
        "Better left empty: set PELOTON_PASSWORD or type it when asked. Only the token is kept.",
        secret=True,
    ),
    Field(
        "access_token",
        "Access token (optional)",
        "PELOTON_ACCESS_TOKEN",
        "",
        "Paste one from the Peloton website if the password sign-in is refused.",
        secret=True,
    ),
    Field(
        "refresh_token",
        "Refresh token (optional)",
        "PELOTON_REFRESH_TOKEN",
        "",
        "Paste with the access token so sign-in survives its 48 hours.",
        secret=True,
    ),
    Field("api_url", "API URL", "PELOTON_API_URL", DEFAULT_API_URL, "Peloton's API. Change only if Peloton moves it."),
    Field(
        "auth_url",
        "Sign-in URL",
        "PELOTON_AUTH_URL",
        DEFAULT_AUTH_URL,
        "Peloton's Auth0 sign-in service (the old /auth/login is gone).",
    ),
    Field(
        "client_id",
        "Sign-in client id",
        "PELOTON_CLIENT_ID",
        DEFAULT_CLIENT_ID,
        "Auth0 client used for the password sign-in.",
    ),
    Field(
        "scope",
        "Sign-in scope",
        "PELOTON_SCOPE",
        DEFAULT_SCOPE,
        "offline_access keeps a refresh token so you sign in rarely.",
    ),
    Field(
        "signin_method",
        "Sign-in method",
        "PELOTON_SIGNIN_METHOD",
        "auto",
        "auto: the app's sign-in, else the website's. app, website: that one only. token: the pasted token only.",
        choices=SIGNIN_METHODS,
    ),
    Field(
        "web_client_id",
        "Website sign-in client id",
        "PELOTON_WEB_CLIENT_ID",
        DEFAULT_WEB_CLIENT_ID,
        "Auth0 client of the Peloton website, for the website sign-in.",
    ),
    Field(
        "web_redirect_url",
        "Website sign-in return URL",
        "PELOTON_WEB_REDIRECT_URL",
        DEFAULT_WEB_REDIRECT_URL,
        "Where the website sign-in hands back its code (never opened: the code is read from the address).",
    ),
    Field(
        "web_audience",
        "Website sign-in audience",
        "PELOTON_WEB_AUDIENCE",
        DEFAULT_WEB_AUDIENCE,
        "The API the website sign-in asks a token for.",
    ),
    Field(
        "import_csv",
        "Import CSV file",
        "PELOTON_IMPORT_CSV",
        "",
        "A workout CSV downloaded from the Peloton website: a refresh imports it instead of signing in. "
        "Clear it to refresh from Peloton again.",
    ),
    Field(
        "every_n",
        "Graph sampling (seconds)",
        "PELOTON_EVERY_N",
        DEFAULT_EVERY_N,
        "Seconds between samples of each performance graph (5 or less for a power curve). "
        "Summaries do not depend on it.",
        kind=int,
        highest=MAX_EVERY_N,
    ),
    Field(
        "workers",
        "Parallel requests",
        "PELOTON_WORKERS",
        DEFAULT_WORKERS,
        "How many performance graphs to fetch at once (1-16). Be kind to Peloton.",
        kind=int,
        highest=MAX_WORKERS,
        hint="4 is kind to Peloton",
    ),
    Field(
        "ftp",
        "FTP (watts, optional)",
        "PELOTON_FTP",
        0.0,
        "Scores every ride against this FTP (if you test elsewhere). Empty: Peloton's FTP of each ride's date.",
        kind=float,
        lowest=0,
        highest=2000,
    ),
    Field(
        "weight_kg",
        "Weight (kg, optional)",
        "PELOTON_WEIGHT_KG",
        0.0,
        "For W/kg. Empty: the weight in your Peloton profile.",
        kind=float,
        lowest=0,
        highest=400,
    ),
    Field(
        "max_hr",
        "Max heart rate (bpm, optional)",
        "PELOTON_MAX_HR",
        0.0,
        "For heart-rate load. Empty: the maximum in your Peloton profile.",
        kind=float,
        lowest=0,
        highest=250,
    ),
    Field(
        "resting_hr",
        "Resting heart rate (bpm, optional)",
        "PELOTON_RESTING_HR",
        0.0,
        "For heart-rate load. Empty: 60.",
        kind=float,
        lowest=0,
        highest=150,
    ),
    Field(
        "threshold_hr",
        "Threshold heart rate (bpm, optional)",
        "PELOTON_THRESHOLD_HR",
        0.0,
        "An hour at it scores 100, like an hour at FTP. Empty: 90 % of the max heart rate.",
        kind=float,
        lowest=0,
        highest=250,
    ),
    Field(
        "trimp_k",
        "TRIMP k",
        "PELOTON_TRIMP_K",
        1.92,
        "Heart-rate load weighting: 1.92 (Banister's), or 1.67 as published for women.",
        kind=float,
        lowest=1,
        highest=3,
    ),
    Field(
        "home",
        "State folder",
        "PELOTON_XL_HOME",
        "",
        "Where tokens and the local store live. Empty: your user data folder.",
    ),
)

FIELD_BY_NAME = {f.name: f for f in FIELDS}
_FIELD_BY_LABEL = {f.label.strip().casefold(): f.name for f in FIELDS}


def field_for_label(label: object) -> str | None:
    """The field a Config-sheet label in column A names (trimmed, any case), or None."""
    return _FIELD_BY_LABEL.get(label.strip().casefold()) if isinstance(label, str) else None


@dataclass
class Settings:
    username: str = ""
    password: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    auth_url: str = DEFAULT_AUTH_URL
    client_id: str = DEFAULT_CLIENT_ID
    scope: str = DEFAULT_SCOPE
    signin_method: str = "auto"
    web_client_id: str = DEFAULT_WEB_CLIENT_ID
    web_redirect_url: str = DEFAULT_WEB_REDIRECT_URL
    web_audience: str = DEFAULT_WEB_AUDIENCE
    import_csv: str = ""
    every_n: int = DEFAULT_EVERY_N
    workers: int = DEFAULT_WORKERS
    ftp: float = 0.0
    weight_kg: float = 0.0
    max_hr: float = 0.0
    resting_hr: float = 0.0
    threshold_hr: float = 0.0
    trimp_k: float = 1.92
    home: str = ""
    # Where each value came from ("flag", "env", "config", "default"), for messages.
    sources: dict = field(default_factory=dict, repr=False)

    @property
    def home_path(self) -> Path:
        return StateFolder(self.home).root

    def named(self, name: str) -> str:
        """Where the member set `name`, as they would look for it (a flag, a variable, a Config cell)."""
        return _where(FIELD_BY_NAME[name], self.sources.get(name, "default"))


def _where(f: Field, source: str) -> str:
    """Named as the member set it: the flag, the environment variable or the Config label."""
    return {"flag": f"--{f.name.replace('_', '-')}", "env": f.env}.get(source, f"{f.label} (Config sheet)")


def _coerce(f: Field, raw: Any, source: str) -> Any:
    where = _where(f, source)
    if f.kind is float:
        return _bounded_number(f, raw, where)
    if f.kind is not int:
        text = str(raw).strip()
        if f.choices and text.casefold() not in f.choices:
            raise ConfigError(f"{where} must be one of {', '.join(f.choices)}, not {text[:40]!r}.")
        return text.casefold() if f.choices else text
    try:
        value = _whole_number(raw)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{where} must be a whole number, not {raw!r}.") from None
    if value < f.lowest:
        raise ConfigError(f"{where} must be at least {f.lowest}, not {value}.")
    if f.highest is not None and value > f.highest:
        hint = f"; {f.hint}" if f.hint else ""
        raise ConfigError(f"{where} must be {f.highest} or fewer, not {value}{hint}.")
    return value


def _bounded_number(f: Field, raw: Any, where: str) -> float:
    try:
        value = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, not {raw!r}.")
    if value < f.lowest or (f.highest is not None and value > f.highest):
        raise ConfigError(f"{where} must be between {f.lowest} and {f.highest}, not {value:g}.")
    return value


def _whole_number(raw: Any) -> int:
    """An int from a flag, an environment string or a Config cell ("4", "4.0", 4.0); never truncated."""
    if isinstance(raw, bool):
        raise TypeError(raw)
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    try:
        return int(text)
    except ValueError:
        number = float(text)  # a number cell reads back as "4.0"; "inf" and "nan" are refused below
        if not number.is_integer():
            raise ValueError(raw) from None
        return int(number)


def resolve(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    workbook: Path | None = None,
) -> Settings:
    """Build Settings from CLI flags, environment and Config-sheet values (by field name).

    Empty strings and None count as "not set", so an empty Config cell never hides a default. A
    relative State folder or Import CSV file typed in the Config sheet of `workbook` is read from the workbook's folder
    (where the member sees it), not from whatever folder the refresh was started in.
    """
    flags = flags or {}
    environ = os.environ if environ is None else environ
    config = config or {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in FIELDS:
        for source, raw in (("flag", flags.get(f.name)), ("env", environ.get(f.env)), ("config", config.get(f.name))):
            if raw is not None and str(raw).strip() != "":
                values[f.name] = _coerce(f, raw, source)
                sources[f.name] = source
                break
        else:
            values[f.name] = f.default
            sources[f.name] = "default"
    for name in ("home", "import_csv"):  # paths: a relative one typed on the Config sheet is the workbook's
        if workbook is not None and sources[name] == "config":
            path = Path(values[name]).expanduser()
            values[name] = str(path if path.is_absolute() else Path(workbook).parent / path)
    return Settings(**values, sources=sources)


assert {f.name for f in FIELDS} == {f.name for f in fields(Settings)} - {"sources"}
