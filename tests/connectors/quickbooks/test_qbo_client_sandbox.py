"""The QBO client over real HTTP against the local QBO sandbox: faults, retries, idempotency, paging, CDC."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.kit.ratelimit import Limits, RealmLimiter
from connectors.quickbooks import errors
from connectors.quickbooks.batch import BatchItem
from connectors.quickbooks.client import QuickBooksClient, RetryPolicy, make_request_id
from connectors.quickbooks.query import select
from sandbox.common.server import LocalServer
from sandbox.quickbooks import Clock, QboSandbox, SandboxOptions, create_app

START = datetime(2025, 6, 10, 13, 19, 36, tzinfo=UTC)
BASIC = ("local-client", "local-secret")


@dataclass
class Sandbox:
    url: str
    app: QboSandbox
    clock: Clock

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def faults(self, realm_id: str, **changes: Any) -> None:
        self.admin("POST", "faults", {"realm": realm_id, **changes})

    def seed(self, realm_id: str, entity: str, bodies: list[dict[str, Any]]) -> None:
        self.admin("POST", f"realms/{realm_id}/entities/{entity}", bodies)

    def stats(self, realm_id: str) -> dict[str, Any]:
        return self.admin("GET", f"stats?realm={realm_id}")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def qbo() -> Iterator[Sandbox]:
    clock = Clock(start=START, frozen=True)
    app = create_app(SandboxOptions(clock=clock, seed=11, new_company="lists"))  # no sample transactions
    server = LocalServer(app).start()
    try:
        yield Sandbox(server.url, app, clock)
    finally:
        server.stop()


class SandboxTokens:
    """A TokenSource over the sandbox's OAuth endpoint (the lead's DB-backed one does the same, durably)."""

    def __init__(self, url: str, tokens: dict[str, Any]) -> None:
        self.url = url
        self.access = str(tokens["access_token"])
        self.refresh = str(tokens["refresh_token"])
        self.refreshes = 0
        self.lock = threading.Lock()

    def access_token(self) -> str:
        return self.access

    def refresh_after_401(self, rejected_token: str) -> str:
        with self.lock:
            if rejected_token != self.access:
                return self.access
            response = httpx.post(
                f"{self.url}/oauth2/v1/tokens/bearer",
                data={"grant_type": "refresh_token", "refresh_token": self.refresh},
                auth=BASIC,
                timeout=10,
            )
            response.raise_for_status()
            body = response.json()
            self.access, self.refresh = body["access_token"], body["refresh_token"]
            self.refreshes += 1
            return self.access


@dataclass
class Company:
    realm_id: str
    tokens: SandboxTokens
    sleeps: list[float]


@pytest.fixture
def company(qbo: Sandbox) -> Company:
    out = qbo.admin("POST", "realms", {"tokens": True})
    return Company(str(out["realm_id"]), SandboxTokens(qbo.url, out["tokens"]), [])


def client_for(
    qbo: Sandbox,
    company: Company,
    *,
    on_sleep: Callable[[], None] | None = None,
    realm_id: str | None = None,
    **kwargs: Any,
) -> QuickBooksClient:
    """A client whose retry sleeps are recorded (not waited); `on_sleep` heals the injected fault."""

    def sleep(seconds: float) -> None:
        company.sleeps.append(seconds)
        if on_sleep is not None:
            on_sleep()

    return QuickBooksClient(
        qbo.url,
        realm_id or company.realm_id,
        company.tokens,
        retry=RetryPolicy(max_attempts=4, jitter=0.0, sleep=sleep),
        **kwargs,
    )


def count_named(client: QuickBooksClient, name: str) -> int:
    return client.count(select("Customer").where("DisplayName", "=", name))


# ---------------------------------------------------------------- basics over HTTP


def test_crud_and_a_customer_called_obrien(qbo, company):
    with client_for(qbo, company) as client:
        created = client.create(
            "Customer", {"DisplayName": "Seán O'Brien"}, make_request_id(1, "contact", 1, 1, "create")
        )
        assert created["SyncToken"] == "0"
        found = list(client.query_all(select("Customer").where("DisplayName", "=", "Seán O'Brien")))
        assert [c["Id"] for c in found] == [created["Id"]]
        # An injection attempt is one literal: it matches nothing and does not fault.
        assert list(client.query_all(select("Customer").where("DisplayName", "=", "x' OR '1'='1"))) == []
        assert client.query(str(select("Customer").where("DisplayName", "=", "a\\' OR Id > '0"))) == {}
        updated = client.update(
            "Customer",
            {"Id": created["Id"], "SyncToken": "0", "CompanyName": "O'Brien & Sons"},
            make_request_id(1, "contact", 1, 2, "update"),
        )
        assert updated["SyncToken"] == "1"
        assert client.read("Customer", created["Id"])["CompanyName"] == "O'Brien & Sons"
        with pytest.raises(errors.StaleObjectError):
            client.update("Customer", {"Id": created["Id"], "SyncToken": "0", "Notes": "x"}, "stale-1")
        with pytest.raises(errors.ObjectNotFoundError):
            client.read("Customer", "987654")
        with pytest.raises(errors.DuplicateNameError):
            client.create("Customer", {"DisplayName": "Seán O'Brien"}, "dup-1")
    assert company.sleeps == []


def test_void_payment_and_sales_receipt_over_http(qbo, company):
    # Voided the documented way (include=void): amounts zeroed, "Voided" noted, the invoice owed again.
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 90,
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
    }
    with client_for(qbo, company) as client:
        inv = client.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [line]}, "void-inv")
        link = [{"TxnId": inv["Id"], "TxnType": "Invoice"}]
        payment = client.create(
            "Payment",
            {"CustomerRef": {"value": "1"}, "TotalAmt": 90, "Line": [{"Amount": 90, "LinkedTxn": link}]},
            "void-pay",
        )
        assert client.read("Invoice", inv["Id"])["Balance"] == 0
        voided = client.void("Payment", payment["Id"], payment["SyncToken"], "void-pay-v")
        assert (voided["TotalAmt"], voided["PrivateNote"], voided["SyncToken"]) == (0, "Voided", "1")
        assert client.read("Invoice", inv["Id"])["Balance"] == 90
        receipt = client.create("SalesReceipt", {"Line": [line]}, "void-sr")
        gone = client.void("SalesReceipt", receipt["Id"], receipt["SyncToken"], "void-sr-v")
        assert (gone["TotalAmt"], gone["PrivateNote"]) == (0, "Voided")
        invoice_void = client.void(
            "Invoice", inv["Id"], client.read("Invoice", inv["Id"])["SyncToken"], "void-inv-v"
        )
        assert invoice_void["TotalAmt"] == 0 and invoice_void["PrivateNote"] == "Voided"


def test_unknown_realm_is_one_clear_error(qbo, company):
    client = client_for(qbo, company, realm_id="4620816365999999999")
    with client, pytest.raises(errors.UnknownRealmError) as info:
        client.read("Customer", "1")
    assert "realm" in str(info.value)
    assert company.tokens.access not in str(info.value)
    assert company.sleeps == []


def test_expired_access_token_is_refreshed_once(qbo, company):
    qbo.admin("POST", "tokens/expire", {"realm_id": company.realm_id, "kind": "access"})
    with client_for(qbo, company) as client:
        assert client.query(str(select("Item").where("Name", "=", "Services")))["Item"][0]["Id"] == "1"
        client.query(str(select("Item")))
    assert company.tokens.refreshes == 1


# ---------------------------------------------------------------- injected faults are retried


def test_injected_5xx_is_retried_then_succeeds(qbo, company):
    qbo.faults(company.realm_id, error_rate=1.0)
    with client_for(qbo, company, on_sleep=lambda: qbo.faults(company.realm_id, error_rate=0.0)) as client:
        item = client.read("Item", "1")
    assert item["Name"] == "Services"
    assert company.sleeps == [1.0]
    assert qbo.stats(company.realm_id)["faults_injected"] == 1


def test_throttle_burst_waits_60s_each_time_then_succeeds(qbo, company):
    qbo.faults(company.realm_id, throttle=2)
    with client_for(qbo, company) as client:
        assert client.read("Item", "1")["Id"] == "1"
    assert company.sleeps == [60.0, 60.0]


def test_timeout_is_retried(qbo, company):
    qbo.faults(company.realm_id, latency_ms=400)
    with client_for(
        qbo, company, timeout=0.15, on_sleep=lambda: qbo.faults(company.realm_id, latency_ms=0)
    ) as client:
        assert client.read("Item", "1")["Id"] == "1"
    assert company.sleeps == [1.0]


@pytest.mark.parametrize("mode", ["reset", "502"])
def test_dropped_create_is_retried_with_the_same_requestid_and_leaves_one_object(qbo, company, mode):
    name = f"Dropped Response {mode}"
    qbo.faults(company.realm_id, drop_rate=1.0, drop_mode=mode)
    with client_for(qbo, company, on_sleep=lambda: qbo.faults(company.realm_id, drop_rate=0.0)) as client:
        created = client.create(
            "Customer", {"DisplayName": name}, make_request_id(9, "contact", 77, 1, "create")
        )
        assert created["DisplayName"] == name
        assert count_named(client, name) == 1
    assert company.sleeps == [1.0]
    stats = qbo.stats(company.realm_id)
    assert stats["idempotent_replays"] == 1
    assert stats["faults_injected"] == 1


def test_without_the_same_requestid_a_dropped_create_would_duplicate(qbo, company):
    """The control: the sandbox really applies dropped writes, so the requestid is what saves us."""
    name = "Control Duplicate"
    qbo.faults(company.realm_id, drop_rate=1.0)
    with client_for(qbo, company, on_sleep=lambda: None) as client:
        client.retry = RetryPolicy(max_attempts=1, sleep=lambda s: None)
        with pytest.raises(errors.NetworkError):
            client.create("Customer", {"DisplayName": name}, "first-id")
        qbo.faults(company.realm_id, drop_rate=0.0)
        with pytest.raises(errors.DuplicateNameError):
            client.create("Customer", {"DisplayName": name}, "second-id")
        assert count_named(client, name) == 1


# ---------------------------------------------------------------- paging, CDC, batch, limits


def test_query_all_pages_past_1000(qbo, company):
    qbo.seed(company.realm_id, "Customer", [{"DisplayName": f"Paged {i:05d}"} for i in range(2345)])
    with client_for(qbo, company) as client:
        total = client.count(select("Customer"))
        rows = list(client.query_all(select("Customer", "Id", "DisplayName")))
    assert total >= 2345
    assert len(rows) == total
    assert len({r["Id"] for r in rows}) == total
    assert sum(1 for r in rows if r["DisplayName"].startswith("Paged ")) == 2345


def test_cdc_with_more_than_1000_changes(qbo, company):
    since = qbo.clock.now()
    for chunk in range(6):  # 1500 customers over 6 seconds, 250 per second
        qbo.clock.advance(1)
        qbo.seed(company.realm_id, "Customer", [{"DisplayName": f"CDC {chunk}-{i}"} for i in range(250)])
    qbo.seed(company.realm_id, "Vendor", [{"DisplayName": f"Vendor {i}"} for i in range(30)])
    with client_for(qbo, company) as client:
        customer = client.query(str(select("Customer").where("DisplayName", "=", "CDC 0-0")))["Customer"][0]
        line = {
            "Amount": 10,
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
        }
        invoice = client.create(
            "Invoice",
            {"CustomerRef": {"value": customer["Id"]}, "Line": [line]},
            "cdc-invoice-1",
        )
        qbo.clock.advance(1)
        client.delete("Invoice", invoice["Id"], invoice["SyncToken"], "cdc-invoice-1-delete")
        changes = client.cdc(["Customer", "Vendor", "Invoice"], since, now=qbo.clock.now())
    names = {c["DisplayName"] for c in changes.changed("Customer")}
    assert sum(1 for n in names if n.startswith("CDC ")) == 1500
    assert sum(1 for v in changes.changed("Vendor") if v["DisplayName"].startswith("Vendor ")) == 30
    assert [d["Id"] for d in changes.deleted("Invoice")] == [invoice["Id"]]
    assert changes.changed("Invoice") == []
    assert changes.requests >= 3


def test_cdc_older_than_30_days_falls_back_to_query(qbo, company):
    with client_for(qbo, company) as client:
        client.create("Customer", {"DisplayName": "Old Gap"}, "old-gap-1")
        changes = client.cdc(["Customer"], qbo.clock.now() - timedelta(days=45), now=qbo.clock.now())
    assert "Old Gap" in {c["DisplayName"] for c in changes.changed("Customer")}
    assert not changes.deletes_complete


def test_batch_over_http_with_per_item_faults(qbo, company):
    items = [
        BatchItem.create(f"c{i}", "Customer", {"DisplayName": f"Batch {i}"}, request_id=f"batch-c{i}")
        for i in range(33)
    ]
    items.append(BatchItem.create("dup", "Customer", {"DisplayName": "Batch 0"}, request_id="batch-dup"))
    items.append(BatchItem.select("q", select("Item").where("Name", "=", "Services")))
    with client_for(qbo, company) as client:
        results = client.batch(items)
    assert len(results) == 35
    assert all(r.ok and r.entity for r in results[:33])
    assert isinstance(results[33].error, errors.DuplicateNameError)
    assert results[34].rows()[0]["Id"] == "1"
    assert qbo.stats(company.realm_id)["batch_requests"] == 2


def test_shared_limiter_keeps_30_threads_within_10_concurrent(qbo, company):
    qbo.faults(company.realm_id, latency_ms=30)
    limiter = RealmLimiter(company.realm_id, Limits(concurrent=10))
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with client_for(qbo, company, limiter=limiter) as client:
                client.read("Item", "1")
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qbo.faults(company.realm_id, latency_ms=0)
    assert failures == []
    assert qbo.stats(company.realm_id)["throttled"] == 0
    assert company.sleeps == []
