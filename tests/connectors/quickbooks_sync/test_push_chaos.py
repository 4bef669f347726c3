"""Nothing lost, nothing duplicated, every attempt logged: pushes under injected faults and a killed
worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select, update

from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import load_connection, open_client
from connectors.quickbooks.settings import sample_company_settings
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import PushOptions, Target
from connectors.seed.generate import seed
from sierra_core import synclog
from sierra_core.db.models import Company, Integration, IntegrationSyncLog, Invoice
from sierra_core.db.types import utcnow
from tests.connectors.quickbooks import oauth_helpers as h
from tests.processes import communicate_all

RETRY = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.05, jitter=0.0, max_server_wait=0.05)


def _setup(engine, sessions, qbo, invoices):
    seed(engine, companies=1, invoices=invoices, seed_value=5)
    with sessions.begin() as s:  # every invoice pushable
        s.execute(
            update(Invoice)
            .where(Invoice.status.in_(["draft", "void"]))
            .values(status="sent", balance=Invoice.total, voided_at=None)
        )
        company_id = s.scalar(select(Company.id))
    with httpx.Client(timeout=30) as http:
        integration_id, _, app, ring = h.connect_company(sessions, qbo.url, http, company_id)
    with sessions.begin() as s:
        s.execute(
            update(Integration)
            .where(Integration.id == integration_id)
            .values(settings=sample_company_settings().to_json())
        )
    with sessions() as s:
        conn = load_connection(s, company_id)
    # This test is about faults, not Intuit's per-minute ceilings (bench.push_rate measures those): lift
    # the realm's minute budgets so the run does not wait out 60 s windows; throttle bursts stay injected.
    qbo.admin(
        "POST", "limits", {"realm": conn.realm_id, "batch_requests_per_minute": 0, "requests_per_minute": 0}
    )
    return conn, app, ring


def _push_until_done(sessions, conn, app, ring, rounds=12):
    target = Target(conn.integration_id, conn.company_id, conn.settings)
    for _ in range(rounds):
        with sessions.begin() as s:
            claims = synclog.claim_due_retries(s, now=utcnow() + timedelta(days=1), stale_after=timedelta(0))
        claimed = {
            (c.entity_type, c.entity_id): c.new_log_id for c in claims if c.entity_type and c.entity_id
        }
        with open_client(sessions, conn, ring, app, retry=RETRY) as client:
            result = Pusher(sessions, client, target, PushOptions(claimed=claimed)).run()
        pending = sum(c.retrying for c in result.counts.values())
        with sessions() as s:
            due = synclog.list_due_retries(s, now=utcnow() + timedelta(days=1))
        if not pending and not due and not claims:
            return
    raise AssertionError("the push did not converge")


def _assert_exactly_once(sessions, qbo, conn, one_attempt_each=True):
    with sessions() as s:
        app = {i.invoice_number: i.total for i in s.scalars(select(Invoice))}
    items = qbo.admin("GET", f"realms/{conn.realm_id}/entities/Invoice")["items"]
    numbers = Counter(i["DocNumber"] for i in items)
    assert numbers == Counter(list(app)), "an invoice is missing or duplicated in QuickBooks"
    for item in items:
        assert Decimal(str(item["TotalAmt"])) == app[item["DocNumber"]]
    names = Counter(
        c["DisplayName"] for c in qbo.admin("GET", f"realms/{conn.realm_id}/entities/Customer")["items"]
    )
    assert max(names.values()) == 1
    with sessions() as s:
        # every invoice has exactly one successful attempt; every failed attempt was retried
        ok = Counter(
            s.scalars(
                select(IntegrationSyncLog.entity_id).where(
                    IntegrationSyncLog.entity_type == "invoice", IntegrationSyncLog.status == "success"
                )
            )
        )
        assert len(ok) == len(app)
        if one_attempt_each:
            assert set(ok.values()) == {1}
        assert (
            s.scalar(
                select(func.count())
                .select_from(IntegrationSyncLog)
                .where(IntegrationSyncLog.status.in_(["in_progress", "retrying"]))
            )
            == 0
        )
        assert synclog.open_failures(s) == []


@pytest.mark.slow
def test_500_invoices_under_5xx_drops_and_throttling(engine, sessions, qbo):
    conn, app, ring = _setup(engine, sessions, qbo, 500)
    qbo.admin(
        "POST", "faults", {"realm": conn.realm_id, "error_rate": 0.10, "drop_rate": 0.05, "throttle": 3}
    )
    try:
        _push_until_done(sessions, conn, app, ring)
    finally:
        qbo.admin("POST", "faults", {"realm": conn.realm_id, "error_rate": 0, "drop_rate": 0, "throttle": 0})
    _assert_exactly_once(sessions, qbo, conn)
    stats = qbo.admin("GET", f"stats?realm={conn.realm_id}")
    assert stats["faults_injected"] > 0  # the faults really happened


@pytest.mark.slow
def test_worker_killed_mid_push_then_run_again(db, engine, sessions, qbo):
    conn, app, ring = _setup(engine, sessions, qbo, 150)
    qbo.admin("POST", "faults", {"realm": conn.realm_id, "latency_ms": 150})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.connectors.quickbooks_sync.push_worker",
            db.url,
            str(conn.company_id),
            qbo.url,
            h.KEY_TEXT,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "STARTED"
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until some invoices are in QuickBooks, then kill
            if qbo.admin("GET", f"realms/{conn.realm_id}/entities/Invoice")["count"] >= 30:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    qbo.admin("POST", "faults", {"realm": conn.realm_id, "latency_ms": 0})
    in_qbo = qbo.admin("GET", f"realms/{conn.realm_id}/entities/Invoice")["count"]
    assert 0 < in_qbo < 150, "the kill should land mid-push"
    _push_until_done(sessions, conn, app, ring)
    _assert_exactly_once(sessions, qbo, conn)
    with sessions() as s:  # the killed worker's open attempts were recovered as lost, not forgotten
        lost = s.scalars(
            select(IntegrationSyncLog).where(IntegrationSyncLog.error_code == "worker_lost")
        ).all()
        assert all(row.retried_by_id is not None for row in lost)


@pytest.mark.slow
def test_four_workers_pushing_one_company_at_once(db, engine, sessions, qbo):
    """Four processes push the same company at the same moment, starting from an expired access token:
    no duplicate in QuickBooks, no invalid_grant, every record synced once."""
    conn, app, ring = _setup(engine, sessions, qbo, 120)
    with sessions.begin() as s:
        s.execute(
            update(Integration).where(Integration.id == conn.integration_id).values(expires_at=utcnow())
        )
    start_at = time.time() + 5
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.connectors.quickbooks_sync.push_worker",
                db.url,
                str(conn.company_id),
                qbo.url,
                h.KEY_TEXT,
                str(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = communicate_all(procs, timeout=240)  # one timed out: none outlives the test
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    assert all("DONE" in out for out, _ in outputs)
    assert not any("invalid_grant" in err for _, err in outputs)
    with sessions() as s:
        integration = s.get(Integration, conn.integration_id)
        assert integration is not None and integration.connection_status == "connected"
    _push_until_done(sessions, conn, app, ring)  # whatever a worker left retrying
    # The push lease serialised the four: one did the work, the others found it done.
    _assert_exactly_once(sessions, qbo, conn, one_attempt_each=True)
