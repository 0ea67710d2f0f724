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
