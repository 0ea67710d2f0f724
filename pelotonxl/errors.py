"""One exception family. Each message is a single line a member can act on."""


class PelotonXLError(Exception):
    """A foreseeable failure. str(err) is shown to the user as-is."""


class ConfigError(PelotonXLError):
    """A setting is missing or invalid."""


class LoginError(PelotonXLError):
    """Signing in failed: bad credentials, a refused token, or the dead legacy login."""


class ApiError(PelotonXLError):
    """Peloton answered with an error, or with something that is not the JSON we expected."""

    def __init__(self, message: str, endpoint: str = "", status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class WorkbookError(PelotonXLError):
    """The workbook cannot be written safely (missing, locked, open in Excel, not a workbook...)."""


def shown_text(value: object, limit: int = 120) -> str:
    """Text from elsewhere (a server's error description, a setting) as a message may quote it: one line,
    no control or escape characters (a terminal would obey them), no lone surrogates, at most `limit`
    characters."""
    text = value if isinstance(value, str) else repr(value)
    text = text[: limit * 4]  # a 100 kB description is cut before it is even cleaned
    cleaned = "".join(" " if not ch.isprintable() or "\ud800" <= ch <= "\udfff" else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
