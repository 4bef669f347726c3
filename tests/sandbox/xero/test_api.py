"""The Accounting API's rules over HTTP: a summarized batch is all or nothing, the Idempotency-Key replays,
the tenant header is required, invoices' status rules, deleting a payment, and the day limit's 429."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.xero.conftest import API, Xero, start


def _bill(**changes: Any) -> dict[str, Any]:
    return {
        "Type": "ACCPAY",
        "Contact": {"Name": "Southern Timber"},
        "Status": "AUTHORISED",
        "LineItems": [{"Description": "Studs", "Quantity": 10, "UnitAmount": 11.5, "AccountCode": "310"}],
        **changes,
    }


def test_a_summarized_batch_refuses_everything_and_a_key_replays(xero: Xero) -> None:
    with xero.api(xero.connect()) as api:
        bad = api.post("/Invoices", json={"Invoices": [_bill(), _bill(Type="ACCXXX")]})
        assert bad.status_code == 400 and bad.json()["Type"] == "ValidationException"
        [element] = bad.json()["Elements"]
        assert element["ValidationErrors"][0]["Message"].startswith("Type must be ACCREC")
        assert api.get("/Invoices").json()["Invoices"] == []  # the good one was not kept either
        keyed = {"Idempotency-Key": "bill-1"}
        first = api.put("/Invoices", json={"Invoices": [_bill()]}, headers=keyed).json()["Invoices"][0]
        again = api.put("/Invoices", json={"Invoices": [_bill()]}, headers=keyed).json()["Invoices"][0]
        assert first["InvoiceID"] == again["InvoiceID"] and len(api.get("/Invoices").json()["Invoices"]) == 1
        assert first["Total"] == 132.25 and first["InvoiceNumber"] == ""
        other = api.put("/Invoices", json={"Invoices": [_bill(Reference="x")]}, headers=keyed)
        assert other.status_code == 400


def test_status_rules_and_deleting_a_payment(xero: Xero) -> None:
    with xero.api(xero.connect()) as api:
        bill = api.put("/Invoices", json=_bill()).json()["Invoices"][0]
        back = api.post(
            f"/Invoices/{bill['InvoiceID']}", json={"Status": "DRAFT"}, params={"summarizeErrors": "false"}
        )
        assert back.json()["Invoices"][0]["StatusAttributeString"] == "ERROR"
        payment = {"Invoice": {"InvoiceID": bill["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 32.25}
        paid = api.put("/Payments", json=payment).json()["Payments"][0]
        assert paid["PaymentType"] == "ACCPAYPAYMENT"
        voiding = api.post(f"/Invoices/{bill['InvoiceID']}", json={"Status": "VOIDED"})
        assert voiding.status_code == 400 and "payment" in voiding.text
        deleted = api.post(f"/Payments/{paid['PaymentID']}", json={"Status": "DELETED"}).json()["Payments"][0]
        assert deleted["Status"] == "DELETED"
        after = api.get(f"/Invoices/{bill['InvoiceID']}").json()["Invoices"][0]
        assert (after["AmountPaid"], after["AmountDue"], after["Status"]) == (0.0, 132.25, "AUTHORISED")
        assert api.post(f"/Invoices/{bill['InvoiceID']}", json={"Status": "VOIDED"}).status_code == 200
        to_sales = {"Invoice": {"InvoiceID": bill["InvoiceID"]}, "Account": {"Code": "200"}, "Amount": 1}
        refused = api.put("/Payments", json=to_sales, params={"summarizeErrors": "false"}).json()["Payments"][
            0
        ]
        messages = [e["Message"] for e in refused["ValidationErrors"]]
        assert "Account type is invalid for making a payment to/from" in messages


def test_the_tenant_header_is_required(xero: Xero) -> None:
    tokens = xero.connect()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    missing = httpx.get(f"{xero.url}{API}/Contacts", headers=bearer, timeout=10)
    assert missing.status_code == 403 and missing.json()["Detail"] == "AuthorizationUnsuccessful"
    other = xero.connect()["tenantId"]
    foreign = httpx.get(f"{xero.url}{API}/Contacts", headers=bearer | {"xero-tenant-id": other}, timeout=10)
    assert foreign.status_code == 403


def test_the_day_limit_answers_429_until_midnight() -> None:
    server, xero = start(day_limit=2)
    try:
        with xero.api(xero.connect()) as api:
            assert api.get("/Accounts").headers["X-DayLimit-Remaining"] == "1"
            assert api.get("/Accounts").headers["X-DayLimit-Remaining"] == "0"
            spent = api.get("/Accounts")
            assert spent.status_code == 429 and spent.headers["X-Rate-Limit-Problem"] == "day"
            assert 0 < int(spent.headers["Retry-After"]) <= 86_400
    finally:
        server.stop()


def test_the_minute_limit_answers_429_that_the_connector_reads_as_minute(xero: Xero) -> None:
    tokens = xero.connect()
    xero.sandbox.kit.limiter.per_scope[tokens["tenantId"]] = xero.sandbox.kit.limiter.default.updated(
        {"requests_per_minute": 2}
    )
    with xero.api(tokens) as api:
        assert api.get("/Items").headers["X-MinLimit-Remaining"] == "1"
        assert api.get("/Items").headers["X-MinLimit-Remaining"] == "0"
        throttled = api.get("/Items")
    assert throttled.status_code == 429
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute" and throttled.headers["Retry-After"] == "60"
