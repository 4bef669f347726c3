"""The Xero card in a real browser (Playwright on Debian's Chromium): an owner of a company kept in Xero
sees its organisation, counts and health, presses "Sync now" and the card's live region follows the
incremental-sync run it started; the page passes axe-core with no serious or critical violation, at
desktop size and at 375 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sierra_sync.web import AppDeps
from tests.web.hub import helpers as h
from tests.web.hub.site import serious_violations
from tests.web.hub.test_hub_browser import sign_in
from tests.web.hub.test_hub_xero_card import TENANT, Recorder, xero_callbacks, xero_company

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def served(sessions: Any, web_server: Any) -> Iterator[tuple[str, Recorder, Any]]:
    runs = Recorder()
    deps = AppDeps(sessions=sessions, hub=h.config(runs=runs), oauth=xero_callbacks(sessions))
    with web_server.serve(deps):
        yield web_server.url, runs, deps


def test_the_xero_card_in_a_browser(page: Any, served: Any, sessions: Any) -> None:
    url, runs, _ = served
    company_id, owner = xero_company(sessions, "Kauri Homes")
    sign_in(page, url, owner)
    card = page.locator("#card-xero")
    text = card.inner_text()
    assert "Connected" in text and f"Kauri Homes Ltd ({TENANT})" in text
    assert "Xero calls left: 212 today, 58 this minute" in text
    assert serious_violations(page) == []
    card.get_by_role("button", name="Sync now").click()
    status = card.locator("[data-progress-text]")
    page.wait_for_function(
        "el => /Xero sync/.test(el.textContent)", arg=status.element_handle(), timeout=30_000
    )
    assert runs.started == [("incremental-sync", {"company": str(company_id), "trigger": "manual"})]
    assert serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{url}/hub/")
    assert serious_violations(page) == []
