"""The hub in a real browser (Playwright on Debian's Chromium): an owner signs in, connects QuickBooks
by approving on the QBO sandbox's consent page, watches a real sync run to its end, maps an item, creates and
copies an API key and disconnects; every page passes axe-core with no serious or critical violation, at
desktop size and at 375 px, driven by the keyboard alone."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from connectors.apikeys import hash_key
from sierra_core.db.models import ApiKey, Integration
from sierra_sync.web.hub import login_limit
from tests.browser import screenshot_path
from tests.web.hub import helpers as h
from tests.web.hub.site import hub_site, serious_violations  # noqa: F401 - the session's served hub

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PAGES = ("/hub/", "/hub/logs", "/hub/api-keys", "/hub/webhooks", "/hub/reconciliation")


def sign_in(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/hub/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(h.PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{url}/hub/")


def qbo_row(site: Any) -> Integration:
    with site.deps.sessions() as s:
        row: Integration | None = s.scalar(
            select(Integration).where(Integration.company_id == site.company_id)
        )
    assert row is not None
    return row


def test_an_owner_connects_syncs_maps_creates_a_key_and_disconnects(page, hub_site):  # noqa: F811
    site = hub_site
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, site.url, site.owner)
    card = page.locator("#card-quickbooks_online")
    assert "Connect QuickBooks Online to sync your financials automatically." in card.inner_text()
    assert serious_violations(page) == []

    # Connect: the hub -> the sandbox's consent page, where the person clicks Approve ->
    # /oauth/quickbooks_online/callback -> the hub.
    site.qbo.admin("POST", "oauth", {"consent": "page"})
    try:
        card.get_by_role("button", name="Connect QuickBooks Online").click()
        page.wait_for_url(re.compile(re.escape(site.qbo.url) + r"/connect/oauth2\?.*"))
        assert "com.intuit.quickbooks.accounting" in page.inner_text("body")  # the scope asked for
        page.screenshot(path=str(screenshot_path("hub-qbo-consent")))
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(re.compile(r".*/hub/\?done=connected.*"))
    finally:
        site.qbo.admin("POST", "oauth", {"consent": "auto"})
    assert card.locator("[data-status]").inner_text().strip() == "Connected"
    assert "QuickBooks Online is connected." in page.locator("#toasts").inner_text()
    assert "tone-success" in (card.get_attribute("class") or "")
    page.screenshot(path=str(screenshot_path("hub-connected")))

    # Sync now: the real incremental-sync flow runs; the card's live region reports until it ends.
    card.get_by_role("button", name="Sync now").click()
    status = card.locator("[data-progress-text]")
    page.wait_for_function(
        "el => /sync (finished|failed)/.test(el.textContent)", arg=status.element_handle(), timeout=90_000
    )
    text = status.inner_text()
    assert "QuickBooks Online sync finished:" in text and "0 failed" in text, text
    synced = re.search(r"(\d+) synced", text)
    assert synced is not None and int(synced.group(1)) >= 2  # the customer and invoice #1234
    assert card.locator("[data-progress] progress").evaluate("el => el.value") == 100
    page.screenshot(path=str(screenshot_path("hub-synced")))

    # A mapping, chosen from the connected QuickBooks company's own items.
    card.get_by_role("link", name="Settings for QuickBooks Online").click()
    item = page.get_by_label("Item code FRAMING-LABOR")
    options = item.locator("option").all_inner_texts()
    assert any("Concrete" in o for o in options), options
    item.select_option(label=next(o for o in options if o.startswith("Concrete")))
    page.get_by_label("Every hour").check()
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url(re.compile(r".*done=settings.*"))
    assert "QuickBooks Online settings saved." in page.locator("#toasts").inner_text()
    settings = qbo_row(site).settings
    assert settings["items"]["FRAMING-LABOR"] == {"value": "3", "name": "Concrete"}
    assert settings["sync_frequency"] == "hourly"
    assert serious_violations(page) == []

    # An API key: shown once, copied with the button, stored hashed.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Zapier")
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_role("textbox", name="API key").input_value()
    page.get_by_role("button", name="Copy API key").click()
    page.wait_for_function("() => document.querySelector('#toasts').textContent.includes('Copied')")
    assert page.evaluate("() => navigator.clipboard.readText()") == shown
    with site.deps.sessions() as s:
        assert s.scalar(select(ApiKey.key_value).where(ApiKey.key_name == "Zapier")) == hash_key(shown)
    page.screenshot(path=str(screenshot_path("hub-api-key")))

    for path in PAGES[1:]:
        page.goto(f"{site.url}{path}")
        assert serious_violations(page) == [], path
    assert "invoice" in page.goto(f"{site.url}/hub/logs?status=success").text().lower()

    # Disconnect (confirmed in the dialog): tokens revoked, the card back to its empty state.
    page.goto(f"{site.url}/hub/")
    card.get_by_role("button", name="Disconnect QuickBooks Online").click()
    page.wait_for_url(re.compile(r".*done=disconnected.*"))
    assert card.locator("[data-status]").inner_text().strip() == "Not connected"
    assert "Connect QuickBooks Online to sync your financials automatically." in card.inner_text()
    page.screenshot(path=str(screenshot_path("hub-disconnected")))
    row = qbo_row(site)
    assert row.connection_status == "disconnected" and row.refresh_token is None


def test_at_375_px_by_keyboard_alone_a_member_reads_everything(page, hub_site):  # noqa: F811
    site = hub_site
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{site.url}/hub/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type(site.member)
    page.keyboard.press("Tab")
    page.keyboard.type(h.PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/hub/")
    assert "(read only)" in page.inner_text("header")
    assert page.get_by_role("button", name=re.compile("Connect|Disconnect|Sync now")).count() == 0
    for path in PAGES:
        page.goto(f"{site.url}{path}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        assert serious_violations(page) == [], path
    page.goto(f"{site.url}/hub/")
    # Tab reaches the navigation links in order; Enter follows one.
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => document.activeElement.textContent.trim()"))
        if seen[-1] == "Sync log":
            break
    assert seen[-1] == "Sync log", seen
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/hub/logs")
    page.screenshot(path=str(screenshot_path("hub-375-logs")), full_page=True)


def test_a_locked_out_sign_in_says_how_long_to_wait(page, hub_site):  # noqa: F811
    site = hub_site
    email = f"guesser-{uuid.uuid4().hex[:8]}@ridgeline.example"  # unknown emails are limited alike
    page.goto(f"{site.url}/hub/login")
    assert serious_violations(page) == []
    answers = []
    for _ in range(login_limit.LIMIT + 1):
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("not the password at all")
        with (
            page.expect_navigation(),
            page.expect_response(
                lambda r: r.url.endswith("/hub/login") and r.request.method == "POST"
            ) as sent,
        ):
            page.get_by_role("button", name="Sign in").click()
        answers.append(sent.value)
    assert [r.status for r in answers] == [401] * login_limit.LIMIT + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Too many failed sign-ins for this email. Wait 15 minutes and try again."
    assert page.get_by_label("Email").input_value() == email
    assert serious_violations(page) == []
    page.screenshot(path=str(screenshot_path("hub-login-rate-limited")))
