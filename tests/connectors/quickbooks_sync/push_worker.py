"""A push in its own process (the chaos test kills it with SIGKILL part-way)."""

from __future__ import annotations

import sys
import time
import uuid

from connectors.quickbooks.client import RetryPolicy
from connectors.quickbooks.connection import load_connection, open_client
from connectors.quickbooks_sync.push import Pusher
from connectors.quickbooks_sync.push_types import Target
from sierra_core.crypto import Keyring
from sierra_core.db.engine import make_engine, session_factory
from tests.connectors.quickbooks.oauth_helpers import KEY_CREATED, local_app


def main(db_url: str, company_id: str, base_url: str, key_text: str, start_at: str = "0") -> None:
    sessions = session_factory(make_engine(db_url))
    ring = Keyring.from_encoded({"k1": key_text}, {"k1": KEY_CREATED})
    with sessions() as s:
        conn = load_connection(s, uuid.UUID(company_id))
    retry = RetryPolicy(max_attempts=6, initial_wait=0.01, max_wait=0.05, jitter=0.0, max_server_wait=0.05)
    with open_client(sessions, conn, ring, local_app(base_url), retry=retry) as client:
        print("STARTED", flush=True)
        time.sleep(max(0.0, float(start_at) - time.time()))
        Pusher(sessions, client, Target(conn.integration_id, conn.company_id, conn.settings)).run()
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:6])
