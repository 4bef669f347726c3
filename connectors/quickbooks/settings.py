"""The QuickBooks part of `integrations.settings`: what app codes mean in the company's books.

The JSON stored in `integrations.settings` of a `quickbooks_online` integration is parsed with
`parse_settings`, which raises one `SettingsError` saying which setting is wrong and how to fix it.
Unknown top-level keys are ignored (other parts of the connector may store their own); nested objects are
strict, so a typo such as `{"valeu": "3"}` is reported instead of silently ignored.

Defaults match Intuit's US sample company, which the local sandbox seeds into every new realm (same ids):
accounts 1 Services, 4 Undeposited Funds, 35 Checking, 41 Mastercard, 80 Cost of Goods Sold; payment
methods 1 Cash, 2 Check; term 3 Net 30; line tax codes TAX / NON. A real company has other ids: map them
before the first sync. A mapping given in the settings replaces its default as a whole (a dict is not merged
with the default dict), so what is stored is exactly what is used.

Items have no default: an invoice line whose item is not mapped fails with an actionable message, unless
`default_item` is set (then every unmapped line is booked to that item).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from sierra_core.db.models.app import EXPENSE_CATEGORIES, EXPENSE_PAYMENT_TYPES, PAYMENT_METHODS
from sierra_core.errors import SierraError

__all__ = [
    "ConflictPolicies",
    "ConflictPolicy",
    "ExpensePaymentSource",
    "QboAccounts",
    "QboRef",
    "QboTaxCodes",
    "QuickBooksSettings",
    "SettingsError",
    "parse_settings",
    "sample_company_settings",
]

ConflictPolicy = Literal["last_write_wins", "app_wins", "qbo_wins"]
PurchasePaymentType = Literal["Cash", "Check", "CreditCard"]


class SettingsError(SierraError):
    """The QuickBooks integration settings are malformed."""

    exit_code = 2


def _id_text(value: Any) -> Any:
    # QBO ids are strings; a settings editor that wrote 35 instead of "35" meant the same account.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _id_checked(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 64:
        raise ValueError("a QuickBooks id must be 1 to 64 characters")
    return value


QboId = Annotated[str, BeforeValidator(_id_text), AfterValidator(_id_checked)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QboRef(_Strict):
    """A QuickBooks reference: `{"value": id, "name": display name}` (the name is informative only)."""

    value: QboId
    name: str | None = None

    def as_ref(self) -> dict[str, str]:
        """The reference as QBO JSON (`name` only when known)."""
        return {"value": self.value} if self.name is None else {"value": self.value, "name": self.name}


def _ref(value: str, name: str) -> QboRef:
    return QboRef(value=value, name=name)


CHECKING = _ref("35", "Checking")
MASTERCARD = _ref("41", "Mastercard")
COST_OF_GOODS_SOLD = _ref("80", "Cost of Goods Sold")
JOB_COST_CATEGORIES = (
    "materials",
    "labor",
    "subcontractor",
    "equipment_rental",
    "permits_fees",
    "fuel",
    "tools",
)


class ExpensePaymentSource(_Strict):
    """How an app expense payment type is booked as a QBO Purchase: its PaymentType and the bank or
    credit-card account the money left from."""

    payment_type: PurchasePaymentType
    account: QboRef


def _default_payment_sources() -> dict[str, ExpensePaymentSource]:
    bank_cash = ExpensePaymentSource(payment_type="Cash", account=CHECKING)
    return {
        "cash": bank_cash,
        "check": ExpensePaymentSource(payment_type="Check", account=CHECKING),
        "credit_card": ExpensePaymentSource(payment_type="CreditCard", account=MASTERCARD),
        "ach": bank_cash,  # a bank transfer is a "Cash" purchase from the bank account in QBO
        "other": bank_cash,
    }


def _check_keys(kind: str, keys: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise ValueError(f"unknown {kind} {names}; expected one of {', '.join(allowed)}")


class QboAccounts(_Strict):
    """Chart-of-accounts mappings."""

    income: QboRef | None = Field(
        default=_ref("1", "Services"),
        description="Income account for items the sync creates in QuickBooks. Invoices do not use it: "
        "QuickBooks books a line to its item's income account.",
    )
    deposit_to: QboRef = Field(
        default=_ref("4", "Undeposited Funds"),
        description="Where customer payments are deposited (DepositToAccountRef).",
    )
    stripe_clearing: QboRef | None = Field(
        default=None,
        description="Deposit account for payments collected through Stripe (a clearing account that "
        "Stripe payouts empty into the bank); when unset they go to `deposit_to` like other payments.",
    )
    stripe_payouts_to: QboRef = Field(
        default=CHECKING,
        description="Bank account Stripe payouts arrive in: a payout is booked as a Deposit into it, moving "
        "the paid-out payments from Undeposited Funds (or the Stripe clearing account).",
    )
    stripe_fees: QboRef | None = Field(
        default=None,
        description="Expense account for Stripe processing fees; also used for expenses of category "
        "payment_processing when that category is not mapped.",
    )
    expense_categories: dict[str, QboRef] = Field(
        default_factory=lambda: dict.fromkeys(JOB_COST_CATEGORIES, COST_OF_GOODS_SOLD),
        description="App expense category -> expense account of the Purchase line. Default: job costs "
        "(materials, labor, subcontractor, equipment rental, permits, fuel, tools) to Cost of Goods Sold; "
        "insurance, office, payment_processing and other are unmapped.",
    )
    default_expense: QboRef | None = Field(
        default=None, description="Expense account for categories not in `expense_categories`."
    )
    expense_payment: dict[str, ExpensePaymentSource] = Field(
        default_factory=_default_payment_sources,
        description="App expense payment type -> Purchase PaymentType and the account paid from.",
    )

    @field_validator("expense_categories")
    @classmethod
    def _known_categories(cls, value: dict[str, QboRef]) -> dict[str, QboRef]:
        _check_keys("expense category", value, EXPENSE_CATEGORIES)
        return value

    @field_validator("expense_payment")
    @classmethod
    def _known_payment_types(cls, value: dict[str, ExpensePaymentSource]) -> dict[str, ExpensePaymentSource]:
        _check_keys("expense payment type", value, EXPENSE_PAYMENT_TYPES)
        return value


class QboTaxCodes(_Strict):
    """Sales tax. Line tax codes are the US `TAX` / `NON`.

    With `sales_tax_code` unset (the default), the app's tax amount is sent as `TxnTaxDetail.TotalTax`, so
    the QuickBooks total equals the app's to the cent. With it set, it is sent as `TxnTaxCodeRef` and
    QuickBooks computes the tax itself (it can differ from the app's by a cent: line vs document rounding).
    """

    taxable: QboId = "TAX"
    non_taxable: QboId = "NON"
    sales_tax_code: QboRef | None = None


class ConflictPolicies(_Strict):
    """What wins when both sides changed since the last sync, per entity type."""

    customers: ConflictPolicy = "last_write_wins"
    invoices: ConflictPolicy = "last_write_wins"
    payments: ConflictPolicy = "last_write_wins"
    expenses: ConflictPolicy = "last_write_wins"


class QuickBooksSettings(BaseModel):
    """The QuickBooks Online integration settings (`integrations.settings`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sync_customers: bool = True
    sync_invoices: bool = True
    sync_payments: bool = True
    sync_expenses: bool = True
    sync_draft_invoices: bool = Field(
        default=False, description="Push invoices in status draft too (QuickBooks has no drafts)."
    )
    items: dict[str, QboRef] = Field(
        default_factory=dict,
        description="Invoice line item code (or, for lines without a code, the line description) -> "
        "QuickBooks Item.",
    )
    default_item: QboRef | None = Field(default=None, description="Item for lines not in `items`.")
    terms: dict[str, QboRef] = Field(
        default_factory=lambda: {"Net 30": _ref("3", "Net 30")},
        description="App invoice terms text -> QuickBooks Term (SalesTermRef); unmapped terms are left out "
        "(the due date is always sent).",
    )
    payment_methods: dict[str, QboRef] = Field(
        default_factory=lambda: {"cash": _ref("1", "Cash"), "check": _ref("2", "Check")},
        description="App payment method -> QuickBooks PaymentMethod; unmapped methods are left out.",
    )
    accounts: QboAccounts = Field(default_factory=QboAccounts)
    tax: QboTaxCodes = Field(default_factory=QboTaxCodes)
    conflict_policy: ConflictPolicies = Field(default_factory=ConflictPolicies)

    @field_validator("payment_methods")
    @classmethod
    def _known_methods(cls, value: dict[str, QboRef]) -> dict[str, QboRef]:
        _check_keys("payment method", value, PAYMENT_METHODS)
        return value

    @field_validator("items", "terms")
    @classmethod
    def _non_blank_keys(cls, value: dict[str, QboRef]) -> dict[str, QboRef]:
        if any(not key.strip() for key in value):
            raise ValueError("keys must not be blank")
        return value

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready data, for `integrations.settings`."""
        return self.model_dump(mode="json")


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "settings"


def parse_settings(raw: Mapping[str, Any] | None) -> QuickBooksSettings:
    """Parse `integrations.settings` (None or `{}`: the defaults); one actionable SettingsError if bad."""
    if raw is None:
        return QuickBooksSettings()
    if not isinstance(raw, Mapping):
        raise SettingsError(
            f"QuickBooks settings must be a JSON object, not {type(raw).__name__}. "
            "Fix the integration settings.",
            code="invalid_settings",
        )
    try:
        return QuickBooksSettings.model_validate(dict(raw))
    except ValidationError as err:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in err.errors(include_url=False))
        raise SettingsError(
            f"QuickBooks settings are invalid ({problems}). Fix the integration settings.",
            code="invalid_settings",
        ) from None


def sample_company_settings() -> QuickBooksSettings:
    """Settings for the local sandbox's sample company and the app's seed data (demo and benchmarks only):
    every seed item code mapped (concrete to item 3 Concrete, the rest to 1 Services) and the expense
    categories without a sample account (insurance, office, payment_processing, other) booked to
    Cost of Goods Sold. A real company needs its own mappings."""
    from connectors.seed.catalog import SERVICES  # data only

    items = {
        code: _ref("3", "Concrete") if code == "CONCRETE" else _ref("1", "Services") for code, *_ in SERVICES
    }
    return QuickBooksSettings(items=items, accounts=QboAccounts(default_expense=COST_OF_GOODS_SOLD))
