"""Connection health of every accounting connection (QuickBooks Online, Xero): token validity, last sync,
failure rate, pending retries and webhook freshness give healthy / degraded / failing, with one reason (and
its fix) per finding. A Xero connection is also probed live (`xero_probe`: the organisation reachable, the
calls left this minute and today), added with `apply_probe`."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from connectors.ops.xero_probe import DAY_LIMIT, XeroProbe
from sierra_core.db.models import Company, Integration, IntegrationHealth, IntegrationSyncLog, WebhookEvent
from sierra_core.db.types import utcnow

RANK = {"healthy": 0, "degraded": 1, "failing": 2}
PROVIDERS = {"quickbooks_online": ("QuickBooks", "quickbooks"), "xero": ("Xero", "xero")}  # title, command
DAY_LOW = 0.1  # a Xero organisation with less than this share of its daily calls left is degraded


@dataclass(frozen=True)
class Thresholds:
    """When a figure turns a connection degraded or failing (defaults suit a 15-minute sync schedule)."""

    window: timedelta = timedelta(hours=24)
    degraded_failure_rate: float = 0.01
    failing_failure_rate: float = 0.25
    sync_stale_after: timedelta = timedelta(hours=1)
    sync_dead_after: timedelta = timedelta(hours=24)
    webhook_stale_after: timedelta = timedelta(hours=24)
    reauthorize_within: timedelta = timedelta(days=30)


@dataclass
class Finding:
    level: str  # degraded | failing
    what: str
    fix: str


@dataclass
class Health:
    integration_id: str
    company_id: str
    company: str
    status: str
    token_status: str
    last_sync_at: datetime | None
    last_sync_status: str | None
    failure_rate: float
    attempts_in_window: int
    pending_retries: int
    open_failures: int
    last_webhook_at: datetime | None
    findings: list[Finding] = field(default_factory=list)
    provider: str = "quickbooks_online"
    probe: dict[str, Any] | None = None  # the live look at a Xero connection (XeroProbe.as_dict)

    @property
    def summary(self) -> str:
        text = "; ".join(f.what for f in self.findings) or "all good"
        left = _calls_left(self.probe)
        return f"{text} ({left})" if left else text

    def as_row(self, now: datetime) -> dict[str, Any]:
        """A flat, JSON-ready row for tables and artifacts (ages in minutes, no secrets)."""

        def age(ts: datetime | None) -> str:
            return "never" if ts is None else f"{(now - ts).total_seconds() / 60:.0f} min"

        return {
            "company": self.company,
            "status": self.status,
            "token": self.token_status,
            "last_sync": f"{self.last_sync_status or '-'} ({age(self.last_sync_at)} ago)",
            "failure_rate": f"{100 * self.failure_rate:.1f}% of {self.attempts_in_window}",
            "pending_retries": self.pending_retries,
            "open_failures": self.open_failures,
            "last_webhook": age(self.last_webhook_at),
            "findings": self.summary,
            "fix": "; ".join(f.fix for f in self.findings),
            "provider": self.provider,
        }


def _calls_left(probe: dict[str, Any] | None) -> str | None:
    if not probe or not probe.get("reachable"):
        return None
    parts = [
        f"{probe[key]:,} {label}"
        for key, label in (("day_remaining", "today"), ("minute_remaining", "this minute"))
        if probe.get(key) is not None
    ]
    return "Xero calls left: " + ", ".join(parts) if parts else None


def token_status(row: Integration, now: datetime, reauthorize_within: timedelta) -> str:
    """valid | refresh_due | reauthorize_soon | expired | disconnected."""
    if row.connection_status == "expired":
        return "expired"
    if row.connection_status != "connected" or not row.refresh_token:
        return "disconnected"
    ends = [t for t in (row.refresh_token_expires_at, row.refresh_token_hard_expires_at) if t is not None]
    if ends and min(ends) <= now:
        return "expired"
    if ends and min(ends) - now <= reauthorize_within:
        return "reauthorize_soon"
    if row.expires_at is None or row.expires_at <= now:
        return "refresh_due"  # the next call (or rotate-tokens) refreshes it: not a problem by itself
    return "valid"


def _reconnect(h: Health) -> str:
    return f'reconnect: `sierra-sync connect {PROVIDERS[h.provider][1]} --company "{h.company}"`'


def _findings(h: Health, row: Integration, now: datetime, t: Thresholds, has_webhooks: bool) -> list[Finding]:
    reconnect = _reconnect(h)
    out: list[Finding] = []
    choices = (row.settings or {}).get("tenant_choices") if row.connection_status == "connecting" else None
    if choices and isinstance(choices, list):
        out.append(
            Finding(
                "failing",
                f"waiting for the organisation to be chosen among the {len(choices)} it reaches",
                f'`sierra-sync connect {PROVIDERS[h.provider][1]} --company "{h.company}" '
                "--tenant <id or name>`",
            )
        )
    elif h.token_status in ("expired", "disconnected"):
        out.append(
            Finding("failing", f"{PROVIDERS[h.provider][0]} authorization {h.token_status}", reconnect)
        )
    elif h.token_status == "reauthorize_soon":  # noqa: S105 - a status, not a secret
        out.append(Finding("degraded", "refresh token expires within 30 days", reconnect))
    if h.last_sync_at is None:
        out.append(Finding("degraded", "never synced", "run `sierra-sync run full-sync --company …`"))
    else:
        idle = now - h.last_sync_at
        if idle > t.sync_dead_after:
            out.append(
                Finding("failing", f"no sync for {idle.total_seconds() / 3600:.0f} h", "check the schedules")
            )
        elif idle > t.sync_stale_after:
            out.append(
                Finding(
                    "degraded",
                    f"last sync {idle.total_seconds() / 60:.0f} min ago",
                    "check that the incremental-sync-all deployment runs",
                )
            )
    if h.attempts_in_window and h.failure_rate >= t.failing_failure_rate:
        out.append(
            Finding("failing", f"{100 * h.failure_rate:.0f}% of sync attempts failed", "read the sync log")
        )
    elif h.attempts_in_window and h.failure_rate >= t.degraded_failure_rate:
        out.append(
            Finding(
                "degraded",
                f"{100 * h.failure_rate:.1f}% of sync attempts failed",
                "read `sierra-sync logs export`",
            )
        )
    if h.open_failures:
        out.append(
            Finding(
                "degraded",
                f"{h.open_failures} record(s) failed for good",
                "fix their cause, then run replay-failed",
            )
        )
    if h.pending_retries:
        out.append(
            Finding(
                "degraded", f"{h.pending_retries} record(s) waiting to retry", "the retry sweep handles them"
            )
        )
    if has_webhooks and (h.last_webhook_at is None or now - h.last_webhook_at > t.webhook_stale_after):
        out.append(
            Finding("degraded", "no webhook received lately", "check the webhook subscription and receiver")
        )
    return out


def assess(
    session: Session, now: datetime | None = None, thresholds: Thresholds | None = None
) -> list[Health]:
    """The health of every active QuickBooks and Xero connection (read-only; Xero's live probe is added by
    `apply_probe`)."""
    now = now or utcnow()
    t = thresholds or Thresholds()
    since = now - t.window
    rows = session.execute(
        select(Integration, Company.name)
        .join(Company, Company.id == Integration.company_id)
        .where(Integration.integration_type.in_(tuple(PROVIDERS)), Integration.is_active.is_(True))
        .order_by(Company.name)
    ).all()
    log = IntegrationSyncLog
    stats = {
        iid: (int(total or 0), int(failed or 0), int(retrying or 0))
        for iid, total, failed, retrying in session.execute(
            select(
                log.integration_id,
                func.count().filter(log.created_at >= since, log.status.in_(("success", "failed"))),
                func.count().filter(log.created_at >= since, log.status == "failed"),
                func.count().filter(log.status == "retrying"),
            ).group_by(log.integration_id)
        ).all()
    }
    open_failures = dict(
        session.execute(
            select(log.integration_id, func.count())
            .where(log.status == "failed", log.retried_by_id.is_(None))
            .group_by(log.integration_id)
        ).all()
    )
    webhooks = {
        (provider, company_id): at
        for provider, company_id, at in session.execute(
            select(WebhookEvent.provider, WebhookEvent.company_id, func.max(WebhookEvent.received_at))
            .where(WebhookEvent.provider.in_(tuple(PROVIDERS)))
            .group_by(WebhookEvent.provider, WebhookEvent.company_id)
        ).all()
    }
    out: list[Health] = []
    for row, name in rows:
        total, failed, retrying = stats.get(row.id, (0, 0, 0))
        h = Health(
            integration_id=str(row.id),
            company_id=str(row.company_id),
            company=name,
            status="healthy",
            token_status=token_status(row, now, t.reauthorize_within),
            last_sync_at=row.last_sync_at,
            last_sync_status=row.last_sync_status,
            failure_rate=(failed / total) if total else 0.0,
            attempts_in_window=total,
            pending_retries=retrying,
            open_failures=int(open_failures.get(row.id, 0)),
            last_webhook_at=webhooks.get((row.integration_type, row.company_id)),
            provider=row.integration_type,
        )
        h.findings = _findings(h, row, now, t, has_webhooks=bool(row.settings.get("webhooks_enabled")))
        h.status = max((f.level for f in h.findings), key=RANK.__getitem__, default="healthy")
        out.append(h)
    return out


def apply_probe(h: Health, probe: XeroProbe) -> Health:
    """Add what a live look at a Xero connection found: the organisation unreachable (failing: reconnect),
    its daily calls nearly or wholly spent (degraded: work waits for the next UTC day); the verdict is
    recomputed. The figures are kept on `h.probe` and shown in the summary."""
    h.probe = probe.as_dict()
    if not probe.reachable:
        h.findings.append(
            Finding("failing", f"Xero organisation not reachable: {probe.problem}", _reconnect(h))
        )
    elif probe.day_remaining is not None and probe.day_remaining <= 0:
        h.findings.append(
            Finding(
                "degraded",
                f"this organisation's {DAY_LIMIT:,} Xero calls of the day are spent",
                "nothing fails: the work waits for the next UTC day; spread large syncs over days",
            )
        )
    elif probe.day_remaining is not None and probe.day_remaining < DAY_LIMIT * DAY_LOW:
        h.findings.append(
            Finding(
                "degraded",
                f"only {probe.day_remaining:,} of {DAY_LIMIT:,} Xero calls left today",
                "the rest of the day's work may wait for the next UTC day; check what calls so much",
            )
        )
    h.status = max((f.level for f in h.findings), key=RANK.__getitem__, default="healthy")
    return h


def store(session: Session, results: list[Health], now: datetime | None = None) -> None:
    """Upsert one integration_health row per result (the caller commits)."""
    now = now or utcnow()
    existing = {
        r.integration_id: r
        for r in session.scalars(
            select(IntegrationHealth).where(
                IntegrationHealth.integration_id.in_([uuid.UUID(h.integration_id) for h in results])
            )
        )
    }
    for h in results:
        iid = uuid.UUID(h.integration_id)
        row = existing.get(iid) or IntegrationHealth(integration_id=iid, company_id=uuid.UUID(h.company_id))
        row.status, row.token_status = h.status, h.token_status
        row.last_sync_at, row.last_sync_status = h.last_sync_at, h.last_sync_status
        row.failure_rate, row.attempts_in_window = h.failure_rate, h.attempts_in_window
        row.pending_retries, row.open_failures = h.pending_retries, h.open_failures
        row.last_webhook_at = h.last_webhook_at
        row.reasons = [asdict(f) for f in h.findings]
        row.summary = h.summary
        row.checked_at = now
        session.add(row)


def latest(session: Session) -> list[tuple[str, IntegrationHealth]]:
    """The stored verdicts with their company names, worst first (what `sierra-sync health` prints)."""
    rows = session.execute(
        select(Company.name, IntegrationHealth)
        .join(Company, Company.id == IntegrationHealth.company_id)
        .order_by(case({"failing": 0, "degraded": 1}, value=IntegrationHealth.status, else_=2), Company.name)
    ).all()
    return [(name, h) for name, h in rows]


__all__ = [
    "PROVIDERS",
    "Finding",
    "Health",
    "Thresholds",
    "apply_probe",
    "assess",
    "latest",
    "store",
    "token_status",
]
