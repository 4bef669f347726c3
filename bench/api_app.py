"""The web app of bench/api_latency.py, built from SIERRA_BENCH_DB_URL (uvicorn --factory --workers N)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from sierra_core.db.engine import make_engine, session_factory
from sierra_sync.web import AppDeps, create_app
from sierra_sync.web.app import API_THREADS


def app() -> FastAPI:
    url = os.environ["SIERRA_BENCH_DB_URL"]
    # As `sierra-sync api serve` does: counters on an async-commit engine, one connection per API thread.
    counters = make_engine(url, check=False, async_commit=True, pool_size=API_THREADS + 1)
    return create_app(AppDeps(sessions=session_factory(make_engine(url)), counters_engine=counters))
