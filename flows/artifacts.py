"""Prefect artifacts that flows publish: per-entity summary tables, the dry-run plan, failures."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.naming import artifact_key, company_name

COLUMNS = ("created", "updated", "linked", "voided", "skipped", "conflicts", "failed", "retrying")


def publish_push(summary: dict[str, Any], *, company: str, company_id: str, title: str, flow: str) -> None:
    """The per-entity summary (key `<company>-<flow>`), the dry-run plan and the failures to fix."""
    company = company_name(company_id)
    rows = [
        {"entity": entity, **{c: counts.get(c, 0) for c in COLUMNS}}
        for entity, counts in summary["counts"].items()
    ]
    create_table_artifact(
        table=rows or [{"entity": "-", **dict.fromkeys(COLUMNS, 0)}],
        key=artifact_key(company_id, flow),
        description=f"{title} for {company}: records per entity type",
    )
    if summary.get("plan") is not None:
        create_table_artifact(
            table=summary["plan"] or [{"action": "none", "reason": "nothing to push"}],
            key=artifact_key(company_id, flow, "plan"),
            description=f"Dry run for {company}: what a push would do, with reasons (nothing was written)",
        )
    failures = summary.get("failures") or []
    if failures:
        lines = [f"# {title} for {company}: {len(failures)} record(s) need attention", ""]
        lines += [f"- **{f['label']}** ({f['status']}): {f['message']}" for f in failures[:50]]
        create_markdown_artifact(
            markdown="\n".join(lines),
            key=artifact_key(company_id, flow, "failures"),
            description="What to fix",
        )
