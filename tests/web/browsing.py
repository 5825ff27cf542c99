"""Several people at once in Debian's chromium, driven by Playwright: one browser, a context
(its own cookies) per person, every console error and failed request recorded, screenshots
kept as test artifacts in ``test-artifacts/web/`` (or ``$GOVSOCIAL_TEST_ARTIFACTS/web/``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from reports.browser import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


def artifacts() -> Path:
    folder = Path(os.environ.get("GOVSOCIAL_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class People:
    """The browser, and what went wrong in any page (console errors, failed requests)."""

    browser: Browser
    url: str
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def person(self, lang: str = "en") -> Page:
        """A new person (no cookies but the language) on a new page."""
        context = self.browser.new_context(
            base_url=self.url, viewport={"width": 1280, "height": 900}
        )
        context.add_cookies([{"name": "gs_lang", "value": lang, "url": self.url}])
        page = context.new_page()

        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.problems.append(f"{page.url}: console: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        page.on(
            "requestfailed",
            lambda request: self.problems.append(f"{request.url}: {request.failure}"),
        )
        return page

    def shot(self, page: Page, name: str) -> Path:
        path = artifacts() / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


@contextlib.contextmanager
def browsing(url: str) -> Iterator[People]:
    if not Path(CHROMIUM).is_file():
        raise AssertionError(
            f"chromium is not installed at {CHROMIUM}: the web's browser test needs it. "
            "Install Debian's package (apt-get install chromium); never `playwright install`."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield People(browser, url)
        finally:
            browser.close()


def sign_in(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
