"""Reconciliation at scale: 100,000 invoices per system (plus 100,000 payments and their Stripe charges),
built as the three DataFrames the loaders produce, with ~1 % discrepancies of every class; times the
join / classify / accuracy step and prints wall seconds and the peak RSS of the process.

    .venv/bin/python -m bench.reconcile [--invoices 100000] [--json]

The bar (issue 7): under 15 s and under 1.5 GB RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from connectors.reconcile.accuracy import discrepancy_rows, summarize
from connectors.reconcile.classify import Options, classify
from connectors.reconcile.frames import APP_COLUMNS, QBO_COLUMNS, STRIPE_COLUMNS, from_columns


def _text(prefix: str, values: np.ndarray) -> np.ndarray:
    return np.char.add(prefix, values.astype(str)).astype(object)


def build(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    inv_amount = rng.integers(1_000, 5_000_000, n)  # cents
    pay_amount = rng.integers(1_000, 2_000_000, n)
    inv_ext, pay_ext = _text("", idx + 1), _text("", idx + n + 1)
    # app
    app_inv = {
        "entity_type": np.full(n, "invoice", object),
        "app_id": _text("inv-", idx),
        "number": _text("INV-", idx),
        "amount": inv_amount,
        "balance": inv_amount,
        "status": np.full(n, "sent", object),
        "deleted": np.zeros(n, bool),
        "external_id": inv_ext.copy(),
        "stripe_charge_id": np.full(n, None, object),
        "stripe_payment_intent_id": np.full(n, None, object),
        "refunded": np.full(n, None, object),
    }
    app_pay = {
        "entity_type": np.full(n, "payment", object),
        "app_id": _text("pay-", idx),
        "number": _text("ch_", idx),
        "amount": pay_amount,
        "balance": np.full(n, None, object),
        "status": np.full(n, "succeeded", object),
        "deleted": np.zeros(n, bool),
        "external_id": pay_ext.copy(),
        "stripe_charge_id": _text("ch_", idx),
        "stripe_payment_intent_id": _text("pi_", idx),
        "refunded": np.zeros(n, np.int64),
    }
    # QBO: the same, then the discrepancies
    q_inv_amount = inv_amount.copy()
    q_inv_amount[idx % 100 == 1] += 500  # amount edited in QuickBooks
    q_inv_amount[idx % 100 == 2] += 1  # one-cent tax
    app_inv["external_id"][idx % 100 == 3] = None  # lost link (QuickBooks has it by number)
    keep = idx % 100 != 4  # deleted in QuickBooks
    qbo_inv = {
        "entity_type": np.full(n, "invoice", object),
        "external_id": inv_ext,
        "number": app_inv["number"],
        "amount": q_inv_amount,
        "balance": q_inv_amount,
        "voided": np.zeros(n, bool),
        "sync_token": np.full(n, "0", object),
    }
    qbo_pay = {
        "entity_type": np.full(n, "payment", object),
        "external_id": pay_ext,
        "number": app_pay["number"],
        "amount": pay_amount,
        "balance": np.full(n, None, object),
        "voided": np.zeros(n, bool),
        "sync_token": np.full(n, "0", object),
    }
    app = pd.concat(
        [from_columns(app_inv, APP_COLUMNS), from_columns(app_pay, APP_COLUMNS)], ignore_index=True
    )
    qbo_frames = [from_columns(qbo_inv, QBO_COLUMNS)[keep], from_columns(qbo_pay, QBO_COLUMNS)]
    extra = n // 100
    dups = from_columns(qbo_inv, QBO_COLUMNS).iloc[idx[idx % 100 == 5]].copy()
    dups["external_id"] = _text("dup-", np.arange(len(dups)))
    only = from_columns(qbo_inv, QBO_COLUMNS).iloc[:extra].copy()
    only["external_id"] = _text("qbo-only-", np.arange(extra))
    only["number"] = _text("QB-", np.arange(extra))
    qbo = pd.concat([*qbo_frames, dups, only], ignore_index=True)
    charges = {
        "charge_id": _text("ch_", np.arange(n + extra)),
        "payment_intent_id": _text("pi_", np.arange(n + extra)),
        "amount": np.concatenate([pay_amount, rng.integers(1_000, 100_000, extra)]),
        "refunded": np.zeros(n + extra, np.int64),
        "fee": np.full(n + extra, 30, np.int64),
        "net": np.zeros(n + extra, np.int64),
        "status": np.full(n + extra, "succeeded", object),
    }
    return app, qbo, from_columns(charges, STRIPE_COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    app, qbo, stripe = build(args.invoices)
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = classify(app, qbo, stripe, Options(tolerance_cents=1))
    summary = summarize(result, app, qbo, stripe)
    rows = discrepancy_rows(result.discrepancies)
    wall = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out = {
        "invoices_per_system": args.invoices,
        "app_rows": len(app),
        "qbo_rows": len(qbo),
        "stripe_rows": len(stripe),
        "build_seconds": round(built, 2),
        "reconcile_seconds": round(wall, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "discrepancies": len(rows),
        "counts": summary["counts"],
        "accuracy_pct": str(summary["accuracy_pct"]),
        "amount_accuracy_pct": str(summary["amount_accuracy_pct"]),
        "under_15s": wall < 15,
        "under_1_5gb": peak_mb < 1536,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key, value in out.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
