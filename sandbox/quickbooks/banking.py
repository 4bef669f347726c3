"""Money moved between the company's own accounts: Transfer and CreditCardPayment.

Transfer: FromAccountRef, ToAccountRef and Amount are required and the two accounts must differ.
CreditCardPayment (answered under the key `CreditCardPaymentTxn`, as Intuit does; the URL and query name
are `creditcardpayment`): a Bank account pays down a Credit Card account, both in the home currency.
Neither has a webhook at Intuit.
"""

from __future__ import annotations

from typing import Any

from sandbox.quickbooks import faults
from sandbox.quickbooks.entities import Ctx, EntitySpec, LineIds, register
from sandbox.quickbooks.names import account_ref, lookup
from sandbox.quickbooks.store import Record
from sandbox.quickbooks.txnbase import SYSTEM_KEYS, common_header
from sandbox.quickbooks.wire import money

__all__: list[str] = []


def _amount(body: dict[str, Any]) -> Any:
    if body.get("Amount") in (None, ""):
        raise faults.required("Amount")
    amount = money(body["Amount"], "Amount")
    if amount <= 0:
        raise faults.business("The amount must be greater than 0")
    return amount


def _account(ctx: Ctx, body: dict[str, Any], key: str, kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    if body.get(key) is None:
        raise faults.required(key)
    account = lookup(ctx, "Account", body[key], key)
    if kinds and account.data.get("AccountType") not in kinds:
        raise faults.business(
            f"{key} must be a {' or '.join(kinds)} account; {account.data.get('Name')} is not"
        )
    if ctx.multicurrency:
        code = account.data.get("CurrencyRef", {}).get("value", ctx.realm.home_currency[0])
        if kinds and code != ctx.realm.home_currency[0]:
            raise faults.business("Credit card payments are in the home currency only")
    named = account_ref(ctx, body[key], key, None)
    assert named is not None
    return named


def compute_transfer(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """Transfer: two different accounts and a positive Amount."""
    out: dict[str, Any] = dict(body)
    out["FromAccountRef"] = _account(ctx, body, "FromAccountRef")
    out["ToAccountRef"] = _account(ctx, body, "ToAccountRef")
    if out["FromAccountRef"]["value"] == out["ToAccountRef"]["value"]:
        raise faults.business("A transfer needs two different accounts")
    out["Amount"] = _amount(body)
    common_header(ctx, body, prev, out)
    if out.get("PrivateNote") in ("", None):
        out.pop("PrivateNote", None)
    return out


def compute_card_payment(ctx: Ctx, body: dict[str, Any], prev: Record | None, ids: LineIds) -> dict[str, Any]:
    """CreditCardPayment: BankAccountRef (Bank), CreditCardAccountRef (Credit Card), a positive Amount."""
    out: dict[str, Any] = dict(body)
    out["BankAccountRef"] = _account(ctx, body, "BankAccountRef", ("Bank",))
    out["CreditCardAccountRef"] = _account(ctx, body, "CreditCardAccountRef", ("Credit Card",))
    out["Amount"] = _amount(body)
    if body.get("VendorRef") is not None:
        vendor = lookup(ctx, "Vendor", body["VendorRef"], "VendorRef")
        out["VendorRef"] = {"value": vendor.data["Id"], "name": vendor.data.get("DisplayName", "")}
    status = out.get("PrintStatus")
    if status not in (None, "NotSet", "NeedToPrint", "PrintComplete"):
        raise faults.invalid_property(f"Property Name:PrintStatus value {status} is not supported")
    common_header(ctx, body, prev, out)
    out.pop("ExchangeRate", None)  # home currency only
    for key in ("PrivateNote", "Memo", "CheckNum", "PrintStatus"):
        if out.get(key) in ("", None):
            out.pop(key, None)
    return out


register(
    EntitySpec(
        name="Transfer",
        order=(
            "FromAccountRef",
            "ToAccountRef",
            "Amount",
            *SYSTEM_KEYS,
            "TxnDate",
            "CurrencyRef",
            "ExchangeRate",
            "PrivateNote",
        ),
        compute=compute_transfer,
        deletable=True,
    )
)
register(
    EntitySpec(
        name="CreditCardPaymentTxn",
        aliases=("CreditCardPayment",),
        order=(
            "CreditCardAccountRef",
            "TxnDate",
            "CurrencyRef",
            "PrivateNote",
            "Amount",
            "BankAccountRef",
            "VendorRef",
            "Memo",
            "PrintStatus",
            "CheckNum",
            *SYSTEM_KEYS,
        ),
        compute=compute_card_payment,
        deletable=True,
        total_count=True,
        webhook=False,
    )
)
