"""Open the published HTML page in headless Chromium (Debian's, driven by Playwright) with the network
blocked: every request that is not a local file is aborted and recorded."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OPERATION_ANCHOR = "#tag/VPN-connection/operation/CreateVpnConnection"
SCREEN_WIDTH, SCREEN_HEIGHT = 1400, 1600  # the screenshot's size, and the "first paint" the page test checks


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def first_paint_problems(page: Any, height: int = SCREEN_HEIGHT) -> list[str]:
    """What a reader would miss in the first ``height`` pixels of the page as it opens (no click, no scroll):
    the operation's title, its request fields listed, and the request example in the right panel."""

    def on_screen(locator: Any, right_panel: bool = False) -> bool:
        for index in range(locator.count()):
            box = locator.nth(index).bounding_box()
            if box and locator.nth(index).is_visible() and 0 <= box["y"] and box["y"] + box["height"] <= height:
                if not right_panel or box["x"] > page.viewport_size["width"] * 0.6:
                    return True
        return False

    problems = []
    if not on_screen(page.get_by_role("heading", name="Create a VPN connection")):
        problems.append("the operation's title is not on screen")
    for field in ("name", "vgw_id", "vgw_ip"):
        if not on_screen(page.get_by_text(f"vpn_connection.{field}", exact=True)):
            problems.append(f"the request field {field} is not listed on screen (is the body collapsed?)")
    for key in ('"vgw_id"', '"psk"'):
        if not on_screen(page.get_by_text(key, exact=True), right_panel=True):
            problems.append(f"the request example's {key} is not on screen in the right panel")
    return problems


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
            page = browser.new_page(viewport={"width": SCREEN_WIDTH, "height": 2000})
            page.route("**/*", route)
            page.goto(html.resolve().as_uri() + anchor)
            page.wait_for_selector("text=Create a VPN connection", timeout=30000)
            yield page, blocked
        finally:
            browser.close()
