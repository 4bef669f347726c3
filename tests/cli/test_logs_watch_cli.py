"""`sierra-sync logs export` and `sierra-sync watch` as a user runs them (real processes), and the watch loop
with an injected sync callback."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import select

from connectors.synclog_export import EXPORT_COLUMNS
from connectors.watch import ChangeBatch, ChangeWatcher
from sierra_core import synclog
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Integration, IntegrationSyncLog, Invoice
from sierra_sync.cli.watch import connected_companies, default_incremental_sync, run_watch
from tests import factories
from tests.connectors.quickbooks_sync.conftest import connected  # noqa: F401 - fixture used by flow_env
from tests.flows.conftest import flow_env  # noqa: F401 - a company connected to the QBO sandbox

CLI = [sys.executable, "-m", "sierra_sync"]
TOKEN = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env["SIERRA_DATABASE_URL"] = url
    return env


def _start(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(url)
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:  # timed out (or interrupted): killed and waited for, nothing survives
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=cli_env(url), timeout=120, check=False
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module", autouse=True)
def idle_watch(tmp_path_factory):
    """`watch --once --max-seconds 5` on an idle database, started when this module starts so its five
    seconds pass while the other tests run; `test_watch_with_nothing_changing_ends_at_max_seconds` checks
    how it ended."""
    url = f"sqlite:///{tmp_path_factory.mktemp('idle')}/app.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    proc = _start(url, "watch", "--once", "--max-seconds", "5", "--poll-interval", "0.5")
    yield proc, time.monotonic()
    proc.kill()
    proc.communicate()


@pytest.fixture
def logged_company(sessions):
    with sessions.begin() as s:
        company = factories.company(s)
        integration = factories.integration(s, company.id, connection_status="connected", is_active=True)
        for status in ("success", "failed"):
            log_id = synclog.start_attempt(
                s,
                integration_id=integration.id,
                company_id=company.id,
                sync_type="invoice",
                direction="push",
                trigger="realtime",
                entity_type="invoice",
                request_payload={"Invoice": {"DocNumber": "1001"}},
            )
            if status == "success":
                synclog.finish_success(s, log_id, external_entity_id="660")
            else:
                synclog.finish_failure(
                    s, log_id, error_code="6000", error_message="item not mapped", retryable=False
                )
        return company.id, company.name


def test_logs_export_writes_the_file_and_prints_the_count(db, logged_company, tmp_path):
    company_id, name = logged_company
    out = tmp_path / "sync-log.csv"
    out.write_text("an older export that is longer than the new one\n" * 50, encoding="utf-8")
    if db.dialect == "sqlite":  # by name, text output
        proc = run("logs", "export", "--company", name, "--out", str(out), url=db.url)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"exported 2 sync-log rows of {name} to {out}"
        expected_rows = 2
    else:  # by id, filtered, JSON output
        args = ["--company", str(company_id), "--out", str(out), "--status", "failed", "--json"]
        proc = run("logs", "export", *args, url=db.url)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {
            "company_id": str(company_id),
            "company": name,
            "rows": 1,
            "out": str(out),
        }
        expected_rows = 1
    assert proc.stderr == ""
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert len(rows) == 1 + expected_rows  # the old file was replaced, not appended to
    assert all(row[1] == str(company_id) for row in rows[1:])


def test_bad_since_is_one_line_on_stderr_and_writes_nothing(tmp_path):
    # (An unwritable --out is the same SierraError path: tests/connectors/test_synclog_export.py.)
    url = f"sqlite:///{tmp_path}/app.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_factory(engine).begin() as s:
        name = factories.company(s).name
    engine.dispose()
    out = tmp_path / "a.csv"
    bad = run("logs", "export", "--company", name, "--out", str(out), "--since", "last week", url=url)
    assert_one_line_error(bad, "--since 'last week'", "2026-11-01")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def test_watch_once_ends_by_itself_after_the_first_change(db, sessions):
    with sessions.begin() as s:
        company_id = factories.company(s).id
    proc = _start(
        db.url,
        "watch",
        "--once",
        "--max-seconds",
        "5",
        "--debounce",
        "0.3",
        "--poll-interval",
        "0.2",
        "--json",
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())  # printed once changes are being observed
        assert ready["event"] == "ready"
        assert ready["mode"] == ("listen" if db.dialect == "postgresql" else "poll")
        changed_at = time.monotonic()
        with sessions.begin() as s:
            factories.customer(s, company_id)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert time.monotonic() - changed_at < 4.5  # ended by --once, not by --max-seconds
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["batch", "stopped"]
    assert events[0]["changed"] == [str(company_id)]
    assert events[0]["skipped"] == [str(company_id)]  # no QuickBooks connection: nothing to sync
    assert events[1] == {"event": "stopped", "batches": 1, "synced": 0, "skipped": 1, "failed": 0}


def test_watch_with_nothing_changing_ends_at_max_seconds(idle_watch):
    proc, started = idle_watch
    done = _finish(proc, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("watching sqlite:///")
    assert lines[-1] == "stopped after 0 batches: 0 synced, 0 skipped (not connected), 0 failed"
    assert time.monotonic() - started >= 5


def _batch(*ids: uuid.UUID) -> ChangeBatch:
    now = time.monotonic()
    return ChangeBatch(company_ids=ids, source="poll", events=len(ids), first_seen=now, emitted=now)


def test_a_failing_sync_is_one_line_and_the_watch_goes_on(engine, sessions, capsys):
    with sessions.begin() as s:
        broken, fine, offline = (factories.company(s) for _ in range(3))
        for company in (broken, fine):
            factories.integration(s, company.id, connection_status="connected", is_active=True)
        factories.integration(s, offline.id, connection_status="expired")
        ids = {c.name: c.id for c in (broken, fine, offline)}
        broken_name = broken.name
    calls: list[str] = []

    def sync(company_id: str) -> None:
        calls.append(company_id)
        if company_id == str(ids[broken_name]):
            raise RuntimeError(f"QuickBooks said 401 to {TOKEN}\nsecond line")

    batches = [
        _batch(*ids.values()),
        _batch(ids[broken_name], *[i for n, i in ids.items() if n != broken_name]),
    ]
    totals = run_watch(engine, batches, sync)
    captured = capsys.readouterr()
    assert sorted(calls) == sorted([str(ids[broken_name]), str(fine.id)] * 2)
    assert (totals.batches, totals.synced, totals.skipped) == (2, 2, 2)
    assert totals.failed == [str(ids[broken_name])] * 2
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert all(line.startswith(f"error: incremental sync of {broken_name} (") for line in errors)
    assert TOKEN not in captured.err and "second line" not in captured.err
    assert f"synced {fine.name}" in captured.out


def test_only_companies_with_a_connected_quickbooks_integration_are_synced(engine, sessions):
    with sessions.begin() as s:
        connected, stripe_only, disconnected, none = (factories.company(s) for _ in range(4))
        factories.integration(s, connected.id, connection_status="connected")
        factories.integration(s, stripe_only.id, integration_type="stripe", connection_status="connected")
        factories.integration(s, disconnected.id, connection_status="disconnected")
        all_ids = [connected.id, stripe_only.id, disconnected.id, none.id]
    assert connected_companies(engine, all_ids) == {connected.id: connected.name}
    assert connected_companies(engine, []) == {}
    with sessions.begin() as s:
        row = s.query(Integration).filter_by(company_id=connected.id).one()
        row.connection_status = "expired"
    assert connected_companies(engine, all_ids) == {}


@pytest.mark.slow
def test_watch_pushes_a_changed_invoice_to_quickbooks_within_seconds(flow_env, engine):  # noqa: F811
    """End to end with the real `incremental-sync` flow (the default callback) against the QBO sandbox."""
    from flows.sync import incremental_sync

    company_id = flow_env.connection.company_id
    incremental_sync(company=str(company_id))  # everything is in QuickBooks now
    with flow_env.sessions() as s:
        invoice = s.scalars(select(Invoice).where(Invoice.company_id == company_id).limit(1)).one()
    watcher = ChangeWatcher(engine, debounce=0.5, poll_interval=0.3, stop_after=60)
    changed: list[float] = []
    synced: list[float] = []

    def sync_then_stop_soon(company: str) -> object:
        result = default_incremental_sync(company)
        synced.append(time.monotonic())
        # Long enough for the watcher to see any write the sync itself made (which would start another).
        threading.Timer(2.0, watcher.stop).start()
        return result

    def edit_when_ready() -> None:
        assert watcher.ready.wait(30)
        with flow_env.sessions.begin() as s:
            row = s.get(Invoice, invoice.id)
            assert row is not None
            row.memo = "Change order 7: extra blocking"
        changed.append(time.monotonic())

    editor = threading.Thread(target=edit_when_ready)
    editor.start()
    totals = run_watch(engine, watcher, sync_then_stop_soon)  # the real flow, trigger realtime
    editor.join(10)
    # One batch: the sync's own writes (links, cursors, logs) are not money-table changes, so no ping-pong.
    assert (totals.batches, totals.synced, totals.failed) == (1, 1, [])
    assert synced[0] - changed[0] < 15  # debounce + poll + one incremental sync
    in_qbo = next(i for i in flow_env.qbo_items("Invoice") if i.get("DocNumber") == invoice.invoice_number)
    assert in_qbo["CustomerMemo"]["value"] == "Change order 7: extra blocking"
    with flow_env.sessions() as s:
        logged = s.scalars(
            select(IntegrationSyncLog).where(
                IntegrationSyncLog.entity_id == invoice.id, IntegrationSyncLog.trigger == "realtime"
            )
        ).all()
    assert [log.status for log in logged] == ["success"]


def test_watch_over_processes_syncs_each_connected_company_and_reports_failures(
    engine, sessions, capsys, tmp_path, monkeypatch
):
    with sessions.begin() as s:
        broken, fine, offline = (factories.company(s) for _ in range(3))
        for company in (broken, fine):
            factories.integration(s, company.id, connection_status="connected", is_active=True)
        factories.integration(s, offline.id, connection_status="expired")
        names = {c.id: c.name for c in (broken, fine)}
        ids = [broken.id, fine.id, offline.id]
    log = tmp_path / "syncs.log"
    monkeypatch.setenv("SHARD_TEST_LOG", str(log))
    monkeypatch.setenv("SHARD_TEST_FAIL", str(broken.id))
    monkeypatch.setenv("SHARD_TEST_SECONDS", "0.05")

    def never(company_id: str) -> object:
        raise AssertionError("with processes the syncs are the shard factory's, not this callback's")

    totals = run_watch(
        engine,
        [_batch(*ids)],
        never,
        processes=2,
        max_workers=2,
        shard_factory="tests.connectors.realtime_shard_sync:recording_sync",
    )
    captured = capsys.readouterr()
    assert (totals.batches, totals.synced, totals.skipped) == (1, 1, 1)
    assert totals.failed == [str(broken.id)]
    started = [line.split() for line in log.read_text().splitlines() if " start " in line]
    assert sorted(company for _, _, company, _, _ in started) == sorted(str(c) for c in names)
    assert {threads for *_, threads in started} == {"2"}  # each process got its thread count
    assert captured.err.strip() == (
        f"error: incremental sync of {broken.name} ({broken.id}) failed: QuickBooks said no"
    )
    assert f"synced {fine.name} ({fine.id})" in captured.out
