"""The web app of bench/api_latency.py, built from SIERRA_BENCH_DB_URL (uvicorn --factory --workers N)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from connectors.db.engine import make_engine, session_factory
from sierra_sync.web import AppDeps, create_app


def app() -> FastAPI:
    url = os.environ["SIERRA_BENCH_DB_URL"]
    counters = make_engine(url, check=False, async_commit=True)  # as `sierra-sync api serve` does
    return create_app(AppDeps(sessions=session_factory(make_engine(url)), counters_engine=counters))
