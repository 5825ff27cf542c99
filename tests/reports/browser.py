"""Headless chromium for the report tests and the screenshots: Debian's /usr/bin/chromium
driven by Playwright (never `playwright install`), with a fresh profile and background
networking off, recording every request the pages make."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, Request, sync_playwright

CHROMIUM = os.environ.get("GOVSOCIAL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextlib.contextmanager
def browser_page(profile: Path) -> Iterator[tuple[Page, list[str]]]:
    """A page of a fresh chromium, and the list that every request's URL is appended to.
    Fails with the fix when chromium is not installed (CI installs Debian's package)."""
    if not Path(CHROMIUM).is_file():
        raise AssertionError(
            f"chromium is not installed at {CHROMIUM}: the site's browser test needs it. "
            "Install Debian's package (apt-get install chromium) or set GOVSOCIAL_CHROMIUM "
            "to its path; never `playwright install`."
        )
    requests: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True
        )
        try:
            page = context.new_page()

            def record(request: Request) -> None:
                requests.append(request.url)

            context.on("request", record)
            yield page, requests
        finally:
            context.close()
