"""The demo, step by step: app database, sandboxes, a Prefect server of its own, blocks, seed, OAuth,
full sync, Stripe payments, edits on both sides, an incremental sync under injected faults, the retry
sweep, reconciliation, health, and the accuracy figure. Companies keep their books in QuickBooks Online or
in Xero: every step after the connection takes the company's accounting system as a parameter."""

from __future__ import annotations

import importlib.util
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from connectors.seed.generate import seed
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import EntityLink, IntegrationSyncLog, Invoice
from sierra_core.db.types import utcnow
from sierra_core.settings import get_settings
from sierra_core.shutdown import STOP, StopRequest
from sierra_sync.demo import world
from sierra_sync.demo.accuracy import Accuracy, check_company
from sierra_sync.demo.books import open_books
from sierra_sync.demo.prefect_server import PrefectServer
from sierra_sync.demo.scenario import edit_in_app, edit_in_books
from sierra_sync.demo.world import QUICKBOOKS, XERO
from sierra_sync.world.processes import stop_all
from sierra_sync.world.state import WorldState
from sierra_sync.world.up import SANDBOX_DIR

STRIPE_PAYMENTS = 3  # invoices per company paid by card (each costs QuickBooks batch requests: 40/min)
FAULTS = {"error_rate": 0.15, "drop_rate": 0.05, "throttle": 2}
NO_FAULTS = {"error_rate": 0.0, "drop_rate": 0.0, "throttle": 0}
# The demo keeps waits short: a real deployment keeps the defaults (1 s backoff, up to 300 s after a 429).
DEMO_ENV = {
    "SIERRA_QBO_RETRY_INITIAL_WAIT": "0.2",
    "SIERRA_QBO_MAX_THROTTLE_WAIT": "2",
    "SIERRA_XERO_RETRY_INITIAL_WAIT": "0.2",
    "SIERRA_XERO_MAX_THROTTLE_WAIT": "2",  # Xero's Retry-After says 60 s
}


@dataclass
class DemoOptions:
    companies: int = 2  # on QuickBooks
    invoices: int = 500
    keep_server: bool = False
    prefect_port: int = 4200
    xero_companies: int = 1
    # Xero allows 60 calls a minute per organisation: a smaller company keeps the demo's time.
    xero_invoices: int = 150


@dataclass(frozen=True)
class DemoCompany:
    id: uuid.UUID
    name: str
    system: str  # QUICKBOOKS or XERO
    integration_id: uuid.UUID


def systems_of(companies: list[DemoCompany]) -> str:
    """The accounting systems in use, as a bookkeeper says it: "QuickBooks", "QuickBooks and Xero"."""
    names = [s for s in (QUICKBOOKS, XERO) if any(c.system == s for c in companies)]
    return " and ".join(names) or QUICKBOOKS


class DemoStopped(Exception):
    """The demo was asked to stop (SIGTERM/Ctrl-C): raised at the start of the next step."""


class Progress:
    """One line per step with the elapsed time, on `out` (stderr when stdout carries JSON); a step does not
    start once a stop was requested (DemoStopped)."""

    def __init__(self, out: TextIO, stop: StopRequest = STOP) -> None:
        self.out = out
        self.stop = stop
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def say(self, text: str) -> None:
        print(f"[{self.elapsed():5.1f}s] {text}", file=self.out, flush=True)

    @contextmanager
    def step(self, text: str) -> Iterator[Callable[[str], None]]:
        if self.stop.requested():
            raise DemoStopped(text)
        notes: list[str] = []
        begun = time.perf_counter()
        print(f"[{self.elapsed():5.1f}s] {text} …", file=self.out, flush=True)
        yield notes.append
        detail = f": {'; '.join(notes)}" if notes else ""
        print(f"         done in {time.perf_counter() - begun:.1f}s{detail}", file=self.out, flush=True)


def quiet_prefect_console() -> None:
    """Prefect's own console lines (run states, task tracebacks of retried attempts) stay out of the demo's
    output; they still reach the Prefect server, where the UI shows them with each run."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"  # for a later (re)configuration
    ensure_logging_setup()
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.CRITICAL + 1)
    # Our own modules log per-record warnings the summary already counts.
    logging.getLogger("sierra_sync").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="prefect")


def reset_app_database(data_dir: Path) -> str:
    """A fresh SQLite app database for this run (the sandboxes start empty too, so old links would lie)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "sierra.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def _flow_available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _due_retries(sessions: Any) -> tuple[int, float | None]:
    with sessions() as session:
        count, first = session.execute(
            select(func.count(), func.min(IntegrationSyncLog.next_retry_at)).where(
                IntegrationSyncLog.status == "retrying"
            )
        ).one()
    wait = None if first is None else max(0.0, (first - utcnow()).total_seconds())
    return int(count), wait


def _open_failures(sessions: Any) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    IntegrationSyncLog.status == "failed", IntegrationSyncLog.retried_by_id.is_(None)
                )
            )
            or 0
        )


def _links(sessions: Any, entity_type: str) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).where(EntityLink.entity_type == entity_type)) or 0)


def _sync_counts(result: dict[str, Any], books: str) -> str:
    created = updated = failed = retrying = 0
    for company in result.get("results", []):
        for counts in (company.get("push") or {}).get("counts", {}).values():
            created += counts.get("created", 0) + counts.get("linked", 0)
            updated += counts.get("updated", 0)
            failed += counts.get("failed", 0)
            retrying += counts.get("retrying", 0)
    pulled = sum(
        counts.get("created", 0) + counts.get("updated", 0) + counts.get("linked", 0)
        for company in result.get("results", [])
        for counts in ((company.get("pull") or {}).get("counts") or {}).values()
    )
    return f"{created} created, {updated} updated in {books}, {pulled} pulled, {retrying} to retry"


def run_demo(options: DemoOptions, out: TextIO, stop: StopRequest = STOP) -> dict[str, Any]:
    """Run every step; returns the figures (`accuracy_pct`, counts, `duration_s` …). Once `stop` is
    requested no further step starts (DemoStopped); the Prefect server it started is stopped, even with
    `keep_server` (that keeps the server of a finished demo)."""
    progress = Progress(out, stop)
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    stopped = stop_all(WorldState(data_dir))  # its data is about to be reset under it
    if stopped:
        progress.say(
            f"stopped the local world that was running ({', '.join(stopped)}): the demo starts afresh"
        )
    if os.environ.get("SIERRA_DATABASE_URL"):
        progress.say("note: the demo uses its own SQLite file in the data directory, not SIERRA_DATABASE_URL")
    os.environ["SIERRA_DATABASE_URL"] = reset_app_database(data_dir)
    for key, value in DEMO_ENV.items():
        os.environ.setdefault(key, value)
    get_settings.cache_clear()
    from tasks import runtime

    runtime.reset_engines()
    url = get_settings().resolved_database_url()

    server = PrefectServer(home=data_dir / "prefect", port=options.prefect_port)
    finished = False
    if server.try_reuse():
        progress.say(f"Prefect server: reusing the one at {server.ui_url}")
    else:
        server.launch()
        # Also when the demo is abandoned mid-step (the stop's grace ran out): the main thread stops it.
        stop.at_exit(lambda: None if finished and options.keep_server else server.stop())
        progress.say(f"Prefect server: starting at {server.ui_url} (SQLite under {server.home})")
    sandboxes: world.Sandboxes | None = None
    figures: dict[str, Any] = {}
    try:
        engine = make_engine(url)
        sessions = session_factory(engine)
        total_companies = options.companies + options.xero_companies
        with progress.step(f"App database: migrate and seed {total_companies} companies") as note:
            migrate.upgrade(engine)
            on_xero = _seed(engine, options, note)
        webhook_url = None  # Stripe webhooks go to the API app when the Stripe flows are installed
        with progress.step("Sandboxes: QuickBooks Online, Xero and Stripe") as note:
            sandboxes = world.Sandboxes.start(settings.host, webhook_url, data_dir / SANDBOX_DIR)
            stripe_url = sandboxes.stripe.url if sandboxes.stripe else "not available"
            xero_url = sandboxes.xero.url if sandboxes.xero else "not available"
            note(f"QuickBooks {sandboxes.qbo.url}, Xero {xero_url}, Stripe {stripe_url}")
        app_block, keys = world.local_blocks(sandboxes.qbo.url)
        xero_block = world.xero_block(sandboxes.xero.url) if sandboxes.xero else None
        with progress.step(
            "OAuth: connect every company to its QuickBooks company or Xero organisation"
        ) as note:
            companies = []
            for cid, name in world.companies(sessions):
                on = XERO if name in on_xero and xero_block is not None else QUICKBOOKS
                block = xero_block if on == XERO and xero_block is not None else app_block
                companies.append(DemoCompany(cid, name, on, world.connect(sessions, block, keys, cid)))
            note(", ".join(f"{c.name} ({c.system})" for c in companies))
        with progress.step("Prefect server: wait until healthy, save the blocks") as note:
            api_url = server.wait_healthy()
            note(api_url)
        figures = _with_prefect(
            api_url, progress, sessions, sandboxes, app_block, xero_block, keys, companies, options
        )
        finished = True
    finally:
        if sandboxes is not None:
            sandboxes.stop()
        if not options.keep_server or not (finished or server.reused):
            server.stop()
    figures["duration_s"] = round(progress.elapsed(), 1)
    if options.keep_server:
        figures["prefect_ui"] = server.ui_url
        figures["prefect_server_pid"] = server.pid
    return figures


def _seed(engine: Any, options: DemoOptions, note: Callable[[str], None]) -> set[str]:
    """The QuickBooks companies at `invoices` each, then the Xero ones at `xero_invoices` (the seed leaves
    the companies it already made alone); returns the names of the Xero companies."""
    summary = seed(engine, companies=options.companies, invoices=options.invoices)
    on_xero: set[str] = set()
    if options.xero_companies:
        more = seed(
            engine, companies=options.companies + options.xero_companies, invoices=options.xero_invoices
        )
        on_xero = set(more.company_names)
        for name in ("invoices", "payments", "expenses", "customers"):
            setattr(summary, name, getattr(summary, name) + getattr(more, name))
    note(
        f"{summary.invoices} invoices, {summary.payments} payments, {summary.expenses} expenses, "
        f"{summary.customers} customers"
    )
    return on_xero


def _with_faults(
    sandboxes: world.Sandboxes, systems: list[str], run: Callable[[], str]
) -> tuple[str, dict[str, Any]]:
    """`run` with faults injected in every accounting sandbox in use; what each sandbox did meanwhile."""
    before = {s: sandboxes.admin(s, "GET", "stats") for s in systems}
    for system in systems:
        sandboxes.admin(system, "POST", "faults", FAULTS)
    try:
        counts = run()
    finally:
        for system in systems:
            sandboxes.admin(system, "POST", "faults", NO_FAULTS)
    figures: dict[str, Any] = {}
    for system in systems:
        after = sandboxes.admin(system, "GET", "stats")
        figures[system] = {
            key: int(after[key]) - int(before[system][key])
            for key in ("faults_injected", "throttled", "idempotent_replays")
        }
    return counts, figures


def _faults_note(figures: dict[str, dict[str, int]]) -> str:
    failed = "; ".join(
        f"{system} failed {f['faults_injected']} requests and asked us to slow down {f['throttled']} times"
        for system, f in figures.items()
    )
    replays = sum(f["idempotent_replays"] for f in figures.values())
    return f"{failed}; {replays} records sent again after a lost reply were recognised and not booked twice"


def _with_prefect(
    api_url: str,
    progress: Progress,
    sessions: Any,
    sandboxes: world.Sandboxes,
    app_block: Any,
    xero_block: Any,
    keys: Any,
    companies: list[DemoCompany],
    options: DemoOptions,
) -> dict[str, Any]:
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Threads (sync-all-companies runs companies on a pool) read the process-global settings, not this
    # thread's settings context: point both at the demo's server.
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
    refresh_global_settings_context()
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        world.save_blocks(app_block, keys, sandboxes.stripe.url if sandboxes.stripe else None, xero_block)
        quiet_prefect_console()
        from flows.operations import health_check
        from flows.retries import retry_failed_syncs
        from flows.sync import sync_all_companies

        books = systems_of(companies)
        parallel = max(2, len(companies))  # every company at once: each has its own API budget
        systems = [system for system in (QUICKBOOKS, XERO) if system in books]
        with progress.step("Full sync of every company (flow sync-all-companies, mode full)") as note:
            note(_sync_counts(sync_all_companies(mode="full", max_concurrency=parallel), books))
        with progress.step(f"Edits: amounts in the app, memos and due dates in {books}") as note:
            app_edits = sum(edit_in_app(sessions, c.id, invoices=20, contacts=5) for c in companies)
            book_edits = 0
            for c in companies:
                with open_books(c.system, c.id) as opened:
                    book_edits += edit_in_books(sessions, opened, c.integration_id, c.id, invoices=10)
            note(f"{app_edits} records in the app, {book_edits} invoices in {books}")
        with progress.step(
            "Incremental sync with injected faults (15% 5xx, 5% lost responses, 429 throttling)"
        ) as note:
            counts, figures_faults = _with_faults(
                sandboxes,
                systems,
                lambda: _sync_counts(sync_all_companies(mode="incremental", max_concurrency=parallel), books),
            )
            note(counts)
            note(_faults_note(figures_faults))
        with progress.step("Retry sweep (flow retry-failed-syncs) until nothing is due") as note:
            sweeps = 0
            while True:
                due, wait = _due_retries(sessions)
                if not due or sweeps >= 10 or progress.stop.wait(min(wait or 0.0, 10.0)):
                    break
                retry_failed_syncs(company="all")
                sweeps += 1
            note(f"{sweeps} sweep(s), {due} still waiting")
        stripe_note = _stripe_payments(progress, sessions, sandboxes, [c.id for c in companies])
        with progress.step("Catch-up incremental sync (what the 15-minute schedule does)") as note:
            note(_sync_counts(sync_all_companies(mode="incremental", max_concurrency=parallel), books))
        reconciled = _reconcile(progress, companies, books)
        with progress.step(f"Independent check: app invoices and payments read against {books}") as note:
            total = Accuracy()
            checked: dict[uuid.UUID, Accuracy] = {}
            for c in companies:
                with open_books(c.system, c.id) as opened:
                    checked[c.id] = check_company(sessions, opened, c.integration_id, c.id)
                total.add(checked[c.id])
            note(
                f"{total.invoices_ok}/{total.invoices_expected} invoices and {total.payments_ok}/"
                f"{total.payments_expected} payments match to the cent, {total.duplicates} duplicates"
            )
        reconcile_note = None
        if reconciled is None:
            reconcile_note = "flows/reconcile.py is not installed: the figure is the independent check's"
        with progress.step("Health check (flow health-check)") as note:
            health = health_check(window_hours=24, notify=False)
            note(", ".join(f"{n} {s}" for s, n in health["totals"].items() if n))
        if options.keep_server:
            _register_deployments(progress)
        _flush_prefect_logs()
    failed = _open_failures(sessions)
    requests = {system: int(sandboxes.admin(system, "GET", "stats")["requests_total"]) for system in systems}
    per_company = [_company_figures(c, checked[c.id], reconciled) for c in companies]
    figure = min([total.pct, *(b["accuracy_pct"] for b in per_company)])
    if reconciled is not None:
        figure = min(figure, float(reconciled["accuracy_pct"]))
    return {
        "accuracy_pct": figure,
        "independent_check_pct": total.pct,
        "reconcile": reconciled,
        "invoices_synced": _links(sessions, "invoice"),
        "payments_synced": _links(sessions, "payment"),
        "customers_synced": _links(sessions, "customer"),
        "expenses_synced": _links(sessions, "expense"),
        "invoices_checked": total.invoices_expected,
        "payments_checked": total.payments_expected,
        "duplicates": total.duplicates,
        "duplicates_in_qbo": sum(b["duplicates"] for b in per_company if b["system"] == QUICKBOOKS),
        "books": per_company,
        "failed": failed,
        "mismatches": total.mismatches[:20],
        "health": health["totals"],
        "faults_injected": figures_faults,
        "requests": requests,
        "notes": [n for n in (_invoices_in_books(sessions, books), stripe_note, reconcile_note) if n],
        "companies": [c.name for c in companies],
    }


def _company_figures(
    company: DemoCompany, checked: Accuracy, reconciled: dict[str, Any] | None
) -> dict[str, Any]:
    """One company's line of the summary: its books, how much of it matches, its duplicates."""
    pct = checked.pct
    matched = (reconciled or {}).get("companies", {}).get(str(company.id))
    if matched is not None:
        pct = min(pct, float(matched["accuracy_pct"]))
    return {
        "company": company.name,
        "system": company.system,
        "accuracy_pct": pct,
        "invoices_checked": checked.invoices_expected,
        "payments_checked": checked.payments_expected,
        "duplicates": checked.duplicates,
    }


def _invoices_in_books(sessions: Any, books: str = QUICKBOOKS) -> str:
    """Why fewer invoices are in the books (QuickBooks, Xero) than in the app, in a bookkeeper's words."""
    with sessions() as session:
        by_status = dict(
            session.execute(
                select(Invoice.status, func.count())
                .where(Invoice.deleted_at.is_(None))
                .group_by(Invoice.status)
            ).all()
        )
        linked = select(EntityLink.app_id).where(EntityLink.entity_type == "invoice")
        unsent_voids = int(
            session.scalar(
                select(func.count()).where(
                    Invoice.status == "void", Invoice.deleted_at.is_(None), Invoice.id.not_in(linked)
                )
            )
            or 0
        )
    total = sum(int(n) for n in by_status.values())
    drafts = int(by_status.get("draft", 0))
    booked = _links(sessions, "invoice")
    return (
        f"{total:,} invoices were made in the app and {booked:,} are in {books}: the other "
        f"{total - booked:,} stay in the app only, {drafts:,} {'draft' if drafts == 1 else 'drafts'} (not "
        f"sent to the customer yet, so not in the books) and {unsent_voids:,} "
        f"{'invoice voided before it was' if unsent_voids == 1 else 'invoices voided before they were'} "
        "ever sent (nothing to record)"
    )


def _reconcile(progress: Progress, companies: list[DemoCompany], books: str) -> dict[str, Any] | None:
    """The reconcile flow per company (app, its QuickBooks or Xero, and Stripe, every date); the
    records-weighted total and each company's figure."""
    if not _flow_available("flows.reconcile"):
        return None
    from flows.reconcile import reconcile

    matched = total = 0
    discrepancies: dict[str, int] = {}
    per_company: dict[str, dict[str, Any]] = {}
    systems = books.replace(" and ", " or ")
    with progress.step(
        f"Reconcile each company (flow reconcile): app, its {systems} books and Stripe, to the cent"
    ) as note:
        for c in companies:
            result = reconcile(
                company=str(c.id),
                period_start=date(2000, 1, 1),
                period_end=datetime.now(UTC).date(),
                tolerance=Decimal("0.00"),
            )
            matched += int(result["records_matched"])
            total += int(result["records_total"])
            mine, all_records = int(result["records_matched"]), int(result["records_total"])
            per_company[str(c.id)] = {
                "accuracy_pct": 100.0 if all_records == 0 else round(100.0 * mine / all_records, 2)
            }
            for kind, n in (result.get("counts") or {}).items():
                if isinstance(n, int) and kind != "matched":
                    discrepancies[kind] = discrepancies.get(kind, 0) + n
        pct = 100.0 if total == 0 else round(100.0 * matched / total, 2)
        found = ", ".join(f"{n} {kind}" for kind, n in discrepancies.items() if n)
        note(f"{matched}/{total} records match ({pct:.2f} %)" + (f"; found {found}" if found else ""))
    return {
        "accuracy_pct": pct,
        "records_matched": matched,
        "records_total": total,
        "counts": discrepancies,
        "companies": per_company,
    }


def _register_deployments(progress: Progress) -> None:
    """Every deployment of prefect.yaml on the demo's server (schedules paused), to look at in the UI."""
    from deployments.serve import build

    with progress.step("Deployments of prefect.yaml registered on this server (schedules paused)") as note:
        built = build(paused=True)
        for deployment in built:
            deployment.apply()
        note(", ".join(d.name for d in built))


def _flush_prefect_logs() -> None:
    """Send the runs' logs to the server now, while it is still up (else the exit waits on a dead server)."""
    from prefect.logging.handlers import APILogHandler

    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, APILogHandler):
                handler.flush()
                return


def _stripe_payments(
    progress: Progress, sessions: Any, sandboxes: world.Sandboxes, companies: list[uuid.UUID]
) -> str | None:
    if not _flow_available("flows.stripe_events") or sandboxes.stripe is None:
        skipped = "Stripe payments skipped: flows/stripe_events.py or the Stripe sandbox is not installed"
        progress.say(skipped)
        return skipped
    from flows.stripe_events import process_stripe_events
    from sierra_sync.demo import stripe_step

    with progress.step("Stripe: invoices paid by card, signed webhooks into the inbox") as note:
        receiver = stripe_step.start_receiver(sessions, sandboxes.qbo.host)
        sandboxes.servers.append(receiver)
        stripe_step.register_endpoint(sandboxes.stripe.url, receiver.url)
        paid = stripe_step.pay_invoices(sessions, sandboxes.stripe.url, companies, STRIPE_PAYMENTS)
        stored = stripe_step.wait_for_webhooks(sessions, sandboxes.stripe.url, paid)
        note(f"{paid} invoices paid, {stored} payment_intent.succeeded events stored")
    with progress.step(
        "Flow process-stripe-events: payments and fees into the app and QuickBooks "
        "(Xero's go with the next sync)"
    ) as note:
        result = process_stripe_events(all_pending=True, limit=1000)
        note(
            f"{result.get('processed', 0)} events processed, {result.get('ignored', 0)} ignored, "
            f"{result.get('failed', 0)} failed"
        )
    return None


__all__ = ["DemoOptions", "DemoStopped", "run_demo"]
