"""Prefect artifacts that flows publish: per-entity summary tables, the dry-run plan, failures."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

COLUMNS = ("created", "updated", "linked", "voided", "skipped", "conflicts", "failed", "retrying")


def artifact_key(*parts: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in text)[:100].strip("-")


def publish_push(summary: dict[str, Any], *, company: str, company_id: str, title: str) -> None:
    rows = [
        {"entity": entity, **{c: counts.get(c, 0) for c in COLUMNS}}
        for entity, counts in summary["counts"].items()
    ]
    create_table_artifact(
        table=rows or [{"entity": "-", **dict.fromkeys(COLUMNS, 0)}],
        key=artifact_key("push-summary", company_id),
        description=f"{title} for {company}: records per entity type",
    )
    if summary.get("plan") is not None:
        create_table_artifact(
            table=summary["plan"] or [{"action": "none", "reason": "nothing to push"}],
            key=artifact_key("push-plan", company_id),
            description=f"Dry run for {company}: what a push would do, with reasons (nothing was written)",
        )
    failures = summary.get("failures") or []
    if failures:
        lines = [f"# {title} for {company}: {len(failures)} record(s) need attention", ""]
        lines += [f"- **{f['label']}** ({f['status']}): {f['message']}" for f in failures[:50]]
        create_markdown_artifact(
            markdown="\n".join(lines),
            key=artifact_key("push-failures", company_id),
            description="What to fix",
        )
