"""Reconciliation against the QBO and Stripe sandboxes on both dialects: a clean push is 100.00 %, and
discrepancies of every class seeded at once are each found exactly once; repair fixes what the app owns."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import stripe as stripe_sdk
from sqlalchemy import delete, select, update

from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import open_client
from connectors.reconcile import repair as repair_mod
from connectors.reconcile.run import Scope, reconcile_once
from connectors.stripe import StripeGateway
from sierra_core.db.models import EntityLink, Invoice, Payment
from tests.connectors.quickbooks_sync.conftest import connected  # noqa: F401 - fixture

START, END = date(2000, 1, 1), date(2099, 12, 31)


def client_of(c):
    retry = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.0, sleep=lambda s: None)
    return open_client(c.sessions, c.connection, c.ring, c.app, retry=retry)


def scope_of(c, tolerance="0.01"):
    return Scope(c.connection.company_id, c.connection.integration_id, START, END, Decimal(tolerance))


def link_of(c, entity_type, app_id):
    with c.sessions() as s:
        return s.scalar(
            select(EntityLink).where(EntityLink.entity_type == entity_type, EntityLink.app_id == app_id)
        )


def found(outcome):
    return Counter(d["kind"] for d in outcome.result["discrepancies"])


def test_clean_push_is_100_percent(connected):  # noqa: F811
    connected.push()
    with client_of(connected) as client:
        outcome = reconcile_once(connected.sessions, client, None, scope_of(connected))
    r = outcome.result
    assert r["discrepancies"] == [], r["discrepancies"][:5]
    assert r["records_total"] > 24
    assert str(r["accuracy_pct"]) == "100.00" and str(r["amount_accuracy_pct"]) == "100.00"
    assert r["by_entity"]["invoice"]["records_matched"] == r["by_entity"]["invoice"]["records_total"]
    assert r["totals"]["app"]["invoice"]["amount"] == r["totals"]["quickbooks"]["invoice"]["amount"]


def clone_invoice(c, source_id, number):
    """A new app invoice (never pushed) with the lines of another one."""
    from sierra_core.db.models import InvoiceLineItem

    with c.sessions.begin() as s:
        src = s.get(Invoice, source_id)
        new = Invoice(
            company_id=src.company_id,
            customer_id=src.customer_id,
            invoice_number=number,
            issue_date=src.issue_date,
            status="sent",
            subtotal=src.subtotal,
            tax_rate=src.tax_rate,
            tax_amount=src.tax_amount,
            total=src.total,
            balance=src.total,
        )
        for line in src.lines:
            new.lines.append(
                InvoiceLineItem(
                    line_number=line.line_number,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                    item_code=line.item_code,
                    taxable=line.taxable,
                )
            )
        s.add(new)
        s.flush()
        return new.id


def qbo_copy(obj, **changes):
    body = {k: v for k, v in obj.items() if k not in ("Id", "SyncToken", "MetaData", "LinkedTxn")}
    body.update(changes)
    return body


def seed_discrepancies(c, stripe_url):
    """One discrepancy of every class, at once. Returns what was done to which record."""
    c.push()
    with c.sessions() as s:
        open_invoices = [
            i
            for i in s.scalars(select(Invoice).order_by(Invoice.invoice_number))
            if i.status == "sent" and i.balance == i.total and link_of(c, "invoice", i.id)
        ]
        payment = s.scalars(select(Payment).order_by(Payment.payment_date)).first()
    assert len(open_invoices) >= 6 and payment is not None
    deleted, edited, rounded, duplicated, unlinked, voided = open_invoices[:6]
    qbo_by_id = {o["Id"]: o for o in c.qbo_items("Invoice")}
    with client_of(c) as client:
        # deleted in QuickBooks
        link = link_of(c, "invoice", deleted.id)
        obj = qbo_by_id[link.external_id]
        client.delete("Invoice", obj["Id"], obj["SyncToken"], "rec-test-delete")
        # an amount edited in QuickBooks (tax +5.00) and a one-cent tax difference
        for inv, delta, rid in (
            (edited, Decimal("5.00"), "rec-test-edit"),
            (rounded, Decimal("0.01"), "rec-test-cent"),
        ):
            obj = client.read("Invoice", link_of(c, "invoice", inv.id).external_id)
            tax = Decimal(str(obj["TxnTaxDetail"]["TotalTax"])) + delta
            client.update(
                "Invoice",
                {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "TxnTaxDetail": {"TotalTax": tax}},
                rid,
            )
    # a duplicate left by a lost response (same DocNumber, no link) and an invoice made in QuickBooks only
    dup_source = qbo_by_id[link_of(c, "invoice", duplicated.id).external_id]
    realm = c.connection.realm_id
    c.qbo.admin(
        "POST",
        f"realms/{realm}/entities/Invoice",
        [qbo_copy(dup_source), qbo_copy(dup_source, DocNumber="QB-ONLY-1")],
    )
    with c.sessions.begin() as s:
        # a link lost (QuickBooks has the invoice by its number; the app does not know it)
        s.execute(delete(EntityLink).where(EntityLink.app_id == unlinked.id))
        # voided in the app only
        s.get(Invoice, voided.id).status = "void"
    never_pushed = clone_invoice(c, unlinked.id, "NEW-0001")
    # Stripe: one charge the app knows (on a pushed payment), one nobody recorded
    sdk = stripe_sdk.StripeClient("sk_test_reconcile", base_addresses={"api": stripe_url})
    known = sdk.v1.payment_intents.create(
        params={
            "amount": int(payment.amount * 100),
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    orphan = sdk.v1.payment_intents.create(  # this company's charge that no app payment records
        params={
            "amount": 4200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"company_id": str(c.connection.company_id)},
        }
    )
    # Another company's charge on the same (platform) Stripe account: never this company's discrepancy.
    sdk.v1.payment_intents.create(
        params={
            "amount": 5100,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"company_id": "00000000-0000-4000-8000-000000000001"},
        }
    )
    with c.sessions.begin() as s:
        s.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(stripe_charge_id=known.latest_charge, stripe_payment_intent_id=known.id)
        )
    return {
        "missing_in_qbo": {str(deleted.id), str(never_pushed)},
        "amount_mismatch": {str(edited.id)},
        "rounding": {str(rounded.id)},
        "duplicate_in_qbo": {str(duplicated.id)},
        "unlinked": {str(unlinked.id)},
        "status_mismatch": {str(voided.id)},
        "missing_in_app": {None},
        "orphan_stripe_charge": {None},
        "_orphan_charge": orphan.latest_charge,
    }


def test_every_class_seeded_at_once_is_found_exactly_once(connected, stripe_sandbox):  # noqa: F811
    seeded = seed_discrepancies(connected, stripe_sandbox.url)
    gateway = StripeGateway("sk_test_reconcile", base_url=stripe_sandbox.url)
    with client_of(connected) as client:
        outcome = reconcile_once(connected.sessions, client, gateway, scope_of(connected))
    rows = outcome.result["discrepancies"]
    kinds = {k for k in seeded if not k.startswith("_")}
    assert found(outcome) == Counter(dict.fromkeys(kinds, 1)) | Counter(missing_in_qbo=2), rows
    for kind in kinds:
        assert {r["app_id"] for r in rows if r["kind"] == kind} == seeded[kind], kind
    by_kind = {r["kind"]: r for r in rows}
    edit = by_kind["amount_mismatch"]
    assert (
        Decimal(edit["qbo_amount"]) - Decimal(edit["app_amount"])
        == Decimal("5.00")
        == Decimal(edit["difference"])
    )
    assert Decimal(by_kind["rounding"]["difference"]) == Decimal("0.01")
    assert by_kind["orphan_stripe_charge"]["stripe_id"] == seeded["_orphan_charge"]
    assert by_kind["orphan_stripe_charge"]["stripe_amount"] == "42.00"
    r = outcome.result
    assert r["counts"]["rounding"] == 1 and r["stripe_checked"] is True
    assert r["records_matched"] == r["records_total"] - 9  # nine records, one discrepancy each
    assert Decimal(r["accuracy_pct"]) < Decimal("100")

    # repair: the app's records pushed; the QuickBooks duplicate stays until asked for
    plan = repair_mod.plan(outcome.discrepancies, outcome.qbo)
    assert plan.duplicates and len(plan.ids) == 5  # 2 missing, amount, unlinked, status
    with connected.sessions.begin() as s:
        assert repair_mod.prepare_links(s, connected.connection.integration_id, plan) == {
            "links_dropped": 1,
            "links_rearmed": 2,
        }
    pushed = connected.push(types=plan.entity_types, ids=plan.ids)
    assert not pushed.failures, pushed.failures
    with client_of(connected) as client:
        after = reconcile_once(connected.sessions, client, gateway, scope_of(connected))
        assert found(after) == Counter(
            rounding=1, duplicate_in_qbo=1, missing_in_app=1, orphan_stripe_charge=1
        )
        outcomes = repair_mod.delete_duplicates(client, connected.connection.integration_id, plan.duplicates)
        assert [o["result"] for o in outcomes] == ["deleted"]
        last = reconcile_once(connected.sessions, client, gateway, scope_of(connected))
    assert found(last) == Counter(rounding=1, missing_in_app=1, orphan_stripe_charge=1)
