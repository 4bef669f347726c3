"""SIGTERM and SIGINT stop every long-running command cleanly (issue 18, item 4): each runs as a real process
in its own process group; once it is ready it gets the signal, and then it must exit 0 within a bound,
print no traceback and no ERROR line, leave no process behind (its group empty, no descendant anywhere)
and free its port. `watch` gets the signal in the middle of a push, and the sync log must be consistent.

The commands share one Prefect test server (the session's `prefect_api`) except the case that is about
Prefect's own temporary server."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sierra_core.db import migrate
from sierra_core.db.engine import make_engine
from sierra_core.db.models import EntityLink, IntegrationSyncLog, Invoice
from sierra_sync.demo.prefect_server import free_port, port_free
from tests.connectors.quickbooks_sync.conftest import connected  # noqa: F401 - fixture used by flow_env
from tests.flows.conftest import flow_env  # noqa: F401 - a company connected to the QBO sandbox
from tests.processes import Command, assert_clean_stop

pytestmark = pytest.mark.slow

STOP_WITHIN = 30.0  # seconds from the signal to the exit (generous: the machine is shared)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIERRA_", "PREFECT_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1", **extra)
    return env


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite app database for the commands that only need one to start."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stop')}/app.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def started() -> Iterator[list[Command]]:
    """Commands started by the test; whatever happens, none survives it."""
    commands: list[Command] = []
    yield commands
    for command in commands:
        command.kill()


def start(started: list[Command], args: list[str], env: dict[str, str], cwd: Path | None = None) -> Command:
    command = Command(args, env, cwd)
    started.append(command)
    return command


def wait_healthy(command: Command, url: str, timeout: float = 120.0) -> None:
    """Until `url` answers 200 (the server listens): the command is ready."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert command.proc.poll() is None, command.output
        assert time.monotonic() < deadline, command.output
        time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sandbox_stops_and_frees_its_ports(started, sig):
    qbo_port, stripe_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    command = start(
        started, ["sandbox", "--qbo-port", str(qbo_port), "--stripe-port", str(stripe_port)], base_env()
    )
    command.wait_for("Press Ctrl-C to stop.")
    wait_healthy(command, f"http://127.0.0.1:{qbo_port}/__sandbox/stats")
    command.stop(sig, STOP_WITHIN)
    assert_clean_stop(command)
    assert "stopping" in command.output
    assert port_free("127.0.0.1", qbo_port) and port_free("127.0.0.1", stripe_port)


@pytest.fixture
def prefect_db_copy(prefect_api: str, tmp_path: Path) -> str:
    """A copy of the session's Prefect test database, already migrated: a temporary Prefect server started
    on it skips the migrations (half a minute on a fresh database)."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    source = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split(":///", 1)[1]
    target = tmp_path / "prefect.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite+aiosqlite:///{target}"


def test_api_serve_stops_the_temporary_prefect_server_it_started(started, app_db, prefect_db_copy, tmp_path):
    """No PREFECT_API_URL: Prefect runs a temporary API server as a child (uvicorn), which it stops only from
    an atexit hook; uvicorn re-raises SIGTERM after its shutdown, so the process used to die of it and leave
    that server running forever, holding a port.

    On that embedded default, with no token keys saved yet, creating a webhook subscription works (it
    answered 503 "not configured": the keys that seal subscription secrets existed only as a block)."""
    with sqlite3.connect(prefect_db_copy.split(":///", 1)[1]) as prefect_db:  # no keys, as on a fresh machine
        prefect_db.execute("DELETE FROM block_document WHERE name = 'sierra-token-keys'")
    prefect_db.close()
    key = _api_key(app_db, "webhooks:rw")
    port = free_port("127.0.0.1")
    env = base_env(
        SIERRA_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        SIERRA_DATABASE_URL=app_db,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=prefect_db_copy,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",  # a loaded machine
    )
    command = start(started, ["api", "serve", "--port", str(port), "--dispatch", "in-process"], env)
    wait_healthy(command, f"http://127.0.0.1:{port}/healthz")
    children = {pid: cmd for pid, cmd in command.processes().items() if pid != command.proc.pid}
    assert any("uvicorn" in cmd for cmd in children.values()), children  # the temporary Prefect server
    created = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hooks", "events": ["invoice.synced"]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["secret"].startswith("whsec_")
    command.stop(signal.SIGTERM, STOP_WITHIN)
    assert_clean_stop(command)
    assert port_free("127.0.0.1", port)
    assert "AppDeps(" not in command.output and "alembic" not in command.output, command.output


def _api_key(url: str, permissions: str) -> str:
    from connectors.apikeys import create_key, parse_permissions
    from sierra_core.db.engine import session_factory
    from tests import factories

    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        company = factories.company(session, f"Playground Builders {uuid.uuid4().hex[:6]}")
        raw = create_key(session, company.id, "playground", parse_permissions(permissions)).raw
    engine.dispose()
    return raw


def test_webhooks_serve_stops_on_sigterm_and_on_sigint(started, app_db, prefect_api):
    env = base_env(SIERRA_DATABASE_URL=app_db, PREFECT_API_URL=prefect_api)
    servers = {}
    for sig in (signal.SIGTERM, signal.SIGINT):  # two processes started at once, each on its own port
        port = free_port("127.0.0.1")
        args = ["webhooks", "serve", "--port", str(port), "--dispatch", "in-process"]
        servers[sig] = (start(started, args, env), port)
    for sig, (command, port) in servers.items():
        wait_healthy(command, f"http://127.0.0.1:{port}/healthz")
        command.stop(sig, STOP_WITHIN)
        assert_clean_stop(command)
        assert port_free("127.0.0.1", port)


def _delete_scheduled_runs() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    scheduled = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
    )
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(flow_run_filter=scheduled, limit=200):
            client.delete_flow_run(run.id)


@pytest.mark.parametrize(
    ("sig", "when"),
    [(signal.SIGTERM, "serving"), (signal.SIGINT, "ready:")],
    ids=["SIGTERM-while-starting", "SIGINT-when-ready"],
)
def test_serve_stops_while_starting_and_when_ready(started, app_db, prefect_api, sig, when):
    """`serve` runs Prefect's runner, which takes SIGTERM in the main thread and, before it has started,
    answers it with sys.exit in the middle of its event loop: the process hung. Now the runner runs in a
    worker thread and the stop is ours, from the first line to the last.

    The runner serves no run here (runs in flight are cancelled by Prefect's runner itself): the runs other
    tests' deployments left overdue on the shared server are deleted first, and it polls once, at start."""
    _delete_scheduled_runs()
    env = base_env(
        SIERRA_DATABASE_URL=app_db, PREFECT_API_URL=prefect_api, PREFECT_RUNNER_POLL_FREQUENCY="3600"
    )
    command = start(started, ["serve"], env)
    command.wait_for(when)
    command.stop(sig, STOP_WITHIN + 40)  # the runner may cancel a scheduled run in flight (30 s grace)
    assert_clean_stop(command)


@pytest.mark.parametrize(
    ("migrated_db", "sig"),
    [("sqlite", signal.SIGTERM), ("postgresql", signal.SIGINT)],  # polling and LISTEN, each signal once
    ids=["sqlite-SIGTERM", "postgresql-SIGINT"],
    indirect=["migrated_db"],
)
def test_watch_stopped_mid_push_ends_after_the_batch_in_flight(started, flow_env, db, prefect_api, sig):  # noqa: F811
    """The signal lands while a push's batch request is in flight (the sandbox answers slowly): the batch
    finishes and is recorded, the push stops there, the process exits 0. The sync log is consistent: no
    attempt left in progress, a link for every success; what was not reached waits for the next sync."""
    realm = flow_env.connection.realm_id
    flow_env.qbo.admin("POST", "faults", {"realm": realm, "latency_ms": 1000})
    env = base_env(
        SIERRA_DATABASE_URL=db.url,
        PREFECT_API_URL=prefect_api,
        SIERRA_QBO_RETRY_INITIAL_WAIT="0.01",
        SIERRA_STOP_GRACE_SECONDS="20",
    )
    command = start(started, ["watch", "--poll-interval", "0.3", "--debounce", "0.1"], env)
    command.wait_for("watching")
    with flow_env.sessions.begin() as s:  # a change: the watcher starts an incremental sync of everything
        invoice = s.scalars(select(Invoice).limit(1)).one()
        invoice.memo = "Change order 12"
    deadline = time.monotonic() + 90
    while True:  # until a push attempt is committed: its batch request is on its way to the sandbox
        with flow_env.sessions() as s:
            if s.scalar(select(func.count()).where(IntegrationSyncLog.status == "in_progress")):
                break
        assert command.proc.poll() is None, command.output
        assert time.monotonic() < deadline, command.output
        time.sleep(0.05)
    command.stop(sig, STOP_WITHIN)
    assert_clean_stop(command)
    assert "early: the next sync does the rest" in command.output, command.output
    with flow_env.sessions() as s:
        logs = s.scalars(select(IntegrationSyncLog).where(IntegrationSyncLog.direction == "push")).all()
        links = {(link.entity_type, link.app_id) for link in s.scalars(select(EntityLink))}
        invoices = s.scalar(select(func.count()).select_from(Invoice))
    assert logs, command.output
    assert {log.status for log in logs} <= {"success", "failed", "retrying"}  # none left in progress
    assert all((log.entity_type, log.entity_id) in links for log in logs if log.status == "success")
    assert sum(1 for kind, _ in links if kind == "invoice") < invoices  # it did stop part-way
