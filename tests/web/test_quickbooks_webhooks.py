"""POST /webhooks/quickbooks: intuit-signature, legacy eventNotifications and CloudEvents, stable ids."""

from __future__ import annotations

import json

import pytest

from tests import factories, fixtures
from tests.web.conftest import intuit_signature

FIXTURE = fixtures.QUICKBOOKS / "webhook_notification.json"


def _legacy_body() -> bytes:
    return json.dumps(json.loads(FIXTURE.read_text())["request"]["body"]).encode()


def _cloudevents_body(*ids: str) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "intuit.dsnrmt",
                "type": "qbo.invoice.updated.v1",
                "datacontenttype": "application/json",
                "time": "2026-03-02T18:00:00.000Z",
                "intuitentityid": "130",
                "intuitaccountid": "9341453000000001",
                "data": {},
            }
            for event_id in ids
        ]
    ).encode()


def test_legacy_notifications_become_one_row_per_entity_with_stable_ids(receiver, sessions):
    with sessions.begin() as s:
        company = factories.company(s)
        link = factories.integration(s, company.id, external_company_id="1185883450")
        company_id, integration_id = company.id, link.id
    body = _legacy_body()
    response = receiver.post_quickbooks(body)
    assert response.status_code == 200 and response.json() == {"received": 2, "duplicates": 0}
    rows = receiver.rows("quickbooks_online")
    assert [(r.event_id, r.event_type) for r in rows] == [
        ("legacy:1185883450:Customer:1:Create:2015-10-05T14:42:19-0700", "qbo.customer.created"),
        ("legacy:1185883450:Vendor:1:Create:2015-10-05T14:42:19-0700", "qbo.vendor.created"),
    ]
    assert all((r.company_id, r.integration_id) == (company_id, integration_id) for r in rows)
    assert rows[0].payload["entity"] == "Customer" and rows[0].payload["operation"] == "created"
    assert rows[0].raw_payload == body.decode()
    # Intuit's retry of the same body: acknowledged, nothing new.
    assert receiver.post_quickbooks(body).json() == {"received": 0, "duplicates": 2}
    assert len(receiver.rows("quickbooks_online")) == 2


def test_cloudevents_use_their_own_ids_and_unknown_realms_stay_unmapped(receiver):
    response = receiver.post_quickbooks(_cloudevents_body("ce-1", "ce-2"))
    assert response.status_code == 200 and response.json()["received"] == 2
    rows = receiver.rows("quickbooks_online")
    assert [r.event_id for r in rows] == ["ce:ce-1", "ce:ce-2"]
    assert rows[0].event_type == "qbo.invoice.updated.v1"
    assert rows[0].payload["entityId"] == "130" and rows[0].payload["realmId"] == "9341453000000001"
    assert all(r.company_id is None for r in rows)
    assert receiver.post_quickbooks(_cloudevents_body("ce-2", "ce-3")).json() == {
        "received": 1,
        "duplicates": 1,
    }


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong token", 401),
        ("no signature", 401),
        ("not base64", 400),
        ("malformed json", 400),
        ("empty notifications", 400),
        ("entity without id", 400),
        ("cloudevent without account", 400),
        ("a number", 400),
    ],
)
def test_bad_intuit_requests_are_refused_and_nothing_is_stored(receiver, case, status):
    body = _legacy_body()
    signature = None
    if case == "wrong token":
        signature = intuit_signature(body, "another-token")
    elif case == "no signature":
        signature = ""
    elif case == "not base64":
        signature = "%%%not-base64%%%"
    elif case == "malformed json":
        body = b'{"eventNotifications": ['
    elif case == "empty notifications":
        body = b'{"eventNotifications": []}'
    elif case == "entity without id":
        body = json.dumps(
            {"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{"name": "Invoice"}]}}]}
        ).encode()
    elif case == "cloudevent without account":
        body = json.dumps([{"specversion": "1.0", "id": "x", "type": "qbo.invoice.updated.v1"}]).encode()
    elif case == "a number":
        body = b"42"
    response = receiver.post_quickbooks(body, signature=signature)
    assert response.status_code == status, response.text
    assert receiver.rows() == []
