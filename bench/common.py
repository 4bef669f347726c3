"""Shared set-up for benchmarks: a sandbox on a free port, a migrated database, seeded and connected
companies, and helpers to count what the sandbox saw."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from connectors.kit import connect, oauth
from connectors.quickbooks.connection import Connection, load_connection
from connectors.quickbooks.provider import QUICKBOOKS
from connectors.quickbooks.settings import sample_company_settings
from connectors.seed.generate import seed
from sandbox.common.server import LocalServer
from sandbox.quickbooks import SandboxOptions, create_app
from sierra_core.crypto import Keyring, generate_key
from sierra_core.db import migrate
from sierra_core.db.engine import make_engine, session_factory
from sierra_core.db.models import Company, Integration, Invoice

KEY_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Bench:
    url: str
    sessions: sessionmaker[Session]
    engine: Any
    ring: Keyring
    key_text: str
    app: oauth.App
    db_url: str

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        resp = httpx.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def requests(self, realm: str) -> int:
        return int(self.admin("GET", f"stats?realm={realm}")["requests_total"])

    def connect(self, company_id: uuid.UUID) -> Connection:
        with httpx.Client(timeout=30) as http:
            self.app = oauth.discover(http, self.app)
            auth = connect.begin(self.sessions, self.ring, self.app, company_id)
            location = httpx.get(auth.url, follow_redirects=False, timeout=30).headers["location"]
            params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
            integration_id = connect.complete(
                self.sessions,
                self.ring,
                self.app,
                http,
                state=params["state"],
                code=params["code"],
                callback={"realmId": params["realmId"]},
            )
        with self.sessions.begin() as s:
            s.execute(
                update(Integration)
                .where(Integration.id == integration_id)
                .values(settings=sample_company_settings().to_json())
            )
        with self.sessions() as s:
            return load_connection(s, company_id)

    def seed_sent(self, companies: int, invoices: int, seed_value: int = 42) -> list[uuid.UUID]:
        """Seed, then make every invoice a sent, open one (so `invoices` are all pushable)."""
        seed(self.engine, companies=companies, invoices=invoices, seed_value=seed_value)
        with self.sessions.begin() as s:
            s.execute(
                update(Invoice)
                .where(Invoice.status.in_(["draft", "void"]))
                .values(status="sent", balance=Invoice.total, voided_at=None)
            )
            return list(s.scalars(select(Company.id).order_by(Company.name)))


def _serve_sandbox(options: SandboxOptions, urls: Any, stop: Any) -> None:
    """In a process of its own: the QuickBooks sandbox until `stop` is set; its URL goes to `urls`."""
    with LocalServer(create_app(options)) as server:
        urls.put(server.url)
        stop.wait()


@contextmanager
def sandbox_url(options: SandboxOptions, separate_process: bool = False) -> Iterator[str]:
    """The QuickBooks sandbox: a thread of this process, or (`separate_process`) a process of its own, as
    in the local world and in production, so its work never competes with the measured code for the GIL."""
    if not separate_process:
        with LocalServer(create_app(options)) as server:
            yield server.url
        return
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: none of our threads or engines
    urls, stop = context.Queue(), context.Event()
    process = context.Process(target=_serve_sandbox, args=(options, urls, stop), daemon=True)
    process.start()
    try:
        yield str(urls.get(timeout=120))
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.kill()


@contextmanager
def bench_env(
    options: SandboxOptions,
    db_url: str | None = None,
    schema: str | None = None,
    *,
    sandbox_process: bool = False,
) -> Iterator[Bench]:
    """With `schema` (PostgreSQL), everything lives in that schema, created now and dropped afterwards;
    without it a PostgreSQL database's `public` schema is emptied first. `sandbox_process`: the sandbox
    runs in a process of its own (see `sandbox_url`)."""
    with tempfile.TemporaryDirectory() as tmp, sandbox_url(options, sandbox_process) as server_url:
        url = db_url or f"sqlite:///{tmp}/bench.db"
        admin = make_engine(url)
        if url.startswith("postgresql") and schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        elif url.startswith("postgresql"):
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine = make_engine(url)
        migrate.upgrade(engine)
        key_text = generate_key()
        ring = Keyring.from_encoded({"bench": key_text}, {"bench": KEY_CREATED})
        app = oauth.App(
            provider=QUICKBOOKS,
            environment="local",
            client_id=options.client_id,
            client_secret=options.client_secret,
            redirect_uri="http://127.0.0.1:9/callback",
            local_base=server_url,
        )
        try:
            yield Bench(server_url, session_factory(engine), engine, ring, key_text, app, url)
        finally:
            engine.dispose()
            if url.startswith("postgresql") and schema is not None:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
