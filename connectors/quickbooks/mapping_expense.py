"""App expenses <-> QBO Purchases (an expense paid by cash, check or credit card, one account line)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.quickbooks.mapping_common import (
    FAILED,
    MAP_IT,
    MappingError,
    money,
    qbo_date,
    ref_value,
    sparse_update,
)
from connectors.quickbooks.settings import ExpensePaymentSource, QboRef, QuickBooksSettings
from sierra_core.db.models.app import Expense

__all__ = [
    "DOC_NUMBER_LIMIT",
    "ExpenseRefs",
    "expense_account",
    "expense_doc_number",
    "expense_payment_source",
    "expense_to_purchase",
    "expense_update",
    "purchase_to_values",
]

DOC_NUMBER_LIMIT = 21
_NOTE_LIMIT = 4000
_ACCOUNT_LINE = "AccountBasedExpenseLineDetail"
_PAYMENT_TYPE_DEFAULTS = {"Cash": "cash", "Check": "check", "CreditCard": "credit_card"}


@dataclass(frozen=True, slots=True)
class ExpenseRefs:
    """What the flow looked up before mapping an expense: the vendor's QBO id, when the vendor is in QBO.
    Without it the Purchase has no payee and the vendor's name goes into its PrivateNote."""

    vendor_id: str | None = None
    vendor_name: str | None = None


def _label(expense: Expense) -> str:
    ref = (
        f"#{expense.reference_number.strip()} "
        if expense.reference_number and expense.reference_number.strip()
        else ""
    )
    return f"Expense {ref}({expense.vendor_name}, {expense.expense_date.isoformat()})"


def expense_doc_number(expense: Expense) -> str | None:
    """DocNumber for an expense: its reference number cut to QBO's 21 characters (keeping the end)."""
    ref = (expense.reference_number or "").strip()
    return ref[-DOC_NUMBER_LIMIT:] or None


def expense_account(expense: Expense, settings: QuickBooksSettings) -> QboRef:
    """The expense account of an app category; MappingError when the category is not mapped."""
    accounts = settings.accounts
    account = accounts.expense_categories.get(expense.category)
    if account is None and expense.category == "payment_processing":
        account = accounts.stripe_fees
    account = account or accounts.default_expense
    if account is None:
        raise MappingError(
            f"{FAILED}{_label(expense)} uses category '{expense.category}', which is not mapped to a "
            f"QuickBooks expense account. {MAP_IT}",
            code="unmapped_account",
        )
    return account


def expense_payment_source(expense: Expense, settings: QuickBooksSettings) -> ExpensePaymentSource:
    """PaymentType and the bank or credit-card account for an app payment type; MappingError if unmapped."""
    source = settings.accounts.expense_payment.get(expense.payment_type)
    if source is None:
        raise MappingError(
            f"{FAILED}{_label(expense)} is paid by '{expense.payment_type}', which is not mapped to a "
            f"QuickBooks bank or credit card account. {MAP_IT}",
            code="unmapped_account",
        )
    return source


def _note(expense: Expense, refs: ExpenseRefs) -> str | None:
    parts = []
    if not refs.vendor_id:
        parts.append(f"Paid to {expense.vendor_name}")
    ref = (expense.reference_number or "").strip()
    if len(ref) > DOC_NUMBER_LIMIT:
        parts.append(f"Reference {ref}")
    if expense.description and expense.description.strip():
        parts.append(expense.description.strip())
    return ". ".join(parts)[:_NOTE_LIMIT] or None


def expense_to_purchase(expense: Expense, refs: ExpenseRefs, settings: QuickBooksSettings) -> dict[str, Any]:
    """The QBO Purchase body (create form): PaymentType and AccountRef from the payment type, one
    AccountBasedExpenseLineDetail line on the category's expense account, EntityRef (vendor) when known,
    TxnDate, DocNumber, PrivateNote. MappingError for an unmapped category or payment type."""
    source = expense_payment_source(expense, settings)
    account = expense_account(expense, settings)
    amount = money(expense.amount)
    line: dict[str, Any] = {
        "DetailType": _ACCOUNT_LINE,
        "Amount": amount,
        _ACCOUNT_LINE: {"AccountRef": account.as_ref()},
    }
    if expense.description and expense.description.strip():
        line["Description"] = expense.description.strip()
    body: dict[str, Any] = {
        "PaymentType": source.payment_type,
        "AccountRef": source.account.as_ref(),
        "TxnDate": expense.expense_date.isoformat(),
    }
    if refs.vendor_id:
        entity = {"value": refs.vendor_id, "type": "Vendor"}
        if refs.vendor_name:
            entity["name"] = refs.vendor_name
        body["EntityRef"] = entity
    if (doc := expense_doc_number(expense)) is not None:
        body["DocNumber"] = doc
    if (note := _note(expense, refs)) is not None:
        body["PrivateNote"] = note
    body["Line"] = [line]
    return body


def expense_update(
    expense: Expense,
    refs: ExpenseRefs,
    settings: QuickBooksSettings,
    *,
    qbo_id: str,
    sync_token: str,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The sparse update of a linked expense (see `sparse_update`)."""
    return sparse_update(
        expense_to_purchase(expense, refs, settings), qbo_id=qbo_id, sync_token=sync_token, current=current
    )


# ---------------------------------------------------------------- pull


def _first_account_line(purchase: Mapping[str, Any]) -> Mapping[str, Any]:
    lines = purchase.get("Line")
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, Mapping) and line.get("DetailType") == _ACCOUNT_LINE:
            return line
    return {}


def _category(account_id: str | None, settings: QuickBooksSettings, current: Expense | None) -> str:
    accounts = settings.accounts
    if current is not None:
        try:
            if expense_account(current, settings).value == account_id:
                return current.category
        except MappingError:
            pass
    matches = [c for c, ref in accounts.expense_categories.items() if ref.value == account_id]
    if len(matches) == 1:
        return matches[0]
    if accounts.stripe_fees is not None and accounts.stripe_fees.value == account_id:
        return "payment_processing"
    return current.category if current is not None else "other"


def _payment_type(purchase: Mapping[str, Any], settings: QuickBooksSettings, current: Expense | None) -> str:
    qbo_type = purchase.get("PaymentType")
    account_id = ref_value(purchase, "AccountRef")
    sources = settings.accounts.expense_payment
    if current is not None:
        mine = sources.get(current.payment_type)
        if mine is not None and mine.payment_type == qbo_type and mine.account.value == account_id:
            return current.payment_type
    default = _PAYMENT_TYPE_DEFAULTS.get(str(qbo_type), "other")
    matches = [t for t, s in sources.items() if s.payment_type == qbo_type and s.account.value == account_id]
    if default in matches or not matches:
        return default
    return matches[0]


def purchase_to_values(
    qbo_purchase: Mapping[str, Any],
    settings: QuickBooksSettings | None = None,
    *,
    current: Expense | None = None,
) -> dict[str, Any]:
    """Expense column values from a full QBO Purchase: amount (TotalAmt), expense_date, reference_number
    (DocNumber), vendor_name (EntityRef name), category (reverse of the first line's account), payment_type
    (reverse of PaymentType + AccountRef), description (first line, else PrivateNote). With `current`, the
    app's category, payment type and vendor name are kept when QuickBooks still agrees with them (several
    app values can map to one account). A voided purchase (`is_voided`) gives no amount: treat it as a
    deletion."""
    settings = settings or QuickBooksSettings()
    p = qbo_purchase
    if p.get("sparse") is True:
        raise ValueError("a partial QBO purchase (column query) cannot be pulled; read the full purchase")
    line = _first_account_line(p)
    detail = line.get(_ACCOUNT_LINE)
    detail = detail if isinstance(detail, Mapping) else {}
    entity = p.get("EntityRef")
    vendor = entity.get("name") if isinstance(entity, Mapping) else None
    description = line.get("Description") or p.get("PrivateNote")
    values: dict[str, Any] = {
        "expense_date": qbo_date(p.get("TxnDate"), "TxnDate"),
        "reference_number": str(p["DocNumber"]) if p.get("DocNumber") else None,
        "vendor_name": vendor or (current.vendor_name if current is not None else "Unknown vendor"),
        "category": _category(ref_value(detail, "AccountRef"), settings, current),
        "payment_type": _payment_type(p, settings, current),
        "description": description if isinstance(description, str) else None,
    }
    if ref_value(p, "CurrencyRef"):
        values["currency"] = ref_value(p, "CurrencyRef")
    amount = money(p.get("TotalAmt", 0), "TotalAmt")
    if amount > 0:
        values["amount"] = amount
    return values
