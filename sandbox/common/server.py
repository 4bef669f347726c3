"""Run an ASGI app with uvicorn in a background thread, on a fixed or free loopback port.

Tests and benchmarks use `LocalServer` to talk to a sandbox over real sockets:

    with LocalServer(app) as server:
        httpx.get(f"{server.url}/v3/company/...")
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


class IntendedDropFilter(logging.Filter):
    """A sandbox drops responses on purpose (apply-then-drop faults); uvicorn reports each as an ERROR.
    Those lines are the fault injection working, not a failure: keep them out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "ASGI callable returned without completing response" not in record.getMessage()


def quiet_intended_drops() -> None:
    """Install IntendedDropFilter on uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, IntendedDropFilter) for f in logger.filters):
        logger.addFilter(IntendedDropFilter())


class LocalServer:
    """A uvicorn server in a daemon thread; `url` is known once `start()` returns."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        http: str = "auto",
        tls: tuple[str, str] | None = None,
    ) -> None:
        """`tls`: (certificate file, key file) to serve https (see `sandbox.kit.tls.self_signed`)."""
        certfile, keyfile = tls if tls is not None else (None, None)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            lifespan="on",
            access_log=False,
            http=http,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self.scheme = "https" if tls is not None else "http"
        self._server = uvicorn.Server(config)
        quiet_intended_drops()
        self._thread = threading.Thread(target=self._server.run, name=f"sandbox-{port}", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> LocalServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox server did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        sockets = [s for srv in self._server.servers for s in srv.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
