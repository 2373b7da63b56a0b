"""Open the published HTML page in headless Chromium (Debian's, driven by Playwright) with the network
blocked: every request that is not a local file is aborted and recorded."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OPERATION_ANCHOR = "#tag/VPN-connection/operation/CreateVpnConnection"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def offline_page(html: Path, anchor: str = OPERATION_ANCHOR) -> Iterator[tuple[Any, list[str]]]:
    """``with offline_page(path) as (page, blocked):`` -- a Playwright page, and the URLs it tried to fetch."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("Chromium is not installed (Debian package 'chromium'); 'make publish' and 'make test' install it")
    blocked: list[str] = []

    def route(route):
        if route.request.url.startswith("file:"):
            return route.continue_()
        blocked.append(route.request.url)
        return route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.route("**/*", route)
            page.goto(html.resolve().as_uri() + anchor)
            page.wait_for_selector("text=Create a VPN connection", timeout=30000)
            yield page, blocked
        finally:
            browser.close()
