"""--demo: the refresh runs against a local server playing a demo account, with its own state folder."""

from __future__ import annotations

from contextlib import ExitStack

from pelotonxl.settings import Settings


def demo_settings(settings: Settings, stack: ExitStack) -> Settings:
    """Point the very same client at a local server playing a demo account, with its own state folder
    (`demo` inside the member's), so the demo never becomes the account the member's functions answer for."""
    from pelotonxl.demo.account import demo_end, make_account
    from pelotonxl.demo.server import DEMO_PASSWORD, DEMO_USERNAME, FakePeloton
    from pelotonxl.state import StateFolder

    settings.home = str(StateFolder(settings.home_path).demo().root)

    server = stack.enter_context(FakePeloton(make_account(end=demo_end()), secret=b"peloton_xl demo"))
    settings.api_url = settings.auth_url = server.url
    settings.username, settings.password = DEMO_USERNAME, DEMO_PASSWORD
    settings.access_token = settings.refresh_token = ""
    settings.sources.update(username="demo", password="demo")
    return settings
