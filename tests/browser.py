"""A headless Chromium for browser tests: Playwright driving Debian's Chromium (scripts/ensure-chromium.sh).

Use the `page` fixture (re-exported by tests/conftest.py); a test that needs a browser where none is
installed skips with the reason printed (pytest -ra), never silently. Screenshots go to
`.sierra/artifacts/screenshots/` (CI keeps them as test artifacts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SIERRA_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parent.parent / ".sierra" / "artifacts" / "screenshots"


def screenshot_path(name: str) -> Path:
    """Where a test saves the screenshot called `name` (the folder is made on demand)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


@pytest.fixture
def chromium() -> Iterator[object]:
    """A headless Chromium for one test (a playwright Browser).

    Not shared across tests on purpose: Playwright's sync API runs its event loop on this thread (in a
    greenlet), so while it is open every `asyncio.get_running_loop()` here sees a running loop, and Prefect's
    sync calls (`Block.save()` ...) return coroutines instead of running. Higher-scoped fixtures (servers,
    blocks) are therefore set up before it starts, and nothing after the test runs beside an open browser."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium.sh (or set SIERRA_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    """A fresh browser context and page per test (desktop size; tests may resize to 375 px)."""
    from playwright.sync_api import Browser

    assert isinstance(chromium, Browser)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
