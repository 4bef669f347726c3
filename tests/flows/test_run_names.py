"""What the Prefect UI shows (read back from the test server): runs name the company by name, the kind of
run and its period or trigger; artifact keys are stable per company and flow; money reads as $1,234.56."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)

from flows.operations import health_table_row
from flows.reconcile import reconcile
from flows.sync import incremental_sync
from sierra_core.db.models import Company
from sierra_core.settings import get_settings
from tasks.naming import artifact_key, forget_names, period_label, slug

KEY = re.compile(r"^[a-z0-9-]+$")  # what Prefect accepts as an artifact key


def _run(state: Any) -> tuple[str, list[str], dict[str, str]]:
    """The flow run's name, its task runs' names and its artifacts (key -> description)."""
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    keyed = {a.key: str(a.data or "") for a in artifacts if a.key}  # progress artifacts have no key
    return run.name, sorted(t.name for t in tasks), keyed


def _rename(env: Any, name: str) -> str:
    with env.sessions.begin() as s:
        company = s.get(Company, env.connection.company_id)
        assert company is not None
        company.name = name
    forget_names()
    return str(env.connection.company_id)


def test_reconcile_run_task_and_artifacts_name_the_company_and_month(flow_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SIERRA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    company_id = _rename(flow_env, "Summit Ridge Builders")
    flow_env.push()
    state = reconcile(
        company=company_id,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        check_stripe=False,
        return_state=True,
    )
    assert state.is_completed()
    name, tasks, artifacts = _run(state)
    assert name == "reconcile · Summit Ridge Builders · 2026-10"
    assert tasks == ["reconcile books · Summit Ridge Builders · 2026-10"]
    assert set(artifacts) == {
        "summit-ridge-builders-reconcile",
        "summit-ridge-builders-reconcile-discrepancies",
    }
    summary = artifacts["summit-ridge-builders-reconcile"]
    assert summary.startswith("# Reconciliation of Summit Ridge Builders")
    amounts = re.findall(r"\| (\$[\d,]+\.\d\d) \|", summary)
    assert amounts, summary
    assert all(re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d", a) for a in amounts)


def test_sync_runs_by_name_and_trigger_with_a_stable_artifact_key(flow_env):
    company_id = _rename(flow_env, "Cañon & Sons, Inc.")
    first = incremental_sync(company=company_id, trigger="realtime", return_state=True)
    again = incremental_sync(company="Cañon & Sons, Inc.", return_state=True)  # by name this time
    name, tasks, artifacts = _run(first)
    assert name == "incremental sync · Cañon & Sons, Inc. · realtime"
    assert tasks == [
        "pull changes · Cañon & Sons, Inc. · realtime",
        "push to QuickBooks · Cañon & Sons, Inc. · realtime",
    ]
    assert "ca-on-sons-inc-incremental-sync" in artifacts
    assert all(KEY.match(key) for key in artifacts)
    name, _, artifacts_again = _run(again)
    assert name == "incremental sync · Cañon & Sons, Inc. · scheduled"
    assert "ca-on-sons-inc-incremental-sync" in artifacts_again  # the same key: the UI shows its history


def test_keys_and_periods():
    assert slug("Summit Ridge Builders") == "summit-ridge-builders"
    assert slug("  O'Brien -- Concrete & Co.  ") == "o-brien-concrete-co"
    unknown = str(uuid.uuid4())  # not in any database the test can reach: shown as given
    assert KEY.match(artifact_key(None, "reconcile-all-companies"))
    assert period_label(date(2026, 10, 1), date(2026, 10, 31)) == "2026-10"
    assert period_label(date(2026, 2, 1), date(2026, 2, 28)) == "2026-02"
    assert period_label(date(2026, 1, 1), date(2026, 12, 31)) == "2026"
    assert period_label(date(2026, 10, 3), date(2026, 11, 2)) == "2026-10-03..2026-11-02"
    assert unknown


def test_the_health_table_has_five_columns_that_say_what_to_do():
    row = {
        "company": "Summit Ridge Builders",
        "status": "failing",
        "token": "expired",
        "last_sync": "failed (3 min ago)",
        "failure_rate": "40.0% of 10",
        "pending_retries": 2,
        "open_failures": 4,
        "last_webhook": "never",
        "findings": "QuickBooks authorization expired",
        "fix": 'reconnect: `sierra-sync connect quickbooks --company "Summit Ridge Builders"`',
    }
    table = health_table_row(row)
    assert list(table) == ["company", "status", "last sync", "failures", "what to do"]
    assert table["failures"] == "40.0% of 10; 2 retrying, 4 open"
    assert table["what to do"].startswith("QuickBooks authorization expired: reconnect")
