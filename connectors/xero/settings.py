"""What a Xero connection's mappings need from its organisation: account codes, tax types and the tracking
category that holds projects. Stored in the connection's settings (JSON); Xero's demo-company codes are the
defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["XeroConflictPolicies", "XeroSettings"]


@dataclass(frozen=True)
class XeroConflictPolicies:
    """Who wins when a record changed in both the app and Xero since the last sync, per entity type:
    last_write_wins (the later change), app_wins or xero_wins."""

    customers: str = "last_write_wins"
    invoices: str = "last_write_wins"
    payments: str = "last_write_wins"
    expenses: str = "last_write_wins"


@dataclass(frozen=True)
class XeroSettings:
    """`sales_account` (invoice lines), `bank_account` (payments received, expenses paid),
    `expense_accounts` per expense category (else `default_expense_account`), `taxable_tax_type` (the
    organisation's sales tax type whose rate matches the app's invoices), `exempt_tax_type` (lines without
    tax), `project_tracking_category` (its options are the projects); what the sync engine sends (the
    `sync_*` switches, drafts off) and its conflict policy."""

    sales_account: str = "200"
    bank_account: str = "090"
    default_expense_account: str = "429"
    expense_accounts: Mapping[str, str] = field(default_factory=dict)
    taxable_tax_type: str = "OUTPUT"
    exempt_tax_type: str = "NONE"
    project_tracking_category: str = "Project"
    sync_customers: bool = True
    sync_invoices: bool = True
    sync_payments: bool = True
    sync_expenses: bool = True
    sync_draft_invoices: bool = False
    full_sweep_minutes: int = 60  # an incremental pull reads every collection when the last did so longer ago
    conflict_policy: XeroConflictPolicies = field(default_factory=XeroConflictPolicies)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> XeroSettings:
        """The settings stored on a connection (unknown keys ignored, missing ones defaulted)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).get("xero", {}).items() if k in known}
        policies = values.pop("conflict_policy", None)
        if isinstance(policies, Mapping):
            names = {f.name for f in fields(XeroConflictPolicies)}
            values["conflict_policy"] = XeroConflictPolicies(
                **{k: str(v) for k, v in policies.items() if k in names}
            )
        return cls(**values)

    def expense_account(self, category: str) -> str:
        return self.expense_accounts.get(category, self.default_expense_account)
