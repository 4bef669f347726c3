"""Key rotation re-seals everything the token keys seal (connections, pending authorizations, outgoing
webhook signing secrets), reports what is left on older keys, and once that is zero the old keys can be
removed without breaking a refresh, an authorization or a signed delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from connectors.keyrotation import audit, reseal_all
from connectors.kit import connect
from connectors.kit.tokens import DbTokenSource
from connectors.outgoing_webhooks import (
    OUTGOING,
    SIGNATURE_HEADER,
    DeliveryPolicy,
    deliver_due,
    emit_event,
    open_secret,
    rotate_secret,
    seal_secret,
    verify_signature,
)
from sandbox.common.server import LocalServer
from sierra_core.crypto import Keyring, generate_key
from sierra_core.db.models import OAuthState, WebhookSubscription
from tests import factories
from tests.connectors.quickbooks import oauth_helpers as h

NEW_KEY = generate_key()


def _rings() -> tuple[Keyring, Keyring, Keyring]:
    """The old ring (k1), the ring after `keys rotate` (k1 + newer k2), and k2 alone (k1 removed)."""
    old = h.keyring()
    both = h.keyring({"k2": NEW_KEY})
    only_new = Keyring.from_encoded({"k2": NEW_KEY}, {"k2": datetime.now(UTC)})
    return old, both, only_new


class Receiver:
    """Accepts a delivery only if one of its signatures matches `secret`."""

    def __init__(self) -> None:
        self.secret = ""
        self.calls: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            header = request.headers.get(SIGNATURE_HEADER, "")
            ok = verify_signature(self.secret, header, body, now=datetime.now(UTC).timestamp())
            self.calls.append({"valid": ok, "v1": header.count("v1="), "event": json.loads(body)})
            return JSONResponse({"ok": ok}, status_code=200 if ok else 400)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rec = Receiver()
    with LocalServer(rec.app) as server:
        yield rec, f"{server.url}/hook"


@pytest.fixture
def world(sessions, qbo, receiver):
    """A connected company, a second authorization still pending, and an outgoing webhook subscription
    whose secret was rotated (current + previous secret, both sealed with k1)."""
    old, _, _ = _rings()
    rec, url = receiver
    with sessions.begin() as s:
        company_id = factories.company(s).id
    http = httpx.Client(timeout=10)
    integration_id, _, app, _ = h.connect_company(sessions, qbo.url, http, company_id, old)
    pending = connect.begin(sessions, old, app, company_id)
    now = datetime.now(UTC)
    with sessions.begin() as s:
        sub = WebhookSubscription(
            company_id=company_id, provider=OUTGOING, webhook_url=url, events=["payment.received"]
        )
        s.add(sub)
        s.flush()
        sub.webhook_secret = seal_secret(old, sub.id, "whsec_first")
        rec.secret = rotate_secret(old, sub, now, timedelta(hours=1))  # the receiver moved to the new one
        sub_id = sub.id
    token = DbTokenSource(sessions, integration_id, old, app, http).access_token()
    yield {
        "company_id": company_id,
        "integration_id": integration_id,
        "app": app,
        "http": http,
        "pending": pending,
        "sub_id": sub_id,
        "token": token,
        "rec": rec,
    }
    http.close()


def test_rotation_reseals_webhook_secrets_and_states_and_reports_zero_left(sessions, world):
    _, both, _ = _rings()
    assert audit(sessions, both)["webhook secrets"] == {"k1": 1}  # before: sealed with the old key
    report = reseal_all(sessions, both)
    assert report.key_id == "k2"
    assert report.integrations_resealed == 1
    assert report.webhook_secrets_resealed == 2  # the current and the previous secret
    assert report.oauth_states_resealed == 2  # the consumed authorization and the pending one
    assert (report.left_on_old_keys, report.left_by_column, report.removable_key_ids) == (0, {}, ["k1"])
    counts = audit(sessions, both)
    assert all(set(per_key) <= {"k2"} for per_key in counts.values()), counts
    with sessions() as s:
        sub = s.get(WebhookSubscription, world["sub_id"])
        assert sub is not None and sub.webhook_secret and sub.previous_webhook_secret
        assert open_secret(both, sub.id, sub.previous_webhook_secret) == "whsec_first"
    again = reseal_all(sessions, both)  # nothing left to do the second time
    assert (again.webhook_secrets_resealed, again.oauth_states_resealed, again.integrations_current) == (
        0,
        0,
        1,
    )


def test_removing_old_keys_after_a_zero_report_breaks_nothing(sessions, world):
    _, both, only_new = _rings()
    assert reseal_all(sessions, both).left_on_old_keys == 0
    # k1 removed from the block: every sealed value still opens and does its job
    source = DbTokenSource(sessions, world["integration_id"], only_new, world["app"], world["http"])
    assert source.access_token() == world["token"]
    source.refresh_after_401(world["token"])  # a refresh seals the new tokens and keeps working
    assert source.access_token() != world["token"]
    params = h.consent(world["pending"].url)
    completed = connect.complete(
        sessions,
        only_new,
        world["app"],
        world["http"],
        state=params["state"],
        code=params.get("code"),
        callback=params,
        error=params.get("error"),
    )
    assert completed == world["integration_id"]
    with sessions.begin() as s:
        emit_event(s, world["company_id"], "payment.received", {"amount": "10.00"})
    with httpx.Client(timeout=5) as http:
        result = deliver_due(sessions, only_new, http, policy=DeliveryPolicy(allow_private_targets=True))
    assert result.succeeded == 1
    calls = world["rec"].calls
    assert [c["valid"] for c in calls] == [True] and calls[0]["v1"] == 2  # signed with both secrets


def test_a_secret_rotated_with_the_new_key_is_left_as_it_is(sessions, world):
    """A secret the API rotated after the new key was added (so sealed with it) is not rewritten."""
    _, both, _ = _rings()
    with sessions() as s:
        before = s.scalar(select(WebhookSubscription.webhook_secret))
    with sessions.begin() as s:  # the API rotates the secret with the new ring
        sub = s.get(WebhookSubscription, world["sub_id"])
        assert sub is not None
        fresh = rotate_secret(both, sub, datetime.now(UTC), timedelta(0))
    report = reseal_all(sessions, both)
    with sessions() as s:
        sub = s.get(WebhookSubscription, world["sub_id"])
        assert sub is not None and sub.webhook_secret != before
        assert open_secret(both, sub.id, sub.webhook_secret or "") == fresh
    assert report.left_on_old_keys == 0


def test_a_value_no_key_opens_is_reported_not_fatal(sessions, world):
    """A value sealed with a key the block no longer has is counted (left on an old key, unreadable),
    the rest is still re-sealed, and the report never calls that value's key removable."""
    _, both, _ = _rings()
    stray = Keyring.from_encoded({"k0": generate_key()}, {"k0": datetime.now(UTC)})
    with sessions.begin() as s:
        state = s.scalars(select(OAuthState).where(OAuthState.consumed_at.is_(None))).one()
        state.code_verifier = stray.seal("verifier", connect.verifier_context(state.state))
    report = reseal_all(sessions, both)
    assert report.unreadable == 1
    assert (report.left_on_old_keys, report.left_by_column) == (1, {"authorization verifiers": 1})
    assert report.webhook_secrets_resealed == 2 and report.integrations_resealed == 1
    assert report.removable_key_ids == ["k1"]
