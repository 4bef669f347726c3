"""rotate-tokens and health-check: the scheduled upkeep of every QuickBooks and Xero connection."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.notify import notify_health_problems
from tasks.operations import assess_health, refresh_tokens, rotate_key_if_old


@flow(name="rotate-tokens", flow_run_name="rotate tokens")
def rotate_tokens(
    refresh_within_minutes: int = 15, key_max_age_days: int = 60, reauthorize_within_days: int = 30
) -> dict[str, Any]:
    """Keep every connection's credentials alive and the encryption key young.

    Refreshes access tokens that expire within `refresh_within_minutes` (one refresh at a time per
    connection, across all workers); adds a new token-encryption key and re-seals every token when the
    newest key is older than `key_max_age_days`; flags (with a warning) connections whose refresh token
    ends within `reauthorize_within_days` or was rejected: a person must reconnect those.

    Args:
        refresh_within_minutes: Refresh access tokens expiring within this many minutes.
        key_max_age_days: Rotate the token-encryption key when its newest key is older than this.
        reauthorize_within_days: Flag connections whose authorization ends within this many days.
    """
    key = rotate_key_if_old(key_max_age_days)
    refreshed = refresh_tokens(refresh_within_minutes, reauthorize_within_days)
    counts = {
        **refreshed["counts"],
        "key_rotated": int(key["rotated"]),
        "tokens_resealed": key["resealed"],
        "webhook_secrets_resealed": key.get("webhook_secrets_resealed", 0),
        "values_left_on_old_keys": key.get("left_on_old_keys", 0),
    }
    create_table_artifact(
        table=[{"what": k.replace("_", " "), "count": v} for k, v in counts.items()],
        key="rotate-tokens",
        description=f"Token upkeep: newest encryption key {key['key_age_days']} days old",
    )
    return {"counts": counts, "warnings": refreshed["warnings"], "key": key}


def health_table_row(row: dict[str, Any]) -> dict[str, Any]:
    """Five columns that fit the Prefect UI's table on one page: who, verdict, last sync, failures, and
    what to do (findings with their fix)."""
    todo = row["findings"] if not row["fix"] else f"{row['findings']}: {row['fix']}"
    return {
        "company": row["company"],
        "status": row["status"],
        "last sync": row["last_sync"],
        "failures": f"{row['failure_rate']}; {row['pending_retries']} retrying, {row['open_failures']} open",
        "what to do": todo,
    }


@flow(name="health-check", flow_run_name="health check")
def health_check(window_hours: int = 24, notify: bool = True) -> dict[str, Any]:
    """Rate every connection healthy, degraded or failing from its token, last sync, failure rate,
    pending retries and webhook freshness (a Xero connection also from a live look: its organisation
    reachable, its calls left this minute and today); store the verdicts (integration_health), publish them
    as a table, and notify when one is not healthy.

    Args:
        window_hours: Failure rate over this many hours of sync attempts.
        notify: Send the unhealthy ones through the notification block (when one is configured).
    """
    logger = get_run_logger()
    rows = assess_health(window_hours)
    create_table_artifact(
        table=[health_table_row(r) for r in rows] or [{"company": "-", "status": "no connections"}],
        key="integration-health",
        description="Health of every QuickBooks and Xero connection (the flow's result has every figure)",
    )
    totals = {s: sum(1 for r in rows if r["status"] == s) for s in ("healthy", "degraded", "failing")}
    for row in rows:
        if row["status"] != "healthy":
            logger.warning("%s is %s: %s", row["company"], row["status"], row["findings"])
    notified = notify_health_problems(rows) if notify else False
    return {"totals": totals, "connections": rows, "notified": notified}
