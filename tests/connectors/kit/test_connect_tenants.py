"""The post-connect call that lists several tenants (Xero's connections): one is taken at once, several wait
for a person's choice with the tokens kept; and the chained limiter (a tenant's budget, then the app's)."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.kit import connect, oauth
from connectors.kit.connection import load_stored_connection
from connectors.kit.provider import PostConnect
from connectors.kit.ratelimit import ChainedLimiter, Limits, RealmLimiter
from connectors.kit.tokens import ReauthorizationRequiredError
from sierra_core.db.models import EntityLink, Integration
from tests import factories
from tests.connectors.kit import providers as p
from tests.connectors.quickbooks.oauth_helpers import keyring

ORGS = [
    {"id": "c1", "tenantId": "org-1", "tenantName": "Builders NZ", "tenantType": "ORGANISATION"},
    {"id": "c2", "tenantId": "org-2", "tenantName": "Builders AU", "tenantType": "ORGANISATION"},
]


def _provider(choose: str):
    step = PostConnect(url=f"{p.BASE}/connections", tenant_path="*.tenantId", name_path="*.tenantName")
    return p.oauth_provider(post_connect=step.model_copy(update={"choose": choose}))


def _server(orgs: list[dict[str, str]]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "a1", "refresh_token": "r1", "expires_in": 1800})
        assert request.headers["authorization"] == "Bearer a1"
        return httpx.Response(200, json=orgs)

    return httpx.MockTransport(answer)


def _connect(sessions, provider, orgs, company_id=None):
    ring = keyring()
    app = oauth.App(provider, "production", "client-1", "secret-1", "https://sync.example.com/cb")
    if company_id is None:
        with sessions.begin() as s:
            company_id = factories.company(s).id
    auth = connect.begin(sessions, ring, app, company_id)
    state = parse_qs(urlsplit(auth.url).query)["state"][0]
    with httpx.Client(transport=_server(orgs)) as http:
        integration_id = connect.complete(sessions, ring, app, http, state=state, code="code-1")
    return company_id, integration_id


def _row(sessions, integration_id) -> Integration:
    with sessions() as s:
        row: Integration | None = s.get(Integration, integration_id)
        assert row is not None
        s.expunge(row)
        return row


@pytest.mark.parametrize(("orgs", "choose"), [(ORGS[:1], "person"), (ORGS, "first")])
def test_one_tenant_or_choose_first_connects_at_once(sessions, orgs, choose):
    _, integration_id = _connect(sessions, _provider(choose), orgs)
    row = _row(sessions, integration_id)
    assert (row.external_company_id, row.connection_status) == ("org-1", "connected")
    assert row.settings == {"external_company_name": "Builders NZ"}


def test_several_tenants_wait_for_a_persons_choice_then_connect(sessions):
    provider = _provider("person")
    company_id, integration_id = _connect(sessions, provider, ORGS)
    row = _row(sessions, integration_id)
    assert row.external_company_id is None and row.connection_status == "connecting"
    assert row.access_token and row.refresh_token  # the code is spent: the tokens are kept
    assert row.settings[connect.TENANT_CHOICES] == [
        {"id": "org-1", "name": "Builders NZ"},
        {"id": "org-2", "name": "Builders AU"},
    ]
    with sessions() as s, pytest.raises(ReauthorizationRequiredError, match=r"Builders AU \(org-2\)"):
        load_stored_connection(s, company_id, provider)
    with pytest.raises(connect.ConnectError, match=r"not an organisation .* Builders NZ \(org-1\)"):
        connect.choose_tenant(sessions, provider, company_id, "org-9")
    chosen = connect.choose_tenant(sessions, provider, company_id, "org-2")
    assert chosen == connect.Tenant("org-2", "Builders AU")
    with sessions() as s:
        stored = load_stored_connection(s, company_id, provider)
    assert stored.external_company_id == "org-2"
    assert stored.settings == {"external_company_name": "Builders AU"}


def test_consenting_again_keeps_the_linked_tenant_and_never_mixes_books(sessions):
    provider = _provider("person")
    company_id, integration_id = _connect(sessions, provider, ORGS)
    connect.choose_tenant(sessions, provider, company_id, "org-2")
    _connect(sessions, provider, ORGS, company_id)  # the same two organisations: org-2 stays
    assert _row(sessions, integration_id).external_company_id == "org-2"
    with sessions.begin() as s:
        s.add(
            EntityLink(
                company_id=company_id,
                integration_id=integration_id,
                entity_type="invoice",
                app_id=factories.company(s).id,
                external_id="inv-1",
            )
        )
    with pytest.raises(connect.ConnectError, match="mix two sets of books"):
        _connect(sessions, provider, ORGS[:1], company_id)  # only org-1 now, but org-2 has synced records


def test_no_tenant_in_the_answer_is_one_clear_error(sessions):
    with pytest.raises(connect.ConnectError, match="reached no account"):
        _connect(sessions, _provider("person"), [])


def test_a_chained_limiter_holds_a_slot_of_each_and_pauses_only_the_tenant():
    tenant = RealmLimiter("org-1", Limits(requests_per_minute=0, concurrent=1, batch_per_minute=0))
    now, naps = [0.0], []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    app = RealmLimiter("app", Limits(2, 0, 0), clock=lambda: now[0], sleep=nap)
    chain = ChainedLimiter(tenant, app)
    inside = threading.Event()
    with chain.acquire():

        def wait_for_a_slot() -> None:
            chain.acquire().__enter__()
            inside.set()

        waiter = threading.Thread(target=wait_for_a_slot, daemon=True)
        waiter.start()
        assert not inside.wait(0.2)  # the tenant's single slot is held
    assert inside.wait(5) and naps == []
    other = ChainedLimiter(RealmLimiter("org-2", Limits(0, 0, 0)), app)
    with other.acquire():  # the app's third request in the minute waits for the window
        pass
    assert len(naps) == 1 and naps[0] > 60
    chain.pause(30)
    assert tenant._paused_until > 0 and app._paused_until == 0
    assert Limits.app_from_rate(p.ROTATING.rate) is None
    xero_like = p.ROTATING.rate.model_copy(update={"app_requests_per_minute": 10_000})
    assert Limits.app_from_rate(xero_like) == Limits(10_000, 0, 0)
