"""Applying QuickBooks objects to the app, one at a time, inside the caller's transaction: customers,
invoices (with their lines), payments (one app payment per invoice paid) and expenses.

Nothing is written for an object until everything it needs (its customer, its invoices) is in place and
its values are checked, so an object that fails leaves no half-applied rows behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from connectors.accounting.links import links_for
from connectors.quickbooks import mapping
from connectors.quickbooks.errors import QuickBooksError
from connectors.quickbooks_sync.pull_steps import (
    VOID_WINS,
    ZERO,
    PullError,
    Steps,
    assign,
    label_of,
    token_seen,
)
from connectors.quickbooks_sync.pull_types import QBO_ENTITIES
from sierra_core.db.models import Contact, EntityLink, Expense, Invoice, InvoiceLineItem, Payment

__all__ = ["Applier", "PullError"]


class Applier(Steps):
    """Applies one entity type's changes in `session` (one transaction, committed by the caller)."""

    # ------------------------------------------------------------------ entry

    def apply(self, entity_type: str, obj: dict[str, Any]) -> None:
        try:
            handler = {
                "customer": self.customer,
                "invoice": self.invoice,
                "payment": self.payment,
                "expense": self.expense,
            }[entity_type]
            handler(obj)
        except QuickBooksError as err:
            if err.retryable:
                raise  # the run fails and is retried as a whole; nothing of this type is committed
            self._fail(entity_type, obj, err.message, err.code)
        except (mapping.MappingError, PullError) as err:
            self._fail(entity_type, obj, err.message, err.code)
        except ValueError as err:
            self._fail(entity_type, obj, str(err), "invalid_value")

    # ------------------------------------------------------------------ customers

    def customer(self, obj: dict[str, Any]) -> uuid.UUID | None:
        qid = str(obj["Id"])
        link = self._link("customer", qid)
        if mapping.is_deleted(obj):
            self._delete("customer", Contact, link, obj)
            return link.app_id if link else None
        values = mapping.customer_to_contact_values(obj)
        if link is not None:
            row = self._row(Contact, link, obj, "customer")
            self._update("customer", row, link, obj, values)
            return row.id
        same_name = self.session.scalar(
            select(Contact)
            .outerjoin(
                EntityLink,
                (EntityLink.integration_id == self.target.integration_id)
                & (EntityLink.entity_type == "customer")
                & (EntityLink.app_id == Contact.id),
            )
            .where(
                Contact.company_id == self.target.company_id,
                Contact.display_name == values["display_name"],
                Contact.deleted_at.is_(None),
                EntityLink.id.is_(None),
            )
            .limit(1)
        )
        if same_name is not None:  # the same customer entered on both sides: one record, QBO's details
            changes = assign(same_name, values)
            self._linked("customer", same_name, obj, "link", "same name as an unsynced app contact", changes)
            return same_name.id
        contact = Contact(company_id=self.target.company_id, **values)
        self.session.add(contact)
        self._linked("customer", contact, obj, "create", "created in QuickBooks", values)
        return contact.id

    # ------------------------------------------------------------------ invoices

    def invoice(self, obj: dict[str, Any]) -> uuid.UUID | None:
        qid = str(obj["Id"])
        link = self._link("invoice", qid)
        if mapping.is_deleted(obj):
            self._delete("invoice", Invoice, link, obj)
            return link.app_id if link else None
        row = self._row(Invoice, link, obj, "invoice") if link is not None else None
        if row is not None and link is not None and self._seen("invoice", row, link, obj):
            return row.id
        values = mapping.qbo_invoice_to_values(obj, self.target.settings, current=row)
        lines = values.pop("lines", None)
        if values.get("terms") is None and row is not None and row.terms not in self.target.settings.terms:
            values.pop("terms")  # unmapped app terms never reach QBO: its silence is not a change
        customer_qid = mapping.ref_value(obj, "CustomerRef")
        if customer_qid:
            values["customer_id"] = self.ensure("customer", customer_qid)
        elif row is None:
            raise PullError(
                f"{label_of('invoice', obj)} has no customer in QuickBooks; give it one there.",
                "missing_reference",
            )
        self._check_number(values["invoice_number"], row, obj)
        total, balance = values.get("total"), values.get("balance")
        if total is not None and balance is not None and not ZERO <= balance <= total:
            raise PullError(
                f"{label_of('invoice', obj)} has a balance of {balance} on a total of {total}.",
                "invalid_value",
            )
        if row is None or link is None:
            invoice = Invoice(company_id=self.target.company_id, **values)
            invoice.lines = [InvoiceLineItem(**line) for line in lines or []]
            self.session.add(invoice)
            reason = "created in QuickBooks" + (" (already void there)" if invoice.status == "void" else "")
            self._linked("invoice", invoice, obj, "create", reason, values)
            return invoice.id
        conflict: str | None = None
        if mapping.is_voided(obj) and row.version != link.last_synced_version and row.status != "void":
            conflict = VOID_WINS
            values = {k: v for k, v in values.items() if k in ("status", "balance", "voided_at")}
            self.result.bump("invoice", "conflicts")
            self._log("invoice", row.id, obj, "conflict", conflict, None)
        self._update("invoice", row, link, obj, values, lines, conflict=conflict)
        return row.id

    def _check_number(self, number: str, row: Invoice | None, obj: Mapping[str, Any]) -> None:
        if row is not None and row.invoice_number == number:
            return
        other = self.session.scalar(
            select(Invoice.id).where(
                Invoice.company_id == self.target.company_id, Invoice.invoice_number == number
            )
        )
        if other is not None and (row is None or other != row.id):
            raise PullError(
                f"QuickBooks sync failed: QuickBooks invoice #{number} (Id {obj.get('Id')}) has the same "
                "number as another Sierra invoice that is not linked to it. Renumber one of them (in "
                "QuickBooks or in Sierra) and sync again.",
                "6140",
            )

    # ------------------------------------------------------------------ payments

    def payment(self, obj: dict[str, Any]) -> None:
        qid = str(obj["Id"])
        links = self._payment_links(qid)
        if mapping.is_deleted(obj):
            if not links:
                self._skip("payment", obj, None, "deleted in QuickBooks; never in the app")
            for link in links:
                self._delete("payment", Payment, link, obj)
            return
        rows = {link.app_id: self._row(Payment, link, obj, "payment") for link in links}
        if links and token_seen(links[0], obj):
            self._skip("payment", obj, links[0].app_id, "already applied (same SyncToken)", counted=False)
            return
        pending = [r for r in rows.values() if r.version != self._link_version(links, r.id)]
        if mapping.is_voided(obj):
            if not links:
                self._skip("payment", obj, None, "voided in QuickBooks; never in the app")
            elif pending:
                self.result.bump("payment", "conflicts")
                self._log("payment", pending[0].id, obj, "conflict", VOID_WINS, None)
            for link in links:
                row = rows[link.app_id]
                changes = assign(row, mapping.qbo_payment_to_values(obj, self.target.settings, current=row))
                self._linked(
                    "payment", row, obj, "void", "voided in QuickBooks", changes, key=link.external_id
                )
            return
        conflict = ""
        if pending:
            app_wins, conflict = self._resolve("payment", pending[0], obj)
            if app_wins:
                return
        parts = self._parts(obj)
        customer_qid = mapping.ref_value(obj, "CustomerRef")
        if not customer_qid:
            raise PullError(
                f"QuickBooks payment {qid} has no customer; give it one there.", "missing_reference"
            )
        customer_id = self.ensure("customer", customer_qid)
        invoice_ids = {inv: self.ensure("invoice", inv) for inv, _ in parts if inv is not None}
        # Existing app payments of this QBO payment, by the QBO invoice they pay.
        invoice_links = links_for(
            self.session,
            self.target.integration_id,
            "invoice",
            [r.invoice_id for r in rows.values() if r.invoice_id],
        )
        existing: dict[str | None, tuple[Payment, EntityLink]] = {}
        leftovers: list[tuple[Payment, EntityLink]] = []
        for link in links:
            row = rows[link.app_id]
            inv_link = invoice_links.get(row.invoice_id) if row.invoice_id else None
            inv_key = inv_link.external_id if inv_link else None
            if inv_key in existing:
                leftovers.append((row, link))
            else:
                existing[inv_key] = (row, link)
        plan: list[tuple[str, tuple[Payment, EntityLink] | None, dict[str, Any]]] = []
        for inv_qid, amount in parts:  # everything checked before anything is written
            found = existing.pop(inv_qid, None)
            current = found[0] if found else None
            values = mapping.qbo_payment_to_values(obj, self.target.settings, current=current)
            values.update(
                amount=amount,
                customer_id=customer_id,
                invoice_id=invoice_ids[inv_qid] if inv_qid is not None else None,
            )
            if current is not None and current.refunded_amount > amount:
                raise PullError(
                    f"QuickBooks payment {qid} now applies {amount} to an invoice, less than the "
                    f"{current.refunded_amount} refunded in Sierra; correct the payment in QuickBooks.",
                    "invalid_value",
                )
            plan.append((qid if len(parts) == 1 else f"{qid}-{inv_qid or 'unapplied'}", found, values))
        if conflict:  # QuickBooks wins: one decision for the whole payment
            self._log("payment", pending[0].id, obj, "conflict", conflict, None)
        for key, found, values in plan:
            if found is None:
                payment = Payment(company_id=self.target.company_id, **values)
                self.session.add(payment)
                reason = "entered in QuickBooks" + (f" (part of payment {qid})" if len(parts) > 1 else "")
                self._linked("payment", payment, obj, "create", reason, values, key=key)
            else:
                self._update("payment", found[0], found[1], obj, values, key=key, conflict=conflict)
        for _row, link in [*existing.values(), *leftovers]:
            self._delete(
                "payment", Payment, link, obj, reason="no longer applied to this invoice in QuickBooks"
            )

    def _parts(self, obj: Mapping[str, Any]) -> list[tuple[str | None, Decimal]]:
        """One app payment per invoice the QBO payment pays (the app's payment belongs to one invoice), plus
        one for any unapplied remainder."""
        applied: dict[str, Decimal] = {}
        for inv, amount in mapping.payment_applications(obj):
            applied[inv] = applied.get(inv, ZERO) + amount
        total = mapping.money(obj.get("TotalAmt", 0), "TotalAmt")
        parts: list[tuple[str | None, Decimal]] = [(inv, amt) for inv, amt in applied.items() if amt > 0]
        rest = total - sum(applied.values(), ZERO)
        if rest > 0 or not parts:
            parts.append((None, rest if parts else total))
        if any(amount <= 0 for _, amount in parts):
            raise PullError(
                f"QuickBooks payment {obj.get('Id')} has no positive amount to record.", "invalid_value"
            )
        return parts

    def _payment_links(self, qid: str) -> list[EntityLink]:
        return list(
            self.session.scalars(
                select(EntityLink)
                .where(
                    EntityLink.integration_id == self.target.integration_id,
                    EntityLink.entity_type == "payment",
                    or_(EntityLink.external_id == qid, EntityLink.external_id.like(f"{qid}-%")),
                )
                .order_by(EntityLink.external_id)
            )
        )

    @staticmethod
    def _link_version(links: Sequence[EntityLink], app_id: uuid.UUID) -> int | None:
        return next((link.last_synced_version for link in links if link.app_id == app_id), None)

    # ------------------------------------------------------------------ expenses

    def expense(self, obj: dict[str, Any]) -> None:
        qid = str(obj["Id"])
        link = self._link("expense", qid)
        if link is None:
            self._skip(
                "expense",
                obj,
                None,
                "created in QuickBooks; expenses come from the app, so it is not imported",
            )
            return
        if mapping.is_deleted(obj) or mapping.is_voided(obj):
            reason = "voided in QuickBooks" if mapping.is_voided(obj) else "deleted in QuickBooks"
            self._delete("expense", Expense, link, obj, reason=reason)
            return
        row = self._row(Expense, link, obj, "expense")
        values = mapping.purchase_to_values(obj, self.target.settings, current=row)
        self._update("expense", row, link, obj, values)

    # ------------------------------------------------------------------ dependencies

    def ensure(self, entity_type: str, qbo_id: str) -> uuid.UUID:
        """The app id of a QBO customer or invoice, pulling it first when the app does not have it."""
        link = self._link(entity_type, qbo_id)
        if link is not None:
            return link.app_id
        obj = self.pending.get(entity_type, {}).get(qbo_id)
        if obj is None or mapping.is_deleted(obj):
            self.result.requests += 1
            obj = self.client.read(QBO_ENTITIES[entity_type], qbo_id)
        app_id = self.customer(obj) if entity_type == "customer" else self.invoice(obj)
        if app_id is None:
            raise PullError(
                f"{label_of(entity_type, obj)} could not be brought into the app first.", "dependency_failed"
            )
        return app_id
