"""The demo's note on invoices says, in a bookkeeper's words, why fewer invoices are in QuickBooks than in
the app: drafts, and invoices voided before they were ever sent, stay in the app."""

from __future__ import annotations

from connectors.accounting.links import save_link
from sierra_sync.demo.runner import _invoices_in_books
from tests import factories as f


def test_the_note_counts_drafts_and_unsent_voids(sessions):
    with sessions.begin() as s:
        company = f.company(s)
        integration = f.integration(s, company.id, connection_status="connected")
        customer = f.customer(s, company.id)
        made = {n: f.invoice(s, company.id, customer.id, number=n) for n in ("1", "2", "3", "4", "5", "6")}
        for number, status in (("1", "sent"), ("2", "paid"), ("3", "draft"), ("4", "draft"), ("5", "void")):
            made[number].status = status
        made["6"].status = "void"  # sent, then voided: it is in QuickBooks (voided there too)
        s.flush()
        for n, number in enumerate(("1", "2", "6")):
            save_link(
                s,
                integration_id=integration.id,
                company_id=company.id,
                entity_type="invoice",
                app_id=made[number].id,
                external_id=str(100 + n),
                sync_token="0",
                version=1,
                external_updated_at=None,
            )
    note = _invoices_in_books(sessions)
    assert note == (
        "6 invoices were made in the app and 3 are in QuickBooks: the other 3 stay in the app only, "
        "2 drafts (not sent to the customer yet, so not in the books) and 1 invoice voided before it "
        "was ever sent (nothing to record)"
    )
    assert "requestid" not in note
