"""Applying provider documents to the app, one at a time, inside the caller's transaction: customers,
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
from connectors.accounting.pull_steps import VOID_WINS, ZERO, PullError, Steps, assign, token_seen
from sierra_core.db.models import Contact, EntityLink, Expense, Invoice, InvoiceLineItem, Payment
from sierra_core.errors import SierraError

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
        except SierraError as err:  # the provider's errors and mapping errors
            if self.adapter.classify(err).retryable:
                raise  # the run fails and is retried as a whole; nothing of this type is committed
            self._fail(entity_type, obj, err.message, err.code)
        except PullError as err:
            self._fail(entity_type, obj, err.message, err.code)
        except ValueError as err:
            self._fail(entity_type, obj, str(err), "invalid_value")

    # ------------------------------------------------------------------ customers

    def customer(self, obj: dict[str, Any]) -> uuid.UUID | None:
        qid = self.ext_id("customer", obj)
        link = self._link("customer", qid)
        meta = self.adapter.meta("customer", obj)
        if meta.deleted:
            self._delete("customer", Contact, link, obj)
            return link.app_id if link else None
        values = self.adapter.from_external("customer", obj)
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
        if same_name is not None:  # the same customer entered on both sides: one record, their details
            changes = assign(same_name, values)
            self._linked("customer", same_name, obj, "link", "same name as an unsynced app contact", changes)
            return same_name.id
        contact = Contact(company_id=self.target.company_id, **values)
        self.session.add(contact)
        self._linked("customer", contact, obj, "create", f"created in {self.title}", values)
        return contact.id

    # ------------------------------------------------------------------ invoices

    def invoice(self, obj: dict[str, Any]) -> uuid.UUID | None:
        qid = self.ext_id("invoice", obj)
        link = self._link("invoice", qid)
        meta = self.adapter.meta("invoice", obj)
        if meta.deleted:
            self._delete("invoice", Invoice, link, obj)
            return link.app_id if link else None
        row = self._row(Invoice, link, obj, "invoice") if link is not None else None
        if row is not None and link is not None and self._seen("invoice", row, link, obj):
            return row.id
        values = self.adapter.from_external("invoice", obj, row)
        lines = values.pop("lines", None)
        customer_ref = self.adapter.reference("invoice", obj, "customer")
        if customer_ref:
            values["customer_id"] = self.ensure("customer", customer_ref)
        elif row is None:
            raise PullError(
                f"{self.label_of('invoice', obj)} has no customer in {self.title}; give it one there.",
                "missing_reference",
            )
        self._check_number(values["invoice_number"], row, obj)
        total, balance = values.get("total"), values.get("balance")
        if total is not None and balance is not None and not ZERO <= balance <= total:
            raise PullError(
                f"{self.label_of('invoice', obj)} has a balance of {balance} on a total of {total}.",
                "invalid_value",
            )
        if row is None or link is None:
            invoice = Invoice(company_id=self.target.company_id, **values)
            invoice.lines = [InvoiceLineItem(**line) for line in lines or []]
            self.session.add(invoice)
            reason = f"created in {self.title}" + (
                " (already void there)" if invoice.status == "void" else ""
            )
            self._linked("invoice", invoice, obj, "create", reason, values)
            return invoice.id
        conflict: str | None = None
        if meta.voided and row.version != link.last_synced_version and row.status != "void":
            conflict = VOID_WINS.format(title=self.title)
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
                f"{self.title} sync failed: {self.title} invoice #{number} (Id "
                f"{self.ext_id('invoice', obj)}) has the same number as another Sierra invoice that is not "
                f"linked to it. Renumber one of them (in {self.title} or in Sierra) and sync again.",
                self.adapter.duplicate_code("invoice"),
            )

    # ------------------------------------------------------------------ payments

    def payment(self, obj: dict[str, Any]) -> None:
        qid = self.ext_id("payment", obj)
        links = self._payment_links(qid)
        meta = self.adapter.meta("payment", obj)
        if meta.deleted:
            if not links:
                self._skip("payment", obj, None, f"deleted in {self.title}; never in the app")
            for link in links:
                self._delete("payment", Payment, link, obj)
            return
        rows = {link.app_id: self._row(Payment, link, obj, "payment") for link in links}
        if links and token_seen(self.adapter, "payment", links[0], obj):
            self._skip("payment", obj, links[0].app_id, "already applied (same version)", counted=False)
            return
        pending = [r for r in rows.values() if r.version != self._link_version(links, r.id)]
        if meta.voided:
            if not links:
                self._skip("payment", obj, None, f"voided in {self.title}; never in the app")
            elif pending:
                self.result.bump("payment", "conflicts")
                self._log("payment", pending[0].id, obj, "conflict", VOID_WINS.format(title=self.title), None)
            for link in links:
                row = rows[link.app_id]
                changes = assign(row, self.adapter.from_external("payment", obj, row))
                self._linked(
                    "payment", row, obj, "void", f"voided in {self.title}", changes, key=link.external_id
                )
            return
        conflict = ""
        if pending:
            app_wins, conflict = self._resolve("payment", pending[0], obj)
            if app_wins:
                return
        parts = self._parts(obj)
        customer_ref = self.adapter.reference("payment", obj, "customer")
        if not customer_ref:
            raise PullError(
                f"{self.title} payment {qid} has no customer; give it one there.", "missing_reference"
            )
        customer_id = self.ensure("customer", customer_ref)
        invoice_ids = {inv: self.ensure("invoice", inv) for inv, _ in parts if inv is not None}
        # Existing app payments of this payment there, by the invoice (its external id) they pay.
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
            values = self.adapter.from_external("payment", obj, current)
            values.update(
                amount=amount,
                customer_id=customer_id,
                invoice_id=invoice_ids[inv_qid] if inv_qid is not None else None,
            )
            if current is not None and current.refunded_amount > amount:
                raise PullError(
                    f"{self.title} payment {qid} now applies {amount} to an invoice, less than the "
                    f"{current.refunded_amount} refunded in Sierra; correct the payment in {self.title}.",
                    "invalid_value",
                )
            plan.append((qid if len(parts) == 1 else f"{qid}-{inv_qid or 'unapplied'}", found, values))
        if conflict:  # the provider wins: one decision for the whole payment
            self._log("payment", pending[0].id, obj, "conflict", conflict, None)
        for key, found, values in plan:
            if found is None:
                payment = Payment(company_id=self.target.company_id, **values)
                self.session.add(payment)
                reason = f"entered in {self.title}" + (f" (part of payment {qid})" if len(parts) > 1 else "")
                self._linked("payment", payment, obj, "create", reason, values, key=key)
            else:
                self._update("payment", found[0], found[1], obj, values, key=key, conflict=conflict)
        for _row, link in [*existing.values(), *leftovers]:
            self._delete(
                "payment", Payment, link, obj, reason=f"no longer applied to this invoice in {self.title}"
            )

    def _parts(self, obj: Mapping[str, Any]) -> list[tuple[str | None, Decimal]]:
        """One app payment per invoice the payment pays (the app's payment belongs to one invoice), plus
        one for any unapplied remainder."""
        parts = self.adapter.payment_parts(obj)
        if any(amount <= 0 for _, amount in parts):
            raise PullError(
                f"{self.title} payment {self.ext_id('payment', obj)} has no positive amount to record.",
                "invalid_value",
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
        qid = self.ext_id("expense", obj)
        link = self._link("expense", qid)
        if link is None:
            self._skip(
                "expense",
                obj,
                None,
                f"created in {self.title}; expenses come from the app, so it is not imported",
            )
            return
        meta = self.adapter.meta("expense", obj)
        if meta.deleted or meta.voided:
            reason = f"voided in {self.title}" if meta.voided else f"deleted in {self.title}"
            self._delete("expense", Expense, link, obj, reason=reason)
            return
        row = self._row(Expense, link, obj, "expense")
        values = self.adapter.from_external("expense", obj, row)
        self._update("expense", row, link, obj, values)

    # ------------------------------------------------------------------ dependencies

    def ensure(self, entity_type: str, external_id: str) -> uuid.UUID:
        """The app id of a customer or invoice there, pulling it first when the app does not have it."""
        link = self._link(entity_type, external_id)
        if link is not None:
            return link.app_id
        obj = self.pending.get(entity_type, {}).get(external_id)
        if obj is None or self.adapter.meta(entity_type, obj).deleted:
            self.result.requests += 1
            obj = self.adapter.read(entity_type, external_id)
        app_id = self.customer(obj) if entity_type == "customer" else self.invoice(obj)
        if app_id is None:
            raise PullError(
                f"{self.label_of(entity_type, obj)} could not be brought into the app first.",
                "dependency_failed",
            )
        return app_id
