"""The reconcile flow for real (Prefect test server, QBO sandbox, both dialects): result schema, CSV, chart,
run and item rows, and repair=True fixing what the app owns while the QuickBooks duplicate stays."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from flows.reconcile import reconcile
from sierra_core.db.models import Invoice, ReconciliationItem, ReconciliationRun
from sierra_core.settings import get_settings
from tests.connectors.reconcile.test_reconcile_sandbox import client_of, link_of, qbo_copy

PERIOD: dict[str, Any] = {
    "period_start": date(2000, 1, 1),
    "period_end": date(2099, 12, 31),
    "check_stripe": False,
}


def test_reconcile_then_repair(flow_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SIERRA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    env = flow_env
    env.push()
    company = str(env.connection.company_id)
    with env.sessions() as s:
        invoices = [
            i
            for i in s.scalars(select(Invoice).order_by(Invoice.invoice_number))
            if i.status == "sent" and i.balance == i.total and link_of(env, "invoice", i.id)
        ]
    gone, edited, duplicated = invoices[:3]
    with client_of(env) as client:
        obj = client.read("Invoice", link_of(env, "invoice", gone.id).external_id)
        client.delete("Invoice", obj["Id"], obj["SyncToken"], "flow-test-delete")
        obj = client.read("Invoice", link_of(env, "invoice", edited.id).external_id)
        tax = Decimal(str(obj["TxnTaxDetail"]["TotalTax"])) + Decimal("12.34")
        body = {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "TxnTaxDetail": {"TotalTax": tax}}
        client.update("Invoice", body, "flow-test-edit")
    dup_id = link_of(env, "invoice", duplicated.id).external_id
    dup = next(o for o in env.qbo_items("Invoice") if o["Id"] == dup_id)  # wire JSON (no Decimal)
    env.qbo.admin("POST", f"realms/{env.connection.realm_id}/entities/Invoice", [qbo_copy(dup)])

    result = reconcile(company=company, **PERIOD)
    assert {k: v for k, v in result["counts"].items() if v and k != "matched"} == {
        "missing_in_qbo": 1,
        "amount_mismatch": 1,
        "duplicate_in_qbo": 1,
    }
    assert Decimal(result["accuracy_pct"]) < 100
    assert set(result["by_entity"]) == {"customer", "invoice", "payment", "expense", "payout"}
    row = next(d for d in result["discrepancies"] if d["kind"] == "amount_mismatch")
    assert set(row) >= {
        "entity_type",
        "kind",
        "app_id",
        "external_id",
        "app_amount",
        "qbo_amount",
        "stripe_amount",
        "action",
    }
    assert Decimal(row["qbo_amount"]) - Decimal(row["app_amount"]) == Decimal("12.34")
    with Path(result["report_csv"]).open() as fh:
        assert sorted(r["kind"] for r in csv.DictReader(fh)) == [
            "amount_mismatch",
            "duplicate_in_qbo",
            "missing_in_qbo",
        ]
    assert Path(result["report_csv"]).parent.parent == tmp_path / "reports"
    assert "<svg" in Path(result["chart_html"]).read_text()

    repaired = reconcile(company=company, repair=True, **PERIOD)
    rep = repaired["repair"]
    assert {f["kind"] for f in rep["fixed"]} == {"missing_in_qbo", "amount_mismatch"}
    assert [s["kind"] for s in rep["still_open"]] == ["duplicate_in_qbo"]
    assert rep["duplicates_left"] and rep["duplicates_deleted"] == []
    assert {k: v for k, v in repaired["counts"].items() if v and k != "matched"} == {"duplicate_in_qbo": 1}
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReconciliationRun)) == 3
        assert s.scalar(select(func.count()).select_from(ReconciliationItem)) == 3 + 3 + 1
    assert repaired["chart_html"] == result["chart_html"]
    assert Path(repaired["chart_html"]).read_text().count("<circle") == 2 * 3
