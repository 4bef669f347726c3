"""Updates and actions on money objects: refunds (update, cancel), payouts (update, cancel, reverse),
disputes (update with evidence, close)."""

from __future__ import annotations

from sandbox.stripe import ledger
from sandbox.stripe.errors import invalid_request
from sandbox.stripe.params import JSON, apply_metadata, check_known, get_bool, get_hash, get_str
from sandbox.stripe.pipeline import Call, Handler
from sandbox.stripe.state import SandboxState
from sandbox.stripe.store import snapshot

# Dispute evidence fields Stripe takes as text (files are not served).
_EVIDENCE_TEXT = (
    "access_activity_log", "billing_address", "cancellation_policy_disclosure", "cancellation_rebuttal",
    "customer_email_address", "customer_name", "customer_purchase_ip", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "refund_policy_disclosure", "refund_refusal_explanation",
    "service_date", "shipping_address", "shipping_carrier", "shipping_date", "shipping_tracking_number",
    "uncategorized_text",
)  # fmt: skip


def metadata_updater(kind: str) -> Handler:
    """POST /v1/{kind}s/{id} taking only `metadata` (refunds and payouts), emitting `{kind}.updated`."""

    def update(state: SandboxState, call: Call) -> JSON:
        check_known(call.params, ("metadata",))
        obj = state.store.get(kind, call.path_params["id"])
        before = dict(obj["metadata"])
        obj["metadata"] = apply_metadata(obj["metadata"], call.params)
        if before != obj["metadata"]:
            state.emit(f"{kind}.updated", obj, call.request, {"metadata": before})
        return snapshot(obj)

    update.__doc__ = f"Update a {kind}'s metadata."
    return update


def cancel_refund(state: SandboxState, call: Call) -> JSON:
    """POST /v1/refunds/{id}/cancel: only a refund waiting for customer action can be canceled."""
    check_known(call.params, ())
    refund = state.store.get("refund", call.path_params["id"])
    if refund["status"] != "requires_action":
        raise invalid_request(
            f"Refund {refund['id']} cannot be canceled because it has a status of {refund['status']}. Only a "
            "refund with a status of requires_action can be canceled."
        )
    ledger.cancel_refund(state, refund, call.request)
    return snapshot(refund)


def cancel_payout(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payouts/{id}/cancel: a pending payout is canceled and its amount goes back to the balance."""
    check_known(call.params, ())
    ledger.settle(state)
    payout = state.store.get("payout", call.path_params["id"])
    if payout["status"] != "pending":
        raise invalid_request(
            f"Payouts can only be canceled while they are pending. This payout has a status of "
            f"{payout['status']}."
        )
    ledger.cancel_payout(state, payout, call.request)
    return snapshot(payout)


def reverse_payout(state: SandboxState, call: Call) -> JSON:
    """POST /v1/payouts/{id}/reverse: a paid payout is pulled back by a reversing payout."""
    check_known(call.params, ("metadata",))
    ledger.settle(state)
    payout = state.store.get("payout", call.path_params["id"])
    if payout["status"] != "paid" or payout["reversed_by"] is not None or payout["original_payout"]:
        raise invalid_request(
            f"Only paid payouts that were not reversed can be reversed. This payout has a status of "
            f"{payout['status']}."
        )
    reversal = ledger.reverse_payout(state, payout, apply_metadata({}, call.params), call.request)
    return snapshot(reversal)


def update_dispute(state: SandboxState, call: Call) -> JSON:
    """POST /v1/disputes/{id}: `evidence`, `metadata`, `submit`."""
    check_known(call.params, ("evidence", "metadata", "submit"))
    dispute = state.store.get("dispute", call.path_params["id"])
    if dispute["status"] not in ("needs_response", "warning_needs_response"):
        raise invalid_request(
            f"This dispute is already closed or its evidence was submitted (status {dispute['status']}).",
            code="dispute_already_closed" if dispute["status"] in ("won", "lost") else None,
        )
    before = snapshot(dispute)
    evidence = get_hash(call.params, "evidence")
    if evidence is not None:
        check_known(evidence, _EVIDENCE_TEXT)
        stored = dispute.setdefault("evidence", {})
        for name in _EVIDENCE_TEXT:
            if name in evidence:
                stored[name] = get_str(evidence, name)
        dispute["evidence_details"]["has_evidence"] = any(v for v in stored.values())
    dispute["metadata"] = apply_metadata(dispute["metadata"], call.params)
    if get_bool(call.params, "submit"):
        dispute["status"] = "under_review"
        dispute["evidence_details"]["submission_count"] += 1
    previous = {k: before.get(k) for k in dispute if before.get(k) != dispute[k]}
    if previous:
        state.emit("charge.dispute.updated", dispute, call.request, previous)
    return snapshot(dispute)


def close_dispute(state: SandboxState, call: Call) -> JSON:
    """POST /v1/disputes/{id}/close: accept the dispute; it is lost."""
    check_known(call.params, ())
    dispute = state.store.get("dispute", call.path_params["id"])
    if dispute["status"] in ("won", "lost"):
        raise invalid_request(f"This dispute is already closed (status {dispute['status']}).")
    previous = {"status": dispute["status"]}
    dispute["status"] = "lost"
    dispute["is_charge_refundable"] = False
    state.emit("charge.dispute.closed", dispute, call.request, previous)
    return snapshot(dispute)


ROUTES = [
    ("POST", "/v1/refunds/{id}", metadata_updater("refund")),
    ("POST", "/v1/refunds/{id}/cancel", cancel_refund),
    ("POST", "/v1/payouts/{id}", metadata_updater("payout")),
    ("POST", "/v1/payouts/{id}/cancel", cancel_payout),
    ("POST", "/v1/payouts/{id}/reverse", reverse_payout),
    ("POST", "/v1/disputes/{id}", update_dispute),
    ("POST", "/v1/disputes/{id}/close", close_dispute),
]
