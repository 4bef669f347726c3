"""The text of notifications: what failed, for which company and record, the error, and the fix."""

from __future__ import annotations

from typing import Any

MAX_LISTED = 10


def _fix(failure: dict[str, Any], company: str) -> str:
    if failure.get("status") == "retrying":
        return "nothing yet: the retry sweep sends it again with backoff"
    return f'fix the cause above, then `sierra-sync run replay-failed --company "{company}"`'


def sync_problems(company: str, flow_name: str, summary: dict[str, Any]) -> tuple[str, str] | None:
    """(subject, body) when a push or sync left failed or retrying records, else None.

    `summary` is a push summary ({"failures": [...]}) or a sync result ({"push": …, "pull": …})."""
    failures: list[dict[str, Any]] = []
    for part in (summary, summary.get("push") or {}, summary.get("pull") or {}):
        failures += [f for f in part.get("failures") or [] if isinstance(f, dict)]
    if not failures:
        return None
    failed = sum(1 for f in failures if f.get("status", "failed") == "failed")
    level = "failed" if failed else "degraded"
    subject = f"sierra-sync: {flow_name} {level} for {company} ({len(failures)} record(s))"
    lines = [f"{flow_name} for {company}: {failed} failed, {len(failures) - failed} retrying."]
    for f in failures[:MAX_LISTED]:
        code = f" [{f['code']}]" if f.get("code") else ""
        lines.append(
            f"- {f.get('entity_type', 'record')} {f.get('label', f.get('external_id', '?'))}{code}: "
            f"{f.get('message', 'no message')} -> fix: {_fix(f, company)}"
        )
    if len(failures) > MAX_LISTED:
        lines.append(f"… and {len(failures) - MAX_LISTED} more (sierra-sync logs export --company …)")
    return subject, "\n".join(lines)


def health_problems(rows: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(subject, body) for connections that are not healthy (rows of `Health.as_row`), else None."""
    bad = [r for r in rows if r["status"] != "healthy"]
    if not bad:
        return None
    worst = "failing" if any(r["status"] == "failing" for r in bad) else "degraded"
    subject = f"sierra-sync: {len(bad)} QuickBooks connection(s) {worst}"
    lines = [f"- {r['company']}: {r['status']}: {r['findings']} -> fix: {r['fix']}" for r in bad[:MAX_LISTED]]
    return subject, "\n".join(lines)


__all__ = ["health_problems", "sync_problems"]
