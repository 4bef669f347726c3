"""Contact <-> Customer mapping against the real customer capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.mapping import (
    MappingError,
    contact_to_customer,
    customer_to_contact_values,
    dumps_qbo,
    sparse_update,
)
from sierra_core.db.models import Contact
from tests import fixtures

FIXTURES = fixtures.QUICKBOOKS


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    return data


def captured(side: str) -> dict[str, Any]:
    body = load("customer_create.json")[side]["body"]
    item: dict[str, Any] = body["BatchItemRequest" if side == "request" else "BatchItemResponse"][0][
        "Customer"
    ]
    return item


def capture_contact(**kw: Any) -> Contact:
    """The app row equivalent to customer_create.json."""
    fields: dict[str, Any] = {
        "display_name": "Full Name 1100",
        "company_name": "Test Company Name 1100",
        "given_name": "First",
        "family_name": "Last",
        "email": "test@test.com",
        "phone": "+14444660000",
        "bill_line1": "Jackson square NY",
        "bill_line2": "line2",
        "bill_city": "New York",
        "bill_region": "NY",
        "bill_postal_code": "19123",
        "bill_country": "US",
        "currency": "EUR",
        "notes": "notes bla bla",
        "is_active": True,
    }
    fields.update(kw)
    return Contact(**fields)


def test_create_body_is_a_subset_of_the_captured_request():
    ours = contact_to_customer(capture_contact())
    theirs = captured("request")
    for key, value in ours.items():
        if isinstance(value, dict):
            assert value.items() <= theirs[key].items(), key
        else:
            assert value == theirs[key] and type(value) is type(theirs[key]), key
    assert ours["CurrencyRef"] == {"value": "EUR"}
    assert set(theirs) - set(ours) == {
        "WebAddr", "AlternatePhone", "Fax", "Mobile", "ShipAddr", "PaymentMethodRef", "Taxable",
        "CustomerTypeRef", "MiddleName", "Suffix", "Title", "PrintOnCheckName",
    }  # fmt: skip


def test_update_form_has_no_currency():
    body = contact_to_customer(capture_contact(), create=False)
    assert "CurrencyRef" not in body
    assert "CurrencyRef" not in sparse_update(
        contact_to_customer(capture_contact()), qbo_id="136", sync_token="0"
    )


def test_sparse_update_against_the_created_customer():
    current = captured("response")
    same = sparse_update(
        contact_to_customer(capture_contact()), qbo_id="136", sync_token="0", current=current
    )
    assert same == {"Id": "136", "SyncToken": "0", "sparse": True}
    moved = sparse_update(
        contact_to_customer(capture_contact(bill_city="Brooklyn", email="amy@example.com")),
        qbo_id="136",
        sync_token="0",
        current=current,
    )
    assert set(moved) == {"Id", "SyncToken", "sparse", "BillAddr", "PrimaryEmailAddr"}


def test_pull_the_created_customer():
    values = customer_to_contact_values(captured("response"))
    assert values == {
        "display_name": "Full Name 1100",
        "company_name": "Test Company Name 1100",
        "given_name": "First",
        "family_name": "Last",
        "email": "test@test.com",
        "phone": "+14444660000",
        "notes": "notes bla bla",
        "is_active": True,
        "currency": "EUR",
        "bill_line1": "Jackson square NY",
        "bill_line2": "line2, lin3",  # Line3 kept: the app has two street lines
        "bill_city": "New York",
        "bill_region": "NY",
        "bill_postal_code": "19123",
        "bill_country": "US",
        "contact_type": "customer",
    }


def test_a_partial_query_object_gives_only_its_columns():
    item = load("batch_query_customer_by_id.json")["response"]["body"]["BatchItemResponse"][0]
    partial = item["QueryResponse"]["Customer"][0]
    values = customer_to_contact_values(partial)
    assert values == {"display_name": partial["DisplayName"]}


@pytest.mark.parametrize(
    "name",
    [
        "Amy's Bird Sanctuary",
        "O'Malley & Daughters Property Mgmt",
        "Café Olé Coffee House",
        "Ó Súilleabháin, Seán",
    ],
)
def test_apostrophes_and_accents_pass_through_unchanged(name):
    contact = capture_contact(
        display_name=name, company_name=name, family_name="D'Angelo-Núñez", currency=None
    )
    body = contact_to_customer(contact)
    assert body["DisplayName"] == name and body["FamilyName"] == "D'Angelo-Núñez"
    assert "CurrencyRef" not in body
    assert json.loads(dumps_qbo(body))["DisplayName"] == name  # no escaping here: the client escapes queries
    assert customer_to_contact_values({**body, "Id": "1"})["display_name"] == name


def test_inactive_or_deleted_contacts_become_inactive_customers():
    assert contact_to_customer(capture_contact(is_active=False))["Active"] is False
    deleted = capture_contact(deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert contact_to_customer(deleted)["Active"] is False


def test_empty_fields_are_left_out():
    body = contact_to_customer(Contact(display_name="  Joe's Diner ", email=" ", phone=None))
    assert body == {"DisplayName": "Joe's Diner", "Active": True}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"display_name": "   "}, "a customer has no display name. Give it a name in the app."),
        (
            {"company_name": "x" * 101},
            "Customer 'Full Name 1100': its company name is longer than QuickBooks allows (100 characters)",
        ),
        (
            {"email": "a" * 95 + "@x.com"},
            "its email address is longer than QuickBooks allows (100 characters)",
        ),
    ],
)
def test_values_quickbooks_rejects_give_an_actionable_error(change, message):
    with pytest.raises(MappingError) as err:
        contact_to_customer(capture_contact(**change))
    assert message in str(err.value) and str(err.value).startswith("QuickBooks sync failed: ")
