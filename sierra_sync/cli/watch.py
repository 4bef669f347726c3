"""`sierra-sync watch`: push each company's app edits to QuickBooks as they are committed.

Changes come from `connectors.watch.ChangeWatcher` (LISTEN/NOTIFY on PostgreSQL, polling on SQLite). Only
companies with a connected QuickBooks integration are synced, on `connectors.realtime.CompanyWorkers`: one
sync at a time per company (edits made while it syncs ride on one more sync right after), companies in
parallel. By default a sync is the warm real-time push of `tasks.realtime` (credentials read once, a Prefect
event per push); `--flow-runs` runs the `incremental-sync` flow instead (pull, then push; a flow run per
sync). A failed sync is reported on one line and the watcher keeps going.

SIGTERM or Ctrl-C stops it in order (sierra_core.shutdown): no new sync starts, a push in progress ends after
the batch request in flight (its outcome recorded; records not reached go with the next sync), exit 0.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import typer
from sqlalchemy import Engine, select

from connectors.realtime import CompanyWorkers, ShardedCompanyWorkers, SyncDone
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


def realtime_push(workers: int) -> SyncCallback:
    """The warm real-time push (tasks.realtime.WarmPush), made on the first sync (Prefect is slow to import,
    and a watch with nothing to sync never needs it), with a database pool sized for `workers` pushes."""
    made: list[Any] = []
    lock = threading.Lock()

    def push(company_id: str) -> object:
        with lock:
            if not made:
                # Each push holds two pooled connections (its push lease, its work): a default pool of 10
                # (+10 overflow) would let only 10 of `workers` companies push at once, the rest waiting.
                importlib.import_module("tasks.runtime").size_pool_for(workers)
                made.append(importlib.import_module("tasks.realtime").WarmPush())
        return made[0](uuid.UUID(company_id))

    return push


def shard_push(threads: int) -> Callable[[uuid.UUID], object]:
    """The warm push of one process of `watch --processes N` (connectors.realtime.ShardedCompanyWorkers),
    its database pool sized for `threads` pushes."""
    importlib.import_module("tasks.runtime").size_pool_for(threads)
    push: Callable[[uuid.UUID], object] = importlib.import_module("tasks.realtime").WarmPush()
    return push


SHARD_PUSH = "sierra_sync.cli.watch:shard_push"


def _announce_only(company_id: str) -> object:
    return importlib.import_module("tasks.realtime").emit_changed(uuid.UUID(company_id))


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
    """Whether a stop ended this sync part-way: the flow's result carries the push's summary under "push",
    the warm real-time push returns that summary itself."""
    if not isinstance(result, dict):
        return False
    push = result.get("push", result)
    return isinstance(push, dict) and bool(push.get("stopped"))


def run_watch(
    engine: Engine,
    batches: Iterable[ChangeBatch],
    sync: SyncCallback = default_incremental_sync,
    *,
    as_json: bool = False,
    stop: StopRequest | None = None,
    max_workers: int = 8,
    processes: int = 1,
    shard_factory: str = SHARD_PUSH,
) -> WatchTotals:
    """For each batch, sync every changed company with a connected QuickBooks integration on a pool of
    `max_workers` threads: one sync at a time per company (a company that changes again while it syncs is
    synced once more right after, whatever the number of changes), companies in parallel. A failing sync
    costs one line on stderr; the others go on. Once `stop` is requested no further sync starts; the
    running ones finish. Returns the totals when the batches end and every sync started has finished.
    With `processes` > 1 the syncs are `shard_factory`'s, in that many processes of `max_workers` threads
    each (a company always in the same one: connectors.realtime.ShardedCompanyWorkers), not `sync`."""
    totals = WatchTotals()
    lock = threading.Lock()
    names: dict[uuid.UUID, str] = {}

    def done(finished: SyncDone) -> None:
        name = names.get(finished.company_id, str(finished.company_id))
        company_id = str(finished.company_id)
        report: dict[str, Any] = {
            "event": "sync",
            "company_id": company_id,
            "company": name,
            "ok": finished.error is None,
            "seconds": round(finished.finished_at - finished.started_at, 3),
            "latency_s": round(finished.latency, 3),
            "changes_coalesced": finished.coalesced,
        }
        with lock:
            if finished.error is not None:
                totals.failed.append(company_id)
                report["error"] = _first_line(finished.error)
                print(
                    f"error: incremental sync of {name} ({company_id}) failed: {report['error']}",
                    file=sys.stderr,
                )
            else:
                totals.synced += 1
                if _stopped_early(finished.result):
                    totals.cut_short.append(company_id)
                    report["cut_short"] = True
            if as_json:
                typer.echo(json.dumps(report))
            elif finished.error is None and report.get("cut_short"):
                typer.echo(f"stopped the sync of {name} ({company_id}) early: the next sync does the rest")
            elif finished.error is None:
                typer.echo(
                    f"synced {name} ({company_id}) in {report['seconds']:.2f} s, "
                    f"{report['latency_s']:.2f} s after the change"
                )
            sys.stdout.flush()

    workers: CompanyWorkers | ShardedCompanyWorkers
    if processes > 1:
        workers = ShardedCompanyWorkers(shard_factory, processes=processes, threads=max_workers, on_done=done)
    else:
        workers = CompanyWorkers(lambda cid: sync(str(cid)), max_workers=max_workers, on_done=done)
    with workers:
        for batch in batches:
            connected = connected_companies(engine, batch.company_ids)
            queued: list[str] = []
            for company_id, name in connected.items():
                if stop is not None and stop.requested():
                    break  # the next scheduled sync takes them
                names[company_id] = name
                if workers.submit(company_id, seen_at=batch.first_seen):
                    queued.append(str(company_id))
            skipped = [str(c) for c in batch.company_ids if c not in connected]
            with lock:
                totals.batches += 1
                totals.changed += len(batch.company_ids)
                totals.skipped += len(skipped)
                if as_json:
                    typer.echo(
                        json.dumps(
                            {
                                "event": "batch",
                                "source": batch.source,
                                "changed": [str(c) for c in batch.company_ids],
                                "queued": queued,
                                "skipped": skipped,
                            }
                        )
                    )
                else:
                    typer.echo(
                        f"{len(batch.company_ids)} companies changed ({batch.source}); "
                        f"{len(connected)} connected to QuickBooks"
                    )
                sys.stdout.flush()
    return totals


def watch(
    debounce: float = typer.Option(
        0.05,
        min=0,
        help="Seconds to gather changes before syncing (edits made during a sync coalesce anyway).",
    ),
    poll_interval: float = typer.Option(0.25, min=0.05, help="Seconds between polls (SQLite)."),
    workers: int = typer.Option(
        20,
        min=1,
        help="Companies synced at the same time (one sync per company), per process; the database pool "
        "is sized for them (two connections per push).",
    ),
    processes: int = typer.Option(
        1,
        min=1,
        help="Push from this many processes, companies shared out among them (each keeps its companies): "
        "many companies changing at once no longer queue for one interpreter.",
    ),
    flow_runs: bool = typer.Option(
        False, "--flow-runs", help="Sync with the incremental-sync flow (a flow run per sync) instead."
    ),
    emit_only: bool = typer.Option(
        False,
        "--emit-only",
        help="Sync nothing here: emit a sierra-sync.company.changed Prefect event per changed company, for a "
        "deployment trigger to run its sync on the work pool (many machines).",
    ),
    once: bool = typer.Option(False, "--once", help="Stop after the first batch of changes."),
    max_seconds: float | None = typer.Option(None, min=0, help="Stop after this many seconds."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object per line (ready, batches, end)."
    ),
) -> None:
    """Push each company's changes to QuickBooks as they are committed (LISTEN/NOTIFY on PostgreSQL, polling
    on SQLite), companies in parallel, one sync at a time per company. Runs until stopped (Ctrl-C, SIGTERM,
    --once, --max-seconds); exits 1 if any sync failed.
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
            lambda: run_watch(
                engine,
                watcher,
                _announce_only
                if emit_only
                else default_incremental_sync
                if flow_runs
                else realtime_push(workers),
                as_json=as_json,
                stop=stop,
                max_workers=workers,
                processes=1 if emit_only or flow_runs else processes,
            ),
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
