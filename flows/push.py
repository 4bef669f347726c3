"""push-to-quickbooks: send a company's records to QuickBooks Online, dependencies first, in batches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from prefect import flow

from flows.artifacts import publish_push
from flows.notify import notify_sync_problems
from tasks.naming import company_name, flow_name
from tasks.push import push_entities
from tasks.runtime import company_id_of

EntityType = Literal["customer", "invoice", "payment", "expense"]
Trigger = Literal["manual", "scheduled", "webhook", "realtime", "retry"]
ALL_TYPES: list[EntityType] = ["customer", "invoice", "payment", "expense"]


def _kind(params: Mapping[str, Any]) -> str:
    return "dry run to QuickBooks" if params.get("dry_run") else "push to QuickBooks"


@flow(name="push-to-quickbooks", flow_run_name=flow_name(_kind, "trigger"), validate_parameters=True)
def push_to_quickbooks(
    company: str,
    entity_types: list[EntityType] | None = None,
    ids: list[str] | None = None,
    dry_run: bool = False,
    trigger: Trigger = "manual",
    max_retries: int = 3,
) -> dict[str, Any]:
    """Push a company's new and changed customers, invoices, payments and expenses to QuickBooks Online.

    Args:
        company: Company id or exact name.
        entity_types: Which record types to push (dependencies such as an invoice's customer are pushed
            first even when not listed). Default: all four.
        ids: Push only these app record ids (any type).
        dry_run: Write nothing; publish the plan (create / update / skip / conflict, with reasons).
        trigger: Why this run happens (recorded on every sync-log row).
        max_retries: Durable retries for records that fail with a retryable error.
    """
    company_id = str(company_id_of(company))
    summary = push_entities(
        company_id,
        list(entity_types or ALL_TYPES),
        ids,
        dry_run=dry_run,
        trigger=trigger,
        max_retries=max_retries,
    )
    title = "Dry run" if dry_run else "Push"
    publish_push(summary, company=company, company_id=company_id, title=title, flow="push-to-quickbooks")
    if not dry_run:
        notify_sync_problems(company_name(company_id), "push-to-quickbooks", summary)
    return summary
