"""Pure classification: three DataFrames in (see `frames`), every record's class out. No I/O.

A *record* is one app record in scope, one QuickBooks object the app does not account for, or one Stripe
charge no app payment accounts for. Each discrepancy names its record (`record`), so a record with two
problems (a QuickBooks amount edit and a Stripe refund the app missed) is one unmatched record with two
rows. Records with no row are matched; `rounding` rows are never matched, only reported apart.

Joins: app -> QBO through the entity link (`external_id`), unlinked app records -> QBO by number
(DocNumber, DisplayName, PaymentRefNum), app payments -> Stripe charges by charge id, then payment intent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

KINDS = (
    "missing_in_qbo",
    "missing_in_app",
    "amount_mismatch",
    "status_mismatch",
    "duplicate_in_qbo",
    "orphan_stripe_charge",
    "unlinked",
    "rounding",
)
ENTITY_TYPES = ("customer", "invoice", "payment", "expense", "payout")
NUMBERED_ONCE = ("invoice", "payment")  # numbers that repeat only in duplicates (two receipts may share one)
ROUNDING_TYPES = ("invoice",)  # tax is computed on invoices only
QBO_NAMES = {
    "customer": "Customer",
    "invoice": "Invoice",
    "payment": "Payment",
    "expense": "Purchase",
    "payout": "Deposit",
}

DISCREPANCY_COLUMNS = {
    "record": "string",
    "entity_type": "string",
    "kind": "string",
    "app_id": "string",
    "external_id": "string",
    "stripe_id": "string",
    "number": "string",
    "app_amount": "Int64",
    "qbo_amount": "Int64",
    "stripe_amount": "Int64",
    "detail": "string",
    "action": "string",
}
RECORD_COLUMNS = {"record": "string", "entity_type": "string", "amount": "Int64"}


@dataclass(frozen=True)
class Options:
    tolerance_cents: int = 1
    include_drafts: bool = False
    stripe_checked: bool = True
    system: str = "QuickBooks"  # the accounting system's title, in details and actions
    names: Mapping[str, str] = field(default_factory=lambda: dict(QBO_NAMES))  # its document names


@dataclass(frozen=True)
class Classified:
    """`records`: every record in scope (record key, entity type, amount in cents);
    `discrepancies`: one row per problem (DISCREPANCY_COLUMNS)."""

    records: pd.DataFrame
    discrepancies: pd.DataFrame


ACTIONS = {
    "missing_in_qbo": "push it to QuickBooks (repair creates it)",
    "missing_in_qbo_deleted": "deleted in QuickBooks: repair unlinks it and creates it again",
    "missing_in_app": "pull it into the app (incremental-sync) or void it in QuickBooks if it is not real",
    "amount_mismatch": "the app is the source of truth: repair pushes the app's amount",
    "amount_mismatch_sub_cent": "correct the amount to the cent in the app (sierra-sync never rounds it), "
    "then push",
    "amount_mismatch_stripe": "check the Stripe charge and correct the app payment (or refund in Stripe)",
    "status_mismatch": "the app is the source of truth: repair pushes the app's status",
    "status_mismatch_deleted": "deleted in the app: void or delete it in QuickBooks",
    "status_mismatch_qbo_void": "voided in QuickBooks only: void it in the app or un-void it in QuickBooks",
    "duplicate_in_qbo": "delete the extra QuickBooks copy (repair does it only with delete_duplicates=true)",
    "orphan_stripe_charge": "record the payment in the app (or refund the charge in Stripe)",
    "unlinked": "repair links it (push finds it by number)",
    "unlinked_stripe": "the app payment names a Stripe charge Stripe does not return: check its Stripe id",
    "rounding": "tax rounding (line vs document): review; no push needed",
    "payout_missing": "book the payout: run book-stripe-payouts (or let the payout.paid webhook through)",
    "payout_amount": "compare the Deposit with the payout's payments in Stripe; correct the Deposit",
}


def _rows(df: pd.DataFrame, kind: str, action: str, detail: str | pd.Series | None = None) -> pd.DataFrame:
    """Discrepancy rows from a joined frame carrying some of the output columns."""
    out = pd.DataFrame(index=df.index)
    for name, dtype in DISCREPANCY_COLUMNS.items():
        out[name] = df[name] if name in df.columns else pd.Series(pd.NA, index=df.index, dtype=dtype)
    out["kind"] = kind
    out["action"] = action
    if detail is not None:
        out["detail"] = detail
    return out.astype(DISCREPANCY_COLUMNS)


def _money_text(series: pd.Series) -> pd.Series:
    """Cents as '1234.56' text, for details (integer arithmetic only)."""
    values = series.astype("Int64")
    sign = values.lt(0).map({True: "-", False: ""}).astype("string")
    absolute = values.abs()
    return sign + (absolute // 100).astype("string") + "." + (absolute % 100).astype("string").str.zfill(2)


def expected_app(app: pd.DataFrame, options: Options) -> pd.DataFrame:
    """App records QuickBooks should hold: not deleted, not draft (unless drafts sync) or a never-synced
    void; a linked record always counts (QuickBooks has a copy whatever happened to it since)."""
    linked = app["external_id"].notna()
    skipped = app["deleted"]
    invoices = app["entity_type"] == "invoice"
    skipped |= invoices & app["status"].eq("void").fillna(False)
    if not options.include_drafts:
        skipped |= invoices & app["status"].eq("draft").fillna(False)
    return app[linked | ~skipped]


def _duplicates(qbo: pd.DataFrame, linked_ids: pd.DataFrame) -> pd.Series:
    """True for QuickBooks objects that repeat the number of another object of the same type and are not
    the app's own copy: the linked one is kept; with none linked, the lowest Id is kept."""
    keyed = qbo.merge(linked_ids, on=["entity_type", "external_id"], how="left", indicator="_link")
    keyed.index = qbo.index
    linked = keyed["_link"].eq("both")
    numbered = qbo["number"].notna() & qbo["entity_type"].isin(NUMBERED_ONCE)
    id_num = pd.to_numeric(qbo["external_id"], errors="coerce").fillna(0)
    order = pd.DataFrame(
        {"t": qbo["entity_type"], "n": qbo["number"], "unlinked": ~linked, "id": id_num}, index=qbo.index
    )[numbered]
    order = order.sort_values(["t", "n", "unlinked", "id"])
    repeated = order.duplicated(subset=["t", "n"], keep="first") & order["unlinked"]
    return repeated.reindex(qbo.index, fill_value=False).astype(bool)


def classify(app: pd.DataFrame, qbo: pd.DataFrame, stripe: pd.DataFrame, options: Options) -> Classified:
    """Classify every record of the three systems (see the module docstring)."""
    app = expected_app(app, options).copy()
    app["record"] = "app:" + app["entity_type"] + ":" + app["app_id"]
    qbo = qbo.copy()
    qbo["record"] = "qbo:" + qbo["entity_type"] + ":" + qbo["external_id"]
    parts: list[pd.DataFrame] = []

    linked_ids = app.loc[app["external_id"].notna(), ["entity_type", "external_id"]].drop_duplicates()
    dup_mask = _duplicates(qbo, linked_ids)
    dups = qbo[dup_mask].rename(columns={"amount": "qbo_amount"})
    kept = qbo[~dup_mask]

    # --- linked app records against their QuickBooks object
    linked = app[app["external_id"].notna()].merge(
        kept[["entity_type", "external_id", "amount", "balance", "voided", "number", "sync_token"]],
        on=["entity_type", "external_id"],
        how="left",
        suffixes=("", "_qbo"),
        indicator="_found",
    )
    linked = linked.rename(columns={"amount": "app_amount", "amount_qbo": "qbo_amount"})
    found = linked["_found"].eq("both")
    deleted = linked["deleted"]
    gone = linked[~found & ~deleted]
    parts.append(
        _rows(
            gone,
            "missing_in_qbo",
            ACTIONS["missing_in_qbo_deleted"],
            "linked to QuickBooks "
            + gone["entity_type"].map(options.names)
            + " "
            + gone["external_id"]
            + ", which QuickBooks no longer returns",
        )
    )
    both = linked[found]
    app_void = both["status"].eq("void").fillna(False)
    qbo_void = both["voided"].astype(bool)
    still_there = both[both["deleted"] & ~qbo_void]
    parts.append(
        _rows(
            still_there,
            "status_mismatch",
            ACTIONS["status_mismatch_deleted"],
            "deleted in the app; QuickBooks still has it",
        )
    )
    live = both[~both["deleted"]]
    app_void, qbo_void = app_void[~both["deleted"]], qbo_void[~both["deleted"]]
    void_differs = app_void != qbo_void
    parts.append(
        _rows(
            live[void_differs & app_void],
            "status_mismatch",
            ACTIONS["status_mismatch"],
            "void in the app, open in QuickBooks",
        )
    )
    parts.append(
        _rows(
            live[void_differs & qbo_void],
            "status_mismatch",
            ACTIONS["status_mismatch_qbo_void"],
            "voided in QuickBooks, not in the app",
        )
    )
    compared = live[~app_void & ~qbo_void]
    diff = (compared["qbo_amount"] - compared["app_amount"]).fillna(0)
    rounding_ok = compared["entity_type"].isin(ROUNDING_TYPES)
    sub_cent = compared["exact_amount"].notna()  # reported below on its own, whatever QuickBooks holds
    within = diff.abs().le(options.tolerance_cents) & diff.ne(0) & rounding_ok & ~sub_cent
    mismatch = diff.ne(0) & ~within & ~sub_cent
    is_customer = compared["entity_type"] == "customer"
    name_differs = is_customer & compared["number"].ne(compared["number_qbo"]).fillna(False)
    mis = compared[mismatch]
    parts.append(
        _rows(
            mis,
            "amount_mismatch",
            ACTIONS["amount_mismatch"],
            "QuickBooks "
            + _money_text(mis["qbo_amount"])
            + " vs app "
            + _money_text(mis["app_amount"])
            + " (difference "
            + _money_text(mis["qbo_amount"] - mis["app_amount"])
            + ")",
        )
    )
    odd = app[app["exact_amount"].notna()].rename(columns={"amount": "app_amount"})
    parts.append(
        _rows(
            odd,
            "amount_mismatch",
            ACTIONS["amount_mismatch_sub_cent"],
            "the app amount "
            + odd["exact_amount"]
            + " has more than two decimals: it has no exact amount in cents, so it matches nothing",
        )
    )
    rnd = compared[within]
    parts.append(
        _rows(
            rnd,
            "rounding",
            ACTIONS["rounding"],
            "QuickBooks "
            + _money_text(rnd["qbo_amount"])
            + " vs app "
            + _money_text(rnd["app_amount"])
            + " (within the tolerance)",
        )
    )
    bal = compared[
        ~mismatch & ~within & ~is_customer & compared["balance"].ne(compared["balance_qbo"]).fillna(False)
    ]
    parts.append(
        _rows(
            bal,
            "status_mismatch",
            ACTIONS["status_mismatch"],
            "balance: QuickBooks "
            + _money_text(bal["balance_qbo"])
            + " vs app "
            + _money_text(bal["balance"]),
        )
    )
    names = compared[name_differs]
    parts.append(
        _rows(
            names,
            "status_mismatch",
            ACTIONS["status_mismatch"],
            "name: QuickBooks '"
            + names["number_qbo"].fillna("")
            + "' vs app '"
            + names["number"].fillna("")
            + "'",
        )
    )

    # --- unlinked app records: QuickBooks has one with the same number, or nothing
    claimed = set(zip(linked.loc[found, "entity_type"], linked.loc[found, "external_id"], strict=True))
    free = kept[
        ~pd.Series(
            [(t, e) in claimed for t, e in zip(kept["entity_type"], kept["external_id"], strict=True)],
            index=kept.index,
            dtype=bool,
        )
    ]
    free_numbered = free[free["number"].notna()].drop_duplicates(["entity_type", "number"])
    loose = app[app["external_id"].isna()].drop(columns=["external_id"])
    by_number = loose.merge(
        free_numbered[["entity_type", "number", "external_id", "amount"]],
        on=["entity_type", "number"],
        how="left",
        suffixes=("", "_qbo"),
        indicator="_found",
    ).rename(columns={"amount": "app_amount", "amount_qbo": "qbo_amount"})
    hit = by_number["_found"].eq("both")
    parts.append(
        _rows(
            by_number[hit],
            "unlinked",
            ACTIONS["unlinked"],
            "QuickBooks has " + by_number.loc[hit, "number"] + " with no link to the app record",
        )
    )
    never = by_number[~hit].copy()
    never["external_id"] = pd.NA  # a scalar: assigning a Series to an empty frame would adopt its index
    parts.append(_rows(never, "missing_in_qbo", ACTIONS["missing_in_qbo"], "never pushed to QuickBooks"))

    # --- QuickBooks objects nobody in the app accounts for
    taken = set(zip(by_number.loc[hit, "entity_type"], by_number.loc[hit, "external_id"], strict=True))
    orphan_mask = [(t, e) not in taken for t, e in zip(free["entity_type"], free["external_id"], strict=True)]
    orphans = free[pd.Series(orphan_mask, index=free.index, dtype=bool)].rename(
        columns={"amount": "qbo_amount"}
    )
    parts.append(
        _rows(
            orphans,
            "missing_in_app",
            ACTIONS["missing_in_app"],
            "QuickBooks "
            + orphans["entity_type"].map(options.names)
            + " "
            + orphans["external_id"]
            + " has no app record",
        )
    )
    by_num = app[["entity_type", "number", "app_id"]].dropna().drop_duplicates(["entity_type", "number"])
    dups = dups.merge(by_num, on=["entity_type", "number"], how="left")
    parts.append(
        _rows(
            dups,
            "duplicate_in_qbo",
            ACTIONS["duplicate_in_qbo"],
            "a second QuickBooks "
            + dups["entity_type"].map(options.names)
            + " numbered "
            + dups["number"]
            + " (Id "
            + dups["external_id"]
            + ")",
        )
    )

    # --- Stripe charges against app payments
    records = [
        app[["record", "entity_type", "amount"]],
        orphans[["record", "entity_type", "qbo_amount"]].rename(columns={"qbo_amount": "amount"}),
        dups[["record", "entity_type", "qbo_amount"]].rename(columns={"qbo_amount": "amount"}),
    ]
    if options.stripe_checked:
        stripe_parts, stripe_records = _stripe(app, stripe)
        parts.extend(stripe_parts)
        records.append(stripe_records)

    disc = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
    discrepancies = (
        disc
        if disc is not None
        else pd.DataFrame({n: pd.Series(dtype=d) for n, d in DISCREPANCY_COLUMNS.items()})
    )
    all_records = (
        pd.concat([r for r in records if len(r)], ignore_index=True)
        if any(len(r) for r in records)
        else pd.DataFrame({n: pd.Series(dtype=d) for n, d in RECORD_COLUMNS.items()})
    )
    out = _payout_actions(discrepancies.astype(DISCREPANCY_COLUMNS))
    if options.system != "QuickBooks":  # the same findings, in the words of the company's system
        for column in ("detail", "action"):
            out[column] = out[column].str.replace("QuickBooks", options.system, regex=False)
    return Classified(all_records.astype(RECORD_COLUMNS), out)


def _payout_actions(disc: pd.DataFrame) -> pd.DataFrame:
    """A payout's Deposit is booked by the payout flow, never by a push: its own actions (and repair, which
    pushes app-owned records, leaves it alone)."""
    payout = disc["entity_type"].eq("payout")
    missing = payout & disc["kind"].isin(("missing_in_qbo", "unlinked"))
    disc.loc[missing, "action"] = ACTIONS["payout_missing"]
    disc.loc[payout & disc["kind"].eq("amount_mismatch"), "action"] = ACTIONS["payout_amount"]
    return disc


def _stripe(app: pd.DataFrame, stripe: pd.DataFrame) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    payments = app[(app["entity_type"] == "payment") & ~app["deleted"]]
    charges = stripe[stripe["status"] == "succeeded"].rename(
        columns={"amount": "stripe_amount", "refunded": "stripe_refunded"}
    )
    cols = ["charge_id", "payment_intent_id", "stripe_amount", "stripe_refunded"]
    by_charge = payments[payments["stripe_charge_id"].notna()].merge(
        charges[cols], left_on="stripe_charge_id", right_on="charge_id", how="inner"
    )
    matched_charges = set(by_charge["charge_id"])
    rest = charges[~charges["charge_id"].isin(matched_charges)]
    by_intent = payments[
        payments["stripe_charge_id"].isna() & payments["stripe_payment_intent_id"].notna()
    ].merge(rest[cols], left_on="stripe_payment_intent_id", right_on="payment_intent_id", how="inner")
    pairs = pd.concat([by_charge, by_intent], ignore_index=True).rename(columns={"amount": "app_amount"})
    pairs["stripe_id"] = pairs["charge_id"]
    parts: list[pd.DataFrame] = []
    amount_off = pairs[pairs["stripe_amount"].ne(pairs["app_amount"]).fillna(False)]
    parts.append(
        _rows(
            amount_off,
            "amount_mismatch",
            ACTIONS["amount_mismatch_stripe"],
            "Stripe charged "
            + _money_text(amount_off["stripe_amount"])
            + " vs app "
            + _money_text(amount_off["app_amount"]),
        )
    )
    refund_off = pairs[
        pairs["stripe_amount"].eq(pairs["app_amount"]).fillna(False)
        & pairs["stripe_refunded"].ne(pairs["refunded"].fillna(0)).fillna(False)
    ]
    parts.append(
        _rows(
            refund_off,
            "amount_mismatch",
            ACTIONS["amount_mismatch_stripe"],
            "refunded: Stripe "
            + _money_text(refund_off["stripe_refunded"])
            + " vs app "
            + _money_text(refund_off["refunded"].fillna(0)),
        )
    )
    with_ids = payments[payments["stripe_charge_id"].notna() | payments["stripe_payment_intent_id"].notna()]
    unmatched = with_ids[~with_ids["app_id"].isin(set(pairs["app_id"]))].rename(
        columns={"amount": "app_amount"}
    )
    unmatched = unmatched.assign(
        stripe_id=unmatched["stripe_charge_id"].fillna(unmatched["stripe_payment_intent_id"])
    )
    parts.append(
        _rows(
            unmatched,
            "unlinked",
            ACTIONS["unlinked_stripe"],
            "Stripe returns no succeeded charge " + unmatched["stripe_id"].fillna(""),
        )
    )
    used = set(pairs["charge_id"])
    orphans = charges[~charges["charge_id"].isin(used)].assign(
        entity_type="payment", external_id=None, stripe_id=lambda d: d["charge_id"]
    )
    orphans["record"] = "stripe:" + orphans["charge_id"]
    parts.append(
        _rows(
            orphans,
            "orphan_stripe_charge",
            ACTIONS["orphan_stripe_charge"],
            "Stripe charge "
            + orphans["charge_id"]
            + " ("
            + orphans["payment_intent_id"].fillna("no intent")
            + ") has no app payment",
        )
    )
    records = orphans[["record", "entity_type", "stripe_amount"]].rename(columns={"stripe_amount": "amount"})
    return parts, records


# Discrepancies the app owns: a targeted push fixes them (the repair of flows/reconcile.py).
APP_OWNED = frozenset(
    ACTIONS[k]
    for k in ("missing_in_qbo", "missing_in_qbo_deleted", "amount_mismatch", "status_mismatch", "unlinked")
)
