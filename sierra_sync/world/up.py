"""`sierra-sync up`: start the local world and return once every part answers.

Order: ports (defaults where free), the app database migrated, the Prefect server and the sandboxes (in
parallel: the server takes longest), the blocks, the work pool and the deployments, then the worker, the
web app and `watch`. Whatever fails or is interrupted (SIGTERM, Ctrl-C) on the way, everything started so
far is stopped again: no half world is left running.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sierra_core.errors import SierraError
from sierra_core.settings import get_settings
from sierra_core.shutdown import STOP, StopRequest
from sierra_sync.demo.prefect_server import PrefectServer
from sierra_sync.world.ports import choose_ports
from sierra_sync.world.processes import base_env, executable, spawn, stop_all, wait_until
from sierra_sync.world.runner import RUNNER, SOCKET_URL_KEY, address_for, ping
from sierra_sync.world.state import Service, WorldState

SANDBOX_DIR = "sandbox"  # the sandboxes' state files (the demo writes them too)
QBO_STATE, STRIPE_STATE, XERO_STATE = "quickbooks.db", "stripe.json", "xero.sqlite"
PROJECT_DIR = Path(__file__).resolve().parents[2]
PREFECT_PORT = 4200
START_TIMEOUT_S = 120.0


@dataclass
class UpOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    prefect_port: int = PREFECT_PORT
    qbo_port: int = 8701
    stripe_port: int = 8702
    api_port: int = 8703
    xero_port: int = 8704
    schedules: bool = False  # False: deployments registered with their schedules paused


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def log_says(service: Service, text: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return text in Path(service.log).read_text(errors="replace")
        except OSError:
            return False

    return check


def prefect_env(env: dict[str, str], home: Path, host: str, port: int) -> dict[str, str]:
    """The Prefect server's environment: its own home and SQLite database, and the URLs its UI hands the
    browser (/ui-settings reports PREFECT_UI_API_URL), whatever port it got."""
    api, ui = f"http://{host}:{port}/api", f"http://{host}:{port}"
    return {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_API_URL": api,
        "PREFECT_UI_API_URL": api,
        "PREFECT_UI_URL": ui,
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_ENABLED": "true",
    }


def prefect_setup_pool() -> str:
    from sierra_sync.world.prefect_setup import POOL

    return POOL


class World:
    """One start of the world: what it started so far, so a failure stops exactly that."""

    def __init__(self, options: UpOptions, say: Callable[[str], None], stop: StopRequest = STOP) -> None:
        self.options = options
        self.say = say
        self.stop = stop
        self.state = WorldState(options.data_dir)
        self.data_dir = options.data_dir.resolve()
        self.started = time.monotonic()

    def _say(self, text: str) -> None:
        self.say(f"[{time.monotonic() - self.started:5.1f}s] {text}")

    def _check_stop(self) -> None:
        if self.stop.requested():
            raise SierraError("stopped while starting")

    def _wait(self, check: Callable[[], bool], what: str, service: Service) -> None:
        wait_until(check, what, service, self.state, START_TIMEOUT_S, self.stop)

    def start(self) -> dict[str, str]:
        """Start everything; on any failure stop what was started and re-raise. Returns the URLs."""
        try:
            return self._start()
        except BaseException:
            stopped = stop_all(self.state)
            if stopped:
                self.say(f"rolled back: stopped {', '.join(stopped)}")
            raise

    def _start(self) -> dict[str, str]:
        o, host = self.options, self.options.host
        ports = choose_ports(
            host,
            {
                "prefect": o.prefect_port,
                "quickbooks": o.qbo_port,
                "stripe": o.stripe_port,
                "api": o.api_port,
                "xero": o.xero_port,
            },
        )
        urls = {
            "prefect_ui": f"http://{host}:{ports['prefect']}",
            "prefect_api": f"http://{host}:{ports['prefect']}/api",
            "quickbooks": f"http://{host}:{ports['quickbooks']}",
            "stripe": f"http://{host}:{ports['stripe']}",
            "xero": f"http://{host}:{ports['xero']}",
            "api": f"http://{host}:{ports['api']}",
        }
        database_url = get_settings().resolved_database_url()
        env = {
            **base_env(),
            "SIERRA_DATA_DIR": str(self.data_dir),
            "SIERRA_DATABASE_URL": database_url,
            "SIERRA_HOST": host,
            "SIERRA_QBO_PORT": str(ports["quickbooks"]),
            "SIERRA_STRIPE_PORT": str(ports["stripe"]),
            "SIERRA_API_PORT": str(ports["api"]),
            "SIERRA_XERO_PORT": str(ports["xero"]),
            "PREFECT_HOME": str(self.data_dir / "prefect"),
        }
        self._migrate(database_url)
        prefect_home = self.data_dir / "prefect"
        prefect_home.mkdir(parents=True, exist_ok=True)
        kept = PrefectServer(home=prefect_home)
        if kept.try_reuse():  # `demo --keep-server` left one on this database: the world's replaces it
            kept.stop()
            self._say(f"stopped the demo's Prefect server at {kept.ui_url} (same database)")
        prefect = executable("prefect")
        server = spawn(
            self.state,
            "prefect",
            [prefect, "server", "start", "--host", host, "--port", str(ports["prefect"])],
            prefect_env(env, prefect_home, host, ports["prefect"]),
            {"prefect_ui": urls["prefect_ui"], "prefect_api": urls["prefect_api"]},
            prefect_home,
        )
        sandboxes = self._sandboxes(env, urls, ports)
        runner = self._runner(env)
        sierra = executable("sierra-sync")
        watch = spawn(self.state, "watch", [sierra, "watch"], env, {}, PROJECT_DIR)  # the database only
        self._wait(
            lambda: answers(f"{urls['quickbooks']}/__sandbox/stats"), "the QuickBooks sandbox", sandboxes
        )
        self._wait(lambda: answers(f"{urls['stripe']}/__sandbox/stats"), "the Stripe sandbox", sandboxes)
        self._wait(lambda: answers(f"{urls['xero']}/__sandbox/stats"), "the Xero sandbox", sandboxes)
        self._say(f"sandboxes: QuickBooks {urls['quickbooks']}, Stripe {urls['stripe']}, Xero {urls['xero']}")
        self._wait(lambda: answers(f"{urls['prefect_api']}/health"), "the Prefect server", server)
        self._say(f"Prefect server: {urls['prefect_ui']} (database {prefect_home / 'prefect.db'})")
        env["PREFECT_API_URL"] = urls["prefect_api"]
        # The worker creates the pool when it is missing; it starts while the deployments are applied.
        worker_argv = [prefect, "worker", "start", "--pool", prefect_setup_pool(), "--type", "process"]
        worker = spawn(self.state, "worker", worker_argv, env, {}, PROJECT_DIR)
        self._prefect_setup(urls, ports["api"])
        api_argv = [sierra, "api", "serve", "--port", str(ports["api"])]
        api = spawn(self.state, "api", api_argv, env, {"api": urls["api"]}, PROJECT_DIR)
        self._wait(log_says(watch, "watching"), "watch", watch)
        self._say("watch: running (an incremental sync of each company whose data changes)")
        self._wait(self._all_ready, "the worker (deployments Ready)", worker)
        self._say("worker: polling pool sierra-process; every deployment Ready")
        self._wait(lambda: answers(f"{urls['api']}/healthz"), "the web app (api serve)", api)
        self._say(f"web app: {urls['api']} (API playground {urls['api']}/docs)")
        address = runner.urls[SOCKET_URL_KEY]
        self._wait(lambda: ping(address), "the runner of `sierra-sync run`", runner)
        self._say(f"runner: `sierra-sync run` runs its flows in a fork of {address} (Prefect already loaded)")
        return urls

    def _migrate(self, database_url: str) -> None:
        from sierra_core.db import migrate
        from sierra_core.db.engine import make_engine

        engine = make_engine(database_url)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()

    def _runner(self, env: dict[str, str]) -> Service:
        """The runner of `sierra-sync run` (sierra_sync/world/runner.py): Prefect and the flows imported
        once, each run in a fork of it; it answers once they are imported."""
        address = address_for(self.state)
        argv = [sys.executable, "-m", "sierra_sync.world.runner", "--address", address]
        argv += ["--modules", str(self.state.dir / "runner.modules")]
        return spawn(self.state, RUNNER, argv, env, {SOCKET_URL_KEY: address}, PROJECT_DIR)

    def _sandboxes(self, env: dict[str, str], urls: dict[str, str], ports: dict[str, int]) -> Service:
        store = self.data_dir / SANDBOX_DIR
        store.mkdir(parents=True, exist_ok=True)
        argv = [
            executable("sierra-sync"),
            "sandbox",
            "--host",
            self.options.host,
            "--qbo-port",
            str(ports["quickbooks"]),
            "--stripe-port",
            str(ports["stripe"]),
            "--xero-port",
            str(ports["xero"]),
            "--state-file",
            str(store / QBO_STATE),
            "--stripe-state-file",
            str(store / STRIPE_STATE),
            "--xero-state-file",
            str(store / XERO_STATE),
            "--webhook-url",
            f"{urls['api']}/webhooks/quickbooks",
            "--stripe-webhook-url",
            f"{urls['api']}/webhooks/stripe",
        ]
        sandbox_urls = {"quickbooks": urls["quickbooks"], "stripe": urls["stripe"], "xero": urls["xero"]}
        return spawn(self.state, "sandbox", argv, env, sandbox_urls, PROJECT_DIR)

    def _prefect_setup(self, urls: dict[str, str], api_port: int) -> None:
        from prefect.context import refresh_global_settings_context

        from sierra_sync.world import prefect_setup

        os.environ["PREFECT_API_URL"] = urls["prefect_api"]
        refresh_global_settings_context()
        self._check_stop()
        created = prefect_setup.save_local_blocks(urls["quickbooks"], urls["stripe"], api_port, urls["xero"])
        keys = "token keys created" if created else "token keys kept"
        self._say(
            f"blocks: QuickBooks app, Stripe keys and Connect app, Xero app point at the sandboxes ({keys})"
        )
        self._check_stop()
        prefect_setup.ensure_pool()
        names = prefect_setup.apply_deployments(PROJECT_DIR, paused=not self.options.schedules)
        when = "schedules on" if self.options.schedules else "schedules paused"
        self._say(f"deployments: {len(names)} on work pool sierra-process ({when})")

    @staticmethod
    def _all_ready() -> bool:
        from sierra_sync.world.prefect_setup import deployments_ready

        ready, total = deployments_ready()
        return total > 0 and ready == total


def status(data_dir: Path) -> dict[str, Any]:
    """What runs and where: one key per URL (prefect_ui, prefect_api, api, quickbooks, stripe, xero) and
    the services with their pid, state and log."""
    state = WorldState(data_dir)
    state.clear_stale()
    services = state.records()
    report: dict[str, Any] = {"running": bool(services), "data_dir": str(data_dir.resolve())}
    for key in ("prefect_ui", "prefect_api", "api", "quickbooks", "stripe", "xero"):
        report[key] = next((s.urls[key] for s in services if key in s.urls), None)
    report["services"] = {s.name: {"pid": s.pid, "log": s.log} for s in services}
    return report


__all__ = ["UpOptions", "World", "answers", "prefect_env", "status"]
