"""`sierra-sync watch`: start an incremental sync for each company whose money data just changed.

Changes come from `connectors.watch.ChangeWatcher` (LISTEN/NOTIFY on PostgreSQL, polling on SQLite). Only
companies with a connected QuickBooks integration are synced; a failed sync is reported on one line and the
watcher keeps going. Syncs run one after another in this process: changes made meanwhile are gathered and
start the next round.

SIGTERM or Ctrl-C stops it in order (sierra_core.shutdown): no new sync starts, a push in progress ends after
the batch request in flight (its outcome recorded; records not reached go with the next sync), exit 0.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import typer
from sqlalchemy import Engine, select

from connectors.watch import CHANNEL, ChangeBatch, ChangeWatcher
from sierra_core.db.engine import redact_url
from sierra_core.db.models import Company, Integration
from sierra_core.redact import redact_text
from sierra_core.settings import get_settings
from sierra_core.shutdown import StopRequest, run_until_stopped, stop_on_signals
from sierra_sync.cli.common import open_engine, require_current_schema

SyncCallback = Callable[[str], object]


def default_incremental_sync(company_id: str) -> object:
    """Run the `incremental-sync` flow for one company in this process (trigger "realtime" when the flow
    takes one)."""
    # Looked up on first use: Prefect is slow to import, and the flow module is the lead's to provide.
    incremental_sync = importlib.import_module("flows.sync").incremental_sync
    kwargs: dict[str, Any] = {"company": company_id}
    if "trigger" in inspect.signature(getattr(incremental_sync, "fn", incremental_sync)).parameters:
        kwargs["trigger"] = "realtime"
    return incremental_sync(**kwargs)


def connected_companies(engine: Engine, company_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Of `company_ids`, those with a connected QuickBooks integration: id -> name."""
    ids = list(company_ids)
    if not ids:
        return {}
    stmt = (
        select(Company.id, Company.name)
        .join(Integration, Integration.company_id == Company.id)
        .where(
            Company.id.in_(ids),
            Company.deleted_at.is_(None),
            Integration.integration_type == "quickbooks_online",
            Integration.connection_status == "connected",
        )
    )
    with engine.connect() as conn:
        return {row.id: row.name for row in conn.execute(stmt)}


@dataclass
class WatchTotals:
    batches: int = 0
    changed: int = 0
    synced: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    cut_short: list[str] = field(default_factory=list)  # syncs a stop ended early (the next sync goes on)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return redact_text(text.splitlines()[0] if text else type(err).__name__)


def _stopped_early(result: object) -> bool:
    push = result.get("push") if isinstance(result, dict) else None
    return isinstance(push, dict) and bool(push.get("stopped"))


def run_watch(
    engine: Engine,
    batches: Iterable[ChangeBatch],
    sync: SyncCallback = default_incremental_sync,
    *,
    as_json: bool = False,
    stop: StopRequest | None = None,
) -> WatchTotals:
    """For each batch, call `sync(company_id)` for every changed company with a connected QuickBooks
    integration. A failing sync costs one line on stderr; the loop goes on. Once `stop` is requested no
    further sync starts. Returns the totals."""
    totals = WatchTotals()
    for batch in batches:
        totals.batches += 1
        totals.changed += len(batch.company_ids)
        connected = connected_companies(engine, batch.company_ids)
        report: dict[str, Any] = {
            "event": "batch",
            "source": batch.source,
            "changed": [str(c) for c in batch.company_ids],
            "synced": [],
            "skipped": [str(c) for c in batch.company_ids if c not in connected],
            "failed": [],
            "cut_short": [],
        }
        totals.skipped += len(report["skipped"])
        if not as_json:
            typer.echo(
                f"{len(batch.company_ids)} companies changed ({batch.source}); "
                f"{len(connected)} connected to QuickBooks"
            )
        for company_id, name in connected.items():
            if stop is not None and stop.requested():
                break  # the next scheduled sync takes them
            try:
                result = sync(str(company_id))
            except Exception as err:  # one company's failure must not stop the others (logged, not retried)
                totals.failed.append(str(company_id))
                report["failed"].append({"company_id": str(company_id), "error": _first_line(err)})
                print(
                    f"error: incremental sync of {name} ({company_id}) failed: {_first_line(err)}",
                    file=sys.stderr,
                )
                continue
            totals.synced += 1
            report["synced"].append(str(company_id))
            if _stopped_early(result):
                totals.cut_short.append(str(company_id))
                report["cut_short"].append(str(company_id))
                if not as_json:
                    typer.echo(
                        f"stopped the sync of {name} ({company_id}) early: the next sync does the rest"
                    )
            elif not as_json:
                typer.echo(f"synced {name} ({company_id})")
        if as_json:
            typer.echo(json.dumps(report))
    return totals


def watch(
    debounce: float = typer.Option(2.0, min=0, help="Seconds to gather changes before syncing each company."),
    poll_interval: float = typer.Option(5.0, min=0.1, help="Seconds between polls (SQLite)."),
    once: bool = typer.Option(False, "--once", help="Stop after the first batch of changes."),
    max_seconds: float | None = typer.Option(None, min=0, help="Stop after this many seconds."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object per line (ready, batches, end)."
    ),
) -> None:
    """Start an incremental push for each company whose data changes (LISTEN/NOTIFY on PostgreSQL, polling
    on SQLite). Runs until stopped (Ctrl-C, SIGTERM, --once, --max-seconds); exits 1 if any sync failed.
    A stop lets the push in progress finish its batch request in flight, then ends it (exit 0)."""
    engine = open_engine()
    require_current_schema(engine)

    def announce() -> None:
        how = f"LISTEN {CHANNEL}" if watcher.mode == "listen" else f"polling every {poll_interval:g} s"
        if as_json:
            typer.echo(
                json.dumps({"event": "ready", "mode": watcher.mode, "database": redact_url(engine.url)})
            )
        else:
            typer.echo(f"watching {redact_url(engine.url)} ({how}, debounce {debounce:g} s)")
        sys.stdout.flush()

    with stop_on_signals() as stop:
        watcher = ChangeWatcher(
            engine,
            debounce=debounce,
            poll_interval=poll_interval,
            max_batches=1 if once else None,
            stop_after=max_seconds,
            on_ready=announce,
        )
        stop.on_stop(watcher.stop)
        # The syncs run in a worker thread: a signal stops the loop between units, never in a push's middle.
        totals = run_until_stopped(
            lambda: run_watch(engine, watcher, as_json=as_json, stop=stop),
            stop,
            grace=get_settings().stop_grace_seconds,
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "event": "stopped",
                    "batches": totals.batches,
                    "synced": totals.synced,
                    "skipped": totals.skipped,
                    "failed": len(totals.failed),
                }
            )
        )
    else:
        typer.echo(
            f"stopped after {totals.batches} batches: {totals.synced} synced, {totals.skipped} skipped "
            f"(not connected), {len(totals.failed)} failed"
        )
    if totals.failed:
        raise typer.Exit(1)
