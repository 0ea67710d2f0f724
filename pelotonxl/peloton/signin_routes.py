"""Which way in, in what order, and what to tell the member when none works.

Two routes take a password: the app's (one request, Flow A) and the website's (Flow B, in
`web_signin`). The Sign-in method setting picks: `auto` tries the route that last worked for the
account first (the app's on a first sign-in) and the other when Peloton refuses the first for the
client; `app` and `website` try only that one; `token` never sends a password. The route that worked
is remembered per account in the state folder (`StateFolder.signin_route_file`).
"""

from __future__ import annotations

from pelotonxl.atomic_file import replacing
from pelotonxl.errors import LoginError
from pelotonxl.state import StateFolder

APP, WEBSITE = "app", "website"
ROUTE_NAMES = {APP: "the app's sign-in", WEBSITE: "the website's sign-in"}
# The ways in that need no password sign-in at all: what a member can do when both routes fail.
LAST_RESORTS = (
    "paste an access token from the Peloton website (Access token on the Config sheet, or PELOTON_ACCESS_TOKEN), "
    "or download your workouts as CSV from the website and import them (--import-csv FILE, or Import CSV file "
    "on the Config sheet)"
)


class RouteMemory:
    """The route that last signed an account in, one word in a file of the state folder."""

    def __init__(self, home: StateFolder, account: str) -> None:
        self.path = home.signin_route_file(account)

    def load(self) -> str | None:
        try:
            word = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return word if word in ROUTE_NAMES else None

    def save(self, route: str) -> None:
        """Remember `route`; the app's, the usual one, is remembered by having no file."""
        if self.load() == route or (route == APP and not self.path.exists()):
            return
        try:
            if route == APP:
                self.path.unlink()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path) as tmp:
                tmp.write_text(route, encoding="utf-8")
        except OSError:
            pass  # only an order of preference: next time the app's route is simply tried first again


def route_order(method: str, remembered: str | None) -> list[str]:
    """The routes to try, in order, for a Sign-in method."""
    if method in (APP, WEBSITE):
        return [method]
    first = remembered if remembered in ROUTE_NAMES else APP
    return [first, WEBSITE if first == APP else APP]


def token_only_error() -> LoginError:
    return LoginError(
        "Sign-in method is 'token', but no access token is pasted and none is saved: paste one from the "
        "Peloton website (Access token on the Config sheet, or PELOTON_ACCESS_TOKEN), or set Sign-in method to auto."
    )


def all_routes_failed(method: str, reasons: dict[str, str]) -> LoginError:
    """One line: which routes were tried, why each failed, and what to try next."""
    if method == APP:
        return LoginError(
            f"Peloton refused the app's password sign-in ({reasons[APP]}): set Sign-in method to auto or website "
            f"to sign in through the Peloton website, or {LAST_RESORTS}."
        )
    if method == WEBSITE:
        return LoginError(
            f"Peloton's website sign-in failed ({reasons[WEBSITE]}): set Sign-in method to auto or app, "
            f"or {LAST_RESORTS}."
        )
    tried = "; ".join(f"{ROUTE_NAMES[route]}: {why}" for route, why in reasons.items())
    return LoginError(f"Peloton refused both sign-ins ({tried}): {LAST_RESORTS}.")
