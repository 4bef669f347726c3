"""Invoice mapping against the real QBO captures in tests/fixtures/quickbooks/."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.quickbooks.mapping import (
    InvoiceRefs,
    MappingError,
    dumps_qbo,
    has_changes,
    invoice_status,
    invoice_to_qbo,
    invoice_update,
    qbo_invoice_to_values,
)
from connectors.quickbooks.settings import QuickBooksSettings, parse_settings
from sierra_core.db.models import Invoice, InvoiceLineItem
from tests import fixtures

FIXTURES = fixtures.QUICKBOOKS
D = Decimal


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    return data


def batch_entity(name: str, side: str, entity: str) -> dict[str, Any]:
    body = load(name)[side]["body"]
    key = "BatchItemRequest" if side == "request" else "BatchItemResponse"
    item: dict[str, Any] = body[key][0][entity]
    return item


def assert_shape(ours: Any, theirs: Any, path: str = "") -> None:
    """Our body is a structural subset of QBO's: same keys, same JSON types, equal values."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), path
        for key, value in ours.items():
            assert key in theirs, f"{path}.{key} not in the fixture"
            assert_shape(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_shape(a, b, f"{path}[{i}]")
    elif isinstance(ours, bool):
        assert ours is theirs, path
    elif isinstance(ours, Decimal):
        assert isinstance(theirs, int | Decimal) and not isinstance(theirs, bool), path
        assert ours == theirs, path
    elif isinstance(ours, str):
        assert isinstance(theirs, str), path
        # the capture sent dates as "2025-05-27T00:00:00"; QBO keeps the date part
        assert ours == (theirs[:10] if path.endswith("Date") else theirs), path
    else:
        raise AssertionError(f"{path}: unexpected {type(ours).__name__} {ours!r}")


def all_numbers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in all_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in all_numbers(v)]
    return [value] if isinstance(value, int | float | Decimal) and not isinstance(value, bool) else []


def line(n: int, desc: str, qty: str, price: str, amount: str, code: str | None, taxable: bool = True):
    return InvoiceLineItem(
        line_number=n,
        description=desc,
        quantity=D(qty),
        unit_price=D(price),
        amount=D(amount),
        item_code=code,
        taxable=taxable,
    )


def capture_invoice(memo: str = "Description test") -> Invoice:
    """The app rows equivalent to invoice_create.json: two taxable item lines and a 10.00 discount."""
    return Invoice(
        invoice_number="TEST-INV-V-1100",
        issue_date=date(2025, 5, 27),
        due_date=date(2025, 5, 28),
        status="sent",
        currency="USD",
        subtotal=D("110.00"),
        tax_rate=D("0.0800"),
        tax_amount=D("9.60"),
        total=D("119.60"),
        balance=D("119.60"),
        memo=memo,
        lines=[
            line(1, "Description 1", "5.0000", "10.0000", "50.00", "COOKIES"),
            line(2, "Description 2", "1.0000", "70.0000", "70.00", "CONCRETE"),
            line(3, "Discount", "1", "-10", "-10.00", None, taxable=False),
        ],
    )


CAPTURE_SETTINGS = parse_settings(
    {
        "items": {
            "COOKIES": {"value": "23", "name": "Chocolate Chip Cookies"},
            "CONCRETE": {"value": "3", "name": "Concrete"},
        },
        "tax": {"sales_tax_code": {"value": "2", "name": "California"}},
    }
)
CAPTURE_REFS = InvoiceRefs(customer_id="59", customer_name="Accenture")
# What the capture sent that the app has no column for (or keeps elsewhere).
NOT_MAPPED = {"BillAddr", "ShipAddr", "ExchangeRate", "ShipDate", "PrivateNote"}


def seed_like_invoice(**kw: Any) -> Invoice:
    fields: dict[str, Any] = {
        "invoice_number": "1234",
        "issue_date": date(2026, 10, 1),
        "due_date": date(2026, 10, 31),
        "status": "sent",
        "terms": "Net 30",
        "subtotal": D("850.00"),
        "tax_rate": D("0.0875"),
        "tax_amount": D("0.00"),
        "total": D("850.00"),
        "balance": D("850.00"),
        "lines": [line(1, "Framing labor", "10", "85", "850.00", "FRAMING-LABOR", taxable=False)],
    }
    fields.update(kw)
    return Invoice(**fields)


# ---------------------------------------------------------------- push


def test_create_body_matches_the_real_capture():
    ours = invoice_to_qbo(capture_invoice(), CAPTURE_REFS, CAPTURE_SETTINGS)
    theirs = batch_entity("invoice_create.json", "request", "Invoice")
    assert_shape(ours, theirs, "Invoice")
    assert set(theirs) - set(ours) == NOT_MAPPED
    assert ours["CustomerRef"] == {"value": "59", "name": "Accenture"}
    assert ours["TxnDate"] == "2025-05-27" and ours["DueDate"] == "2025-05-28"
    assert ours["Line"][2] == {
        "DetailType": "DiscountLineDetail",
        "Amount": D("10.00"),
        "DiscountLineDetail": {"PercentBased": False},
    }


def test_money_is_decimal_and_serialises_with_two_decimals():
    body = invoice_to_qbo(capture_invoice(), CAPTURE_REFS, CAPTURE_SETTINGS)
    assert all(isinstance(n, Decimal) for n in all_numbers(body))
    text = dumps_qbo(body)
    assert '"Amount":50.00' in text and '"Amount":70.00' in text and '"Amount":10.00' in text
    assert '"Qty":5,' in text and '"UnitPrice":10}' in text
    assert json.loads(text, parse_float=Decimal)["Line"][0]["Amount"] == D("50.00")


def test_app_tax_amount_is_sent_as_total_tax_when_no_tax_code_is_mapped():
    settings = CAPTURE_SETTINGS.model_copy(update={"tax": QuickBooksSettings().tax})
    body = invoice_to_qbo(capture_invoice(), CAPTURE_REFS, settings)
    assert body["TxnTaxDetail"] == {"TotalTax": D("9.60")}
    assert "9.60" in dumps_qbo(body["TxnTaxDetail"])


def test_seed_like_invoice_with_terms_and_non_taxable_line():
    settings = parse_settings({"items": {"FRAMING-LABOR": {"value": "1", "name": "Services"}}})
    body = invoice_to_qbo(seed_like_invoice(), InvoiceRefs("7"), settings)
    assert body["SalesTermRef"] == {"value": "3", "name": "Net 30"}
    assert body["CustomerRef"] == {"value": "7"}
    detail = body["Line"][0]["SalesItemLineDetail"]
    assert detail == {
        "ItemRef": {"value": "1", "name": "Services"},
        "TaxCodeRef": {"value": "NON"},
        "Qty": D(10),
        "UnitPrice": D(85),
    }
    assert "CustomerMemo" not in body


def test_unmapped_item_message_is_exact():
    with pytest.raises(MappingError) as err:
        invoice_to_qbo(seed_like_invoice(), InvoiceRefs("7"), QuickBooksSettings())
    assert str(err.value) == (
        "QuickBooks sync failed: Invoice #1234 uses item 'Framing labor' (item code FRAMING-LABOR), which "
        "is not mapped to a QuickBooks item. Map item code FRAMING-LABOR in the integration settings."
    )
    assert err.value.code == "unmapped_item" and not err.value.retryable


@pytest.mark.parametrize(
    ("items", "default_item", "expected"),
    [
        ({"FRAMING-LABOR": {"value": "11"}}, None, "11"),  # by item code
        ({"Framing labor": {"value": "12"}}, None, "12"),  # by description, as the error names it
        ({}, {"value": "1", "name": "Services"}, "1"),  # the default item
        ({"FRAMING-LABOR": {"value": "11"}}, {"value": "1"}, "11"),  # a mapping beats the default
    ],
)
def test_item_resolution(items, default_item, expected):
    settings = parse_settings({"items": items, "default_item": default_item})
    body = invoice_to_qbo(seed_like_invoice(), InvoiceRefs("7"), settings)
    assert body["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == expected


def test_unmapped_item_names_the_line_with_accents_and_apostrophes():
    inv = seed_like_invoice(
        invoice_number="INV-0042",
        lines=[
            line(1, "Framing labor", "10", "85", "850.00", "FRAMING-LABOR"),
            line(2, "Peña's café tile, supplied & set", "1", "0", "0.00", "TILE-X"),
        ],
    )
    settings = parse_settings({"items": {"FRAMING-LABOR": {"value": "1"}}})
    with pytest.raises(
        MappingError,
        match=r"Invoice #INV-0042 uses item 'Peña's café tile, supplied & set' \(item code TILE-X\), which",
    ):
        invoice_to_qbo(inv, InvoiceRefs("7"), settings)


def test_unmapped_item_without_a_code_says_so():
    inv = seed_like_invoice(lines=[line(1, "Framing labor", "10", "85", "850.00", None)])
    with pytest.raises(MappingError) as err:
        invoice_to_qbo(inv, InvoiceRefs("7"), QuickBooksSettings())
    assert str(err.value) == (
        "QuickBooks sync failed: Invoice #1234 uses item 'Framing labor' (no item code), which is not "
        "mapped to a QuickBooks item. Give the line an item code, or map its description 'Framing labor' "
        "in the integration settings."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lines": []}, "Invoice #1234 has no lines; QuickBooks needs at least one. Add a line in the app."),
        (
            {"subtotal": D("900.00"), "total": D("900.00")},
            "Invoice #1234: its lines add up to 850.00 but its subtotal is 900.00. "
            "Correct the invoice in the app.",
        ),
        (
            {
                "lines": [line(1, "Framing labor", "10", "85", "851.00", "FRAMING-LABOR")],
                "subtotal": D("851.00"),
            },
            "Invoice #1234, line 'Framing labor': amount 851.00 is not quantity 10 x unit price 85, which "
            "QuickBooks rejects. Correct the line in the app.",
        ),
        ({"memo": "x" * 1001}, "Invoice #1234 has a memo longer than QuickBooks allows (1000 characters)."),
    ],
)
def test_invalid_invoices_give_one_actionable_line(change, message):
    settings = parse_settings({"default_item": {"value": "1"}})
    with pytest.raises(MappingError) as err:
        invoice_to_qbo(seed_like_invoice(**change), InvoiceRefs("7"), settings)
    assert message in str(err.value)
    assert str(err.value).startswith("QuickBooks sync failed: ") and "\n" not in str(err.value)


def test_no_customer_reference_is_never_replaced_by_a_fallback():
    with pytest.raises(MappingError, match=r"has no QuickBooks customer yet\. Push its customer first\."):
        invoice_to_qbo(seed_like_invoice(), InvoiceRefs(""), parse_settings({"default_item": {"value": "1"}}))


def test_fractional_quantities_and_prices():
    inv = seed_like_invoice(
        lines=[line(1, "Drywall", "412.5000", "2.3750", "979.69", "DRYWALL", taxable=False)],
        subtotal=D("979.69"),
    )
    body = invoice_to_qbo(inv, InvoiceRefs("7"), parse_settings({"default_item": {"value": "1"}}))
    detail = body["Line"][0]["SalesItemLineDetail"]
    assert (detail["Qty"], detail["UnitPrice"], body["Line"][0]["Amount"]) == (
        D("412.5"),
        D("2.375"),
        D("979.69"),
    )
    assert '"Qty":412.5,"UnitPrice":2.375' in dumps_qbo(detail)


# ---------------------------------------------------------------- sparse update


def test_sparse_update_without_current_has_the_captured_update_shape():
    inv = capture_invoice("Description test UPDATED")  # what the captured update changed
    ours = invoice_update(inv, CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="660", sync_token="0")
    theirs = batch_entity("invoice_sparse_update.json", "request", "Invoice")
    assert (ours["Id"], ours["SyncToken"], ours["sparse"]) == ("660", "0", True)
    assert_shape(ours, theirs, "Invoice")
    assert "CurrencyRef" not in ours


def test_sparse_update_sends_only_what_changed_and_keeps_lines():
    current = batch_entity("invoice_create.json", "response", "Invoice")
    unchanged = invoice_update(
        capture_invoice(), CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="660", sync_token="0", current=current
    )
    assert unchanged == {"Id": "660", "SyncToken": "0", "sparse": True} and not has_changes(unchanged)

    memo = invoice_update(
        capture_invoice("Description test UPDATED"),
        CAPTURE_REFS,
        CAPTURE_SETTINGS,
        qbo_id="660",
        sync_token="0",
        current=current,
    )
    assert memo == {
        "Id": "660",
        "SyncToken": "0",
        "sparse": True,
        "CustomerMemo": {"value": "Description test UPDATED"},
    }

    inv = capture_invoice()
    inv.lines[0].quantity, inv.lines[0].amount = D(6), D("60.00")
    inv.subtotal, inv.total = D("120.00"), D("129.60")
    lines = invoice_update(inv, CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="660", sync_token="0", current=current)
    assert set(lines) == {"Id", "SyncToken", "sparse", "Line"}  # resending Line replaces all lines
    assert len(lines["Line"]) == 3


def test_sparse_update_needs_id_and_sync_token():
    with pytest.raises(ValueError, match="SyncToken"):
        invoice_update(capture_invoice(), CAPTURE_REFS, CAPTURE_SETTINGS, qbo_id="660", sync_token="")


# ---------------------------------------------------------------- pull


def test_pull_the_created_invoice_to_the_cent():
    values = qbo_invoice_to_values(
        batch_entity("invoice_create.json", "response", "Invoice"), CAPTURE_SETTINGS
    )
    lines = values.pop("lines")
    assert values == {
        "invoice_number": "TEST-INV-V-1100",
        "issue_date": date(2025, 5, 27),
        "due_date": date(2025, 5, 28),
        "terms": None,
        "memo": "Description test",
        "currency": "USD",
        "subtotal": D("110.00"),
        "tax_amount": D("9.60"),
        "total": D("119.60"),
        "balance": D("119.60"),
        "status": "sent",
        "tax_rate": D("0.08"),
    }
    assert [
        (li["description"], li["quantity"], li["unit_price"], li["amount"], li["item_code"], li["taxable"])
        for li in lines
    ] == [
        ("Description 1", D(5), D(10), D("50.00"), "COOKIES", True),
        ("Description 2", D(1), D(70), D("70.00"), "CONCRETE", True),
        ("Discount", D(1), D("-10.00"), D("-10.00"), None, False),
    ]
    assert [li["line_number"] for li in lines] == [1, 2, 3]
    money = [values[k] for k in ("subtotal", "tax_amount", "total", "balance")] + [
        li["amount"] for li in lines
    ]
    assert all(type(m) is Decimal and m.as_tuple().exponent == -2 for m in money)
    assert sum(li["amount"] for li in lines) == values["subtotal"]
    assert values["subtotal"] + values["tax_amount"] == values["total"]


def test_pull_then_push_gives_back_the_same_body():
    pulled = qbo_invoice_to_values(
        batch_entity("invoice_create.json", "response", "Invoice"), CAPTURE_SETTINGS
    )
    lines = [InvoiceLineItem(**li) for li in pulled.pop("lines")]
    rebuilt = Invoice(**pulled, lines=lines)
    assert invoice_to_qbo(rebuilt, CAPTURE_REFS, CAPTURE_SETTINGS) == invoice_to_qbo(
        capture_invoice(), CAPTURE_REFS, CAPTURE_SETTINGS
    )


@pytest.mark.parametrize(
    ("fixture", "path", "expected"),
    [
        (
            "invoice_read_doc_sample.json",
            ("response", "body", "Invoice"),
            {
                "invoice_number": "1037",
                "total": D("362.07"),
                "tax_amount": D("26.82"),
                "subtotal": D("335.25"),
                "balance": D("362.07"),
                "status": "sent",
                "terms": "Net 30",
                "tax_rate": D("0.08"),
                "memo": "Thank you for your business and have a great day!",
            },
        ),
        (
            "invoice_create_doc_sample.json",
            ("response", "body", "Invoice"),
            {
                "invoice_number": "1069",
                "total": D("100.00"),
                "tax_amount": D("0.00"),
                "subtotal": D("100.00"),
                "balance": D("100.00"),
                "status": "sent",
                "memo": None,
                "due_date": date(2015, 8, 23),
            },
        ),
        (
            "invoice_void_doc_sample.json",
            ("response", "body", "Invoice"),
            {"invoice_number": "1036", "status": "void", "balance": D("0.00"), "voided_at": None},
        ),
    ],
)
def test_pull_doc_samples(fixture, path, expected):
    obj: Any = load(fixture)
    for key in path:
        obj = obj[key]
    values = qbo_invoice_to_values(obj)
    assert {k: values[k] for k in expected} == expected
    if expected["status"] == "void":
        assert not {"total", "subtotal", "lines"} & set(values)  # QBO zeroed them; the app keeps its amounts


def test_pull_doc_sample_lines_without_mapping():
    values = qbo_invoice_to_values(load("invoice_read_doc_sample.json")["response"]["body"]["Invoice"])
    assert [(li["description"], li["amount"], li["item_code"]) for li in values["lines"]] == [
        ("Rock Fountain", D("275.00"), None),
        ("Fountain Pump", D("12.75"), None),
        ("Concrete for fountain installation", D("47.50"), None),
    ]
    assert values["lines"][2]["unit_price"] == D("9.5") and values["lines"][2]["quantity"] == D(5)
    # no Description on the line: the item's name stands in (the app's description is required)
    sample = load("invoice_create_doc_sample.json")["response"]["body"]["Invoice"]
    assert qbo_invoice_to_values(sample)["lines"][0]["description"] == "Services"


def test_pull_keeps_the_app_item_code_when_several_codes_share_a_qbo_item():
    settings = parse_settings({"items": {"FRAMING-LABOR": {"value": "1"}, "DEMO": {"value": "1"}}})
    current = seed_like_invoice(lines=[line(1, "Demolition", "10", "85", "850.00", "DEMO", taxable=False)])
    qbo = invoice_to_qbo(current, InvoiceRefs("7"), settings)
    qbo.update(Id="900", SyncToken="0", TotalAmt=D("850.00"), Balance=D("850.00"))
    assert qbo_invoice_to_values(qbo, settings)["lines"][0]["item_code"] is None  # ambiguous alone
    assert qbo_invoice_to_values(qbo, settings, current=current)["lines"][0]["item_code"] == "DEMO"


def test_a_partial_query_object_is_refused():
    partial = load("batch_query_invoice_by_docnumber.json")["response"]["body"]["BatchItemResponse"][0]
    with pytest.raises(ValueError, match="partial"):
        qbo_invoice_to_values(partial["QueryResponse"]["Invoice"][0])


@pytest.mark.parametrize(
    ("total", "balance", "voided", "current", "status"),
    [
        ("119.60", "119.60", False, None, "sent"),
        ("119.60", "119.60", False, "draft", "draft"),
        ("119.60", "19.60", False, "sent", "partially_paid"),
        ("119.60", "0", False, "partially_paid", "paid"),
        ("0", "0", True, "sent", "void"),
        ("0", "0", False, None, "paid"),
    ],
)
def test_invoice_status(total, balance, voided, current, status):
    assert invoice_status(D(total), D(balance), voided=voided, current=current) == status


def test_payments_entered_in_quickbooks_show_as_partial_payment():
    inv = batch_entity("invoice_create.json", "response", "Invoice")
    inv = {**inv, "Balance": D("116.60")}  # after payment_create.json applied 3.00
    values = qbo_invoice_to_values(inv, CAPTURE_SETTINGS, current=capture_invoice())
    assert (values["status"], values["balance"]) == ("partially_paid", D("116.60"))
