"""The transactions of the sample company: a few of each kind, dated in the weeks before the company was
made, with balances that follow from each other (a paid invoice, a part-paid one, open ones, a paid bill, a
deposit of a payment, ...). They are seeded through the normal computation, so totals, tax and balances
are the sandbox's own.

Sales documents are numbered `SAMPLE-1001`...: an app pushing its own invoices numbered from 1001 (as this
project's does) must not meet the sample's numbers (6140). Ids are 140-177, clear of the list ids.
Amy's Bird Sanctuary (customer 1) has a paid invoice only: its balance stays 0.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["attachables", "templates", "transactions"]


def _ref(value: str) -> dict[str, str]:
    return {"value": value}


def _sale(item: str, qty: int | str, price: int | str, tax: str = "NON", desc: str = "") -> dict[str, Any]:
    amount = Decimal(str(qty)) * Decimal(str(price))
    line: dict[str, Any] = {
        "DetailType": "SalesItemLineDetail",
        "Amount": str(amount),
        "SalesItemLineDetail": {
            "ItemRef": _ref(item),
            "Qty": qty,
            "UnitPrice": price,
            "TaxCodeRef": _ref(tax),
        },
    }
    if desc:
        line["Description"] = desc
    return line


def _expense(account: str, amount: str, desc: str = "") -> dict[str, Any]:
    line: dict[str, Any] = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": amount,
        "AccountBasedExpenseLineDetail": {"AccountRef": _ref(account)},
    }
    if desc:
        line["Description"] = desc
    return line


def transactions(today: date) -> list[tuple[str, dict[str, Any]]]:
    """(entity, body) pairs, each with its Id, in the order they must be seeded."""

    def day(n: int) -> str:
        return (today - timedelta(days=n)).isoformat()

    ca_tax = {"TxnTaxCodeRef": _ref("2")}
    return [
        (
            "Estimate",
            {
                "Id": "140",
                "DocNumber": "SAMPLE-1001",
                "TxnDate": day(35),
                "ExpirationDate": day(5),
                "CustomerRef": _ref("3"),
                "Line": [
                    _sale("4", "4.5", 75, desc="Custom Design"),
                    _sale("8", 2, 100, "TAX", "Garden Lighting"),
                ],
                "TxnTaxDetail": ca_tax,
                "CustomerMemo": {"value": "Thank you for your business and have a great day!"},
            },
        ),
        (
            "Estimate",
            {
                "Id": "141",
                "DocNumber": "SAMPLE-1002",
                "TxnDate": day(20),
                "CustomerRef": _ref("17"),
                "TxnStatus": "Accepted",
                "AcceptedBy": "Kathy Paulsen",
                "AcceptedDate": day(18),
                "Line": [
                    _sale("7", 6, 50, desc="Installation of landscape design"),
                    _sale("15", 12, 10, "TAX"),
                ],
                "TxnTaxDetail": ca_tax,
            },
        ),
        (
            "Invoice",
            {
                "Id": "142",
                "DocNumber": "SAMPLE-1003",
                "TxnDate": day(40),
                "SalesTermRef": _ref("3"),
                "DueDate": day(10),
                "CustomerRef": _ref("26"),
                "Line": [_sale("6", 2, 50, desc="Weekly Gardening Service"), _sale("18", 1, 35)],
            },
        ),
        (
            "Invoice",
            {
                "Id": "143",
                "DocNumber": "SAMPLE-1004",
                "TxnDate": day(30),
                "CustomerRef": _ref("12"),
                "Line": [_sale("10", 1, 35, desc="Pest Control Services"), _sale("14", 10, 15, "TAX", "Sod")],
                "TxnTaxDetail": ca_tax,
            },
        ),
        (
            "Invoice",
            {
                "Id": "144",
                "DocNumber": "SAMPLE-1005",
                "TxnDate": day(12),
                "CustomerRef": _ref("3"),
                "Line": [_sale("4", "4.5", 75, desc="Custom Design")],
            },
        ),
        (
            "Invoice",
            {
                "Id": "145",
                "DocNumber": "SAMPLE-1006",
                "TxnDate": day(45),
                "DueDate": day(15),
                "CustomerRef": _ref("20"),
                "Line": [
                    _sale("13", 5, 22, "TAX", "Garden Rocks"),
                    _sale("9", 3, 45, desc="Maintenance & Repair"),
                ],
                "TxnTaxDetail": ca_tax,
            },
        ),
        (
            "Payment",
            {
                "Id": "146",
                "TxnDate": day(8),
                "CustomerRef": _ref("26"),
                "TotalAmt": "135.00",
                "PaymentMethodRef": _ref("2"),
                "PaymentRefNum": "5427",
                "Line": [{"Amount": "135.00", "LinkedTxn": [{"TxnId": "142", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "Payment",
            {
                "Id": "147",
                "TxnDate": day(6),
                "CustomerRef": _ref("12"),
                "TotalAmt": "100.00",
                "PaymentMethodRef": _ref("1"),
                "Line": [{"Amount": "100.00", "LinkedTxn": [{"TxnId": "143", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "CreditMemo",
            {
                "Id": "148",
                "DocNumber": "SAMPLE-1007",
                "TxnDate": day(14),
                "CustomerRef": _ref("15"),
                "Line": [_sale("1", 1, 100, desc="Credit for a missed visit")],
            },
        ),
        (
            "SalesReceipt",
            {
                "Id": "149",
                "DocNumber": "SAMPLE-1008",
                "TxnDate": day(9),
                "CustomerRef": _ref("6"),
                "PaymentMethodRef": _ref("2"),
                "PaymentRefNum": "10264",
                "Line": [_sale("4", "4.5", 75, desc="Custom Design")],
            },
        ),
        (
            "Deposit",
            {
                "Id": "150",
                "TxnDate": day(5),
                "DepositToAccountRef": _ref("35"),
                "Line": [{"Amount": "135.00", "LinkedTxn": [{"TxnId": "146", "TxnType": "Payment"}]}],
            },
        ),
        (
            "Bill",
            {
                "Id": "151",
                "TxnDate": day(28),
                "SalesTermRef": _ref("3"),
                "VendorRef": _ref("46"),
                "Line": [_expense("80", "103.55", "Lumber")],
            },
        ),
        (
            "Bill",
            {
                "Id": "152",
                "TxnDate": day(10),
                "SalesTermRef": _ref("3"),
                "VendorRef": _ref("47"),
                "Line": [_expense("76", "114.09", "Gas and electric, last month")],
            },
        ),
        (
            "BillPayment",
            {
                "Id": "153",
                "TxnDate": day(4),
                "VendorRef": _ref("46"),
                "PayType": "Check",
                "TotalAmt": "103.55",
                "DocNumber": "71",
                "CheckPayment": {"BankAccountRef": _ref("35")},
                "Line": [{"Amount": "103.55", "LinkedTxn": [{"TxnId": "151", "TxnType": "Bill"}]}],
            },
        ),
        (
            "VendorCredit",
            {
                "Id": "154",
                "TxnDate": day(3),
                "VendorRef": _ref("46"),
                "Line": [_expense("80", "25.00", "Returned lumber")],
            },
        ),
        (
            "Purchase",
            {
                "Id": "155",
                "TxnDate": day(11),
                "PaymentType": "CreditCard",
                "AccountRef": _ref("42"),
                "EntityRef": {"value": "33", "type": "Vendor"},
                "Line": [_expense("56", "63.15", "Fuel for the truck")],
            },
        ),
        (
            "PurchaseOrder",
            {
                "Id": "156",
                "TxnDate": day(2),
                "VendorRef": _ref("41"),
                "APAccountRef": _ref("33"),
                "Line": [
                    {
                        "DetailType": "ItemBasedExpenseLineDetail",
                        "Amount": "18.75",
                        "ItemBasedExpenseLineDetail": {"ItemRef": _ref("16"), "Qty": 25, "UnitPrice": "0.75"},
                    }
                ],
            },
        ),
        (
            "TimeActivity",
            {
                "Id": "157",
                "TxnDate": day(7),
                "NameOf": "Employee",
                "EmployeeRef": _ref("55"),
                "CustomerRef": _ref("21"),
                "ItemRef": _ref("8"),
                "Hours": 3,
                "Minutes": 0,
                "BillableStatus": "Billable",
                "HourlyRate": 15,
                "Description": "Garden Lighting",
            },
        ),
        (
            "TimeActivity",
            {
                "Id": "158",
                "TxnDate": day(6),
                "NameOf": "Employee",
                "EmployeeRef": _ref("54"),
                "CustomerRef": _ref("3"),
                "ItemRef": _ref("2"),
                "Hours": 4,
                "Minutes": 30,
                "Description": "Gardening",
            },
        ),
        (
            "Transfer",
            {
                "Id": "159",
                "TxnDate": day(15),
                "FromAccountRef": _ref("35"),
                "ToAccountRef": _ref("36"),
                "Amount": "500.00",
                "PrivateNote": "Monthly savings",
            },
        ),
        (
            "Invoice",
            {
                "Id": "170",
                "DocNumber": "SAMPLE-1009",
                "TxnDate": day(25),
                "CustomerRef": _ref("8"),
                "Line": [_sale("14", 4, 20, "TAX", "Sod")],
                "TxnTaxDetail": ca_tax,
            },
        ),
        (
            "Payment",
            {
                "Id": "171",
                "TxnDate": day(16),
                "CustomerRef": _ref("8"),
                "TotalAmt": "86.40",
                "PaymentMethodRef": _ref("2"),
                "PaymentRefNum": "2064",
                "Line": [{"Amount": "86.40", "LinkedTxn": [{"TxnId": "170", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "Invoice",
            {
                "Id": "172",
                "DocNumber": "SAMPLE-1010",
                "TxnDate": day(22),
                "CustomerRef": _ref("9"),
                "Line": [_sale("5", 1, 275, "TAX", "Rock Fountain")],
                "TxnTaxDetail": ca_tax,
            },
        ),
        (
            "Payment",
            {
                "Id": "173",
                "TxnDate": day(13),
                "CustomerRef": _ref("9"),
                "TotalAmt": "100.00",
                "PaymentMethodRef": _ref("1"),
                "Line": [{"Amount": "100.00", "LinkedTxn": [{"TxnId": "172", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "Invoice",
            {
                "Id": "174",
                "DocNumber": "SAMPLE-1011",
                "TxnDate": day(19),
                "CustomerRef": _ref("5"),
                "Line": [_sale("7", 6, 50, desc="Installation of landscape design")],
            },
        ),
        (
            "Payment",
            {
                "Id": "175",
                "TxnDate": day(4),
                "CustomerRef": _ref("5"),
                "TotalAmt": "300.00",
                "PaymentMethodRef": _ref("5"),
                "Line": [{"Amount": "300.00", "LinkedTxn": [{"TxnId": "174", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "Invoice",
            {
                "Id": "176",
                "DocNumber": "SAMPLE-1012",
                "TxnDate": day(33),
                "CustomerRef": _ref("1"),
                "Line": [_sale("1", 1, 108, desc="Bird house installation")],
            },
        ),
        (
            "Payment",
            {
                "Id": "177",
                "TxnDate": day(27),
                "CustomerRef": _ref("1"),
                "TotalAmt": "108.00",
                "PaymentMethodRef": _ref("2"),
                "PaymentRefNum": "1053",
                "Line": [{"Amount": "108.00", "LinkedTxn": [{"TxnId": "176", "TxnType": "Invoice"}]}],
            },
        ),
        (
            "CreditCardPaymentTxn",
            {
                "Id": "160",
                "TxnDate": day(1),
                "BankAccountRef": _ref("35"),
                "CreditCardAccountRef": _ref("42"),
                "Amount": "63.15",
                "PrivateNote": "Visa statement",
            },
        ),
    ]


def attachables() -> list[tuple[str, dict[str, Any]]]:
    """A note on an open invoice (Attachable ids come after the transactions)."""
    return [
        (
            "Attachable",
            {
                "Id": "161",
                "Note": "Customer asked for a site visit before the design work starts.",
                "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": "144"}, "IncludeOnSend": False}],
            },
        )
    ]


def templates(today: date) -> list[dict[str, Any]]:
    """RecurringTransaction bodies (a monthly bill and a monthly invoice)."""
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 1).isoformat()
    return [
        {
            "Bill": {
                "VendorRef": _ref("32"),
                "SalesTermRef": _ref("3"),
                "Line": [_expense("77", "74.36", "Monthly Phone Bill")],
                "RecurringInfo": {
                    "Name": "Telephone Bill",
                    "RecurType": "Automated",
                    "Active": True,
                    "ScheduleInfo": {
                        "IntervalType": "Monthly",
                        "NumInterval": 1,
                        "DayOfMonth": 1,
                        "StartDate": first,
                    },
                },
            }
        },
        {
            "Invoice": {
                "CustomerRef": _ref("29"),
                "Line": [_sale("6", 4, 50, desc="Weekly Gardening Service")],
                "RecurringInfo": {
                    "Name": "Monthly Gardening",
                    "RecurType": "Automated",
                    "Active": True,
                    "ScheduleInfo": {
                        "IntervalType": "Monthly",
                        "NumInterval": 1,
                        "DayOfMonth": 1,
                        "DaysBefore": 3,
                        "StartDate": first,
                    },
                },
            }
        },
    ]
