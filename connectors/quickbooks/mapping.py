"""Pure mapping functions between app rows and QuickBooks Online JSON: the one import for flows.

No I/O: nothing here fetches, logs or touches the database. What a mapping needs from elsewhere comes in
as arguments: the parsed integration settings (`connectors.quickbooks.settings.parse_settings`) and a refs
dataclass with the QBO ids the flow already looked up (customer, invoice, vendor). Push functions return
create bodies; `*_update` / `sparse_update` turn them into sparse updates. Pull functions take full QBO
objects parsed with `parse_float=Decimal` and return app column values.

Money: every amount in a body is a Decimal quantised to 0.01; serialise bodies with `dumps_qbo` (stdlib
`json.dumps` cannot encode Decimal) so QBO receives `50.00`. Errors: `MappingError`, one actionable line.
"""

from __future__ import annotations

from connectors.quickbooks.mapping_common import (
    MappingError,
    QboMeta,
    dumps_qbo,
    has_changes,
    is_deleted,
    is_voided,
    money,
    qbo_date,
    qbo_meta,
    qbo_time,
    qbo_timestamp,
    ref_value,
    resolve_conflict,
    sparse_update,
)
from connectors.quickbooks.mapping_customer import contact_to_customer, customer_to_contact_values
from connectors.quickbooks.mapping_expense import (
    ExpenseRefs,
    expense_account,
    expense_doc_number,
    expense_payment_source,
    expense_to_purchase,
    expense_update,
    purchase_to_values,
)
from connectors.quickbooks.mapping_invoice import (
    InvoiceRefs,
    invoice_status,
    invoice_to_qbo,
    invoice_update,
    qbo_invoice_to_values,
    resolve_item,
)
from connectors.quickbooks.mapping_payment import (
    PaymentRefs,
    deposit_account,
    payment_applications,
    payment_ref_num,
    payment_to_qbo,
    payment_update,
    qbo_payment_to_values,
)

__all__ = [
    "ExpenseRefs",
    "InvoiceRefs",
    "MappingError",
    "PaymentRefs",
    "QboMeta",
    "contact_to_customer",
    "customer_to_contact_values",
    "deposit_account",
    "dumps_qbo",
    "expense_account",
    "expense_doc_number",
    "expense_payment_source",
    "expense_to_purchase",
    "expense_update",
    "has_changes",
    "invoice_status",
    "invoice_to_qbo",
    "invoice_update",
    "is_deleted",
    "is_voided",
    "money",
    "payment_applications",
    "payment_ref_num",
    "payment_to_qbo",
    "payment_update",
    "purchase_to_values",
    "qbo_date",
    "qbo_invoice_to_values",
    "qbo_meta",
    "qbo_payment_to_values",
    "qbo_time",
    "qbo_timestamp",
    "ref_value",
    "resolve_conflict",
    "resolve_item",
    "sparse_update",
]
