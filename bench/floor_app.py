"""The floor under bench/api_latency.py: the least any Python API can do for GET /api/v1/projects, with no
framework at all. Not part of the product; bench/api_floor.py serves it (uvicorn --factory).

Per request: SHA-256 of the bearer key, one UPDATE that checks the key and counts the request (the same
conditions and counters as connectors.apikeys), one SELECT of a page of 50 projects with the true total, its
JSON built by PostgreSQL itself. No request log, no validation, no permission check, no rate-limit headers:
each of those only adds to what is measured here. Connections: psycopg's async driver, one per pending
statement up to POOL, asynchronous commit (as the API's counters engine), statements prepared server-side.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import psycopg

POOL = 10

AUTH = """
UPDATE api_keys SET
  requests_this_hour = CASE WHEN hour_window_start = date_trunc('hour', now()) THEN requests_this_hour + 1
                       ELSE 1 END,
  hour_window_start = date_trunc('hour', now()),
  requests_today = CASE WHEN day_window_start = date_trunc('day', now()) THEN requests_today + 1 ELSE 1 END,
  day_window_start = date_trunc('day', now()),
  total_requests = total_requests + 1,
  last_used_at = now()
WHERE key_value = %s AND is_active AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
  AND requests_this_hour < rate_limit_per_hour AND requests_today < rate_limit_per_day
RETURNING company_id
"""

PAGE = """
SELECT json_build_object(
  'data', coalesce(json_agg(json_build_object(
    'id', id, 'name', name, 'description', description, 'client_id', customer_id,
    'project_type', project_type, 'estimated_budget', budget, 'start_date', start_date,
    'target_completion', end_date, 'status', status, 'code', code, 'site_address', site_address,
    'created_at', created_at, 'updated_at', updated_at)), '[]'),
  'pagination', json_build_object('limit', 50, 'offset', 0, 'total', coalesce(max(total), 0)))::text
FROM (
  SELECT *, count(*) OVER () AS total FROM projects
  WHERE company_id = %s AND deleted_at IS NULL ORDER BY created_at DESC, id LIMIT 50
) AS page
"""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class FloorApp:
    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                for _ in range(POOL):
                    conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                    await conn.execute("SET synchronous_commit TO OFF")
                    self.pool.put_nowait(conn)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                while not self.pool.empty():
                    await self.pool.get_nowait().close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        raw_key = dict(scope["headers"]).get(b"authorization", b"").removeprefix(b"Bearer ")
        conn = await self.pool.get()
        try:
            cur = await conn.execute(AUTH, (hashlib.sha256(raw_key).hexdigest(),), prepare=True)
            key = await cur.fetchone()
            body = b'{"error":"unauthorized"}'
            if key is not None:
                cur = await conn.execute(PAGE, (key[0],), prepare=True)
                page = await cur.fetchone()
                assert page is not None
                body = page[0].encode()
        finally:
            self.pool.put_nowait(conn)
        status = 200 if key is not None else 401
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def app() -> FloorApp:
    return FloorApp(os.environ["SIERRA_BENCH_CONNINFO"])
