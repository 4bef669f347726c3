"""The browser fixture itself: Playwright drives the installed Chromium headless."""

from __future__ import annotations

from typing import Any

from tests.browser import screenshot_path


def test_page_renders_and_reacts_to_a_click(page: Any) -> None:
    page.set_content(
        "<button onclick=\"document.getElementById('out').textContent = 'clicked'\">Go</button>"
        "<p id='out'>idle</p>"
    )
    page.get_by_role("button", name="Go").click()
    assert page.locator("#out").text_content() == "clicked"
    path = screenshot_path("browser-smoke")
    page.screenshot(path=str(path))
    assert path.stat().st_size > 0
