"""push-to-quickbooks as Prefect runs it: result, artifacts, dry run, bad input."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import func, select

from flows.push import push_to_quickbooks
from sierra_core.db.models import Company, IntegrationSyncLog
from sierra_core.errors import NotFoundError
from tasks.naming import slug


def _company_name(sessions):
    with sessions() as s:
        return s.scalar(select(Company.name))


def _artifact(key):
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

        return client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), limit=5
        )


def test_push_flow_returns_counts_and_publishes_artifacts(flow_env):
    name = _company_name(flow_env.sessions)
    summary = push_to_quickbooks(company=name)
    counts = summary["counts"]
    assert set(counts) == {"customer", "invoice", "payment", "expense"}
    assert all({"created", "updated", "skipped", "failed"} <= set(c) for c in counts.values())
    assert counts["invoice"]["created"] > 0
    company_id = summary["company_id"]
    assert company_id
    table = _artifact(f"{slug(name)}-push-to-quickbooks")  # one key per company and flow: the UI's history
    assert table and table[0].type == "table"
    with flow_env.sessions() as s:
        logs = s.scalar(select(func.count()).select_from(IntegrationSyncLog))
        flow_runs = set(s.scalars(select(IntegrationSyncLog.flow_run_id)))
    assert logs == sum(c["created"] + c["linked"] for c in counts.values())
    assert len(flow_runs) == 1 and None not in flow_runs  # every row names the run that made it


def test_dry_run_flow_publishes_the_plan_and_writes_nothing(flow_env):
    name = _company_name(flow_env.sessions)
    summary = push_to_quickbooks(company=name, dry_run=True, entity_types=["invoice"])
    assert summary["dry_run"] is True
    assert {row["action"] for row in summary["plan"]} >= {"create"}
    assert flow_env.qbo_items("Invoice") == []
    plan = _artifact(f"{slug(name)}-push-to-quickbooks-plan")
    assert plan and plan[0].type == "table"


def test_unknown_company_is_one_clear_error(flow_env):
    with pytest.raises(NotFoundError, match="no company"):
        push_to_quickbooks(company="Nobody Builders")
