"""Headless Chromium for the report tests, driven by Playwright.

:func:`launch_chromium` starts the system's ``chromium`` (never a browser
Playwright downloads) with no sandbox (tests run as root in CI) and no
background networking (the test machines have no network), and
:func:`open_page` loads a page in a fresh browser context and returns what a
person would see: the console errors, the requests it made, the dialogs a
script opened, facts about the DOM and a screenshot.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Dialog, sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars"]

#: JavaScript run in the loaded page: what a reader would see
PAGE_FACTS = """() => {
  const images = [...document.querySelectorAll('figure img')];
  return {
    title: document.title,
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent),
    tables: [...document.querySelectorAll('table')].map(t => ({
        kind: t.className, rows: t.querySelectorAll('tbody tr').length})),
    figures: images.length,
    figures_drawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
    scripts: document.querySelectorAll('script').length,
    text: document.body.innerText,
  };
}"""


def find_chromium() -> str | None:
    """The path of the system's Chromium, or None where it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageResult:
    facts: dict[str, Any]
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    screenshot: bytes = b""


@contextmanager
def launch_chromium(executable: str) -> Iterator[Browser]:
    """One Chromium process for as long as the ``with`` block lasts."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             chromium_sandbox=False, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, url: str, width: int = 1200, height: int = 900,
              screenshot: Path | None = None) -> PageResult:
    """Load ``url`` in a new context; collect console errors, requests, dialogs, facts, a picture.

    Raises Playwright's ``TimeoutError`` if the page does not load within a minute.
    """
    result = PageResult(facts={})
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=1)
    try:
        page = context.new_page()
        # Console messages include the browser's own log entries (failed loads, blocked content).
        page.on("console", lambda message: result.console_errors.append(message.text)
                if message.type in ("error", "assert") else None)
        page.on("pageerror", lambda error: result.console_errors.append(str(error)))
        page.on("request", lambda request: result.requests.append(request.url))

        def dismiss(dialog: Dialog) -> None:
            result.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.goto(url, wait_until="load", timeout=60_000)
        result.facts = page.evaluate(PAGE_FACTS)
        result.screenshot = page.screenshot(full_page=True, type="png")
        if screenshot is not None:
            screenshot.write_bytes(result.screenshot)
    finally:
        context.close()
    return result
