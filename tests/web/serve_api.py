"""Run the web app on a database URL and port (a separate API process for the multi-process tests)."""

from __future__ import annotations

import sys

import uvicorn

from sierra_core.db.engine import make_engine, session_factory
from sierra_sync.web import AppDeps, create_app

if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    app = create_app(AppDeps(sessions=session_factory(make_engine(url))))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
