"""Run in a separate process by the concurrency test: wait for a common start, then ask for a token."""

from __future__ import annotations

import hashlib
import sys
import time
import uuid

import httpx

from connectors.kit.oauth import InvalidGrantError
from connectors.kit.tokens import DbTokenSource
from sierra_core.db.engine import make_engine, session_factory
from tests.connectors.quickbooks.oauth_helpers import keyring, local_app


def main(db_url: str, integration_id: str, base_url: str, key_text: str, start_at: float) -> None:
    import tests.connectors.quickbooks.oauth_helpers as helpers

    helpers.KEY_TEXT = key_text  # the parent's key (each process would otherwise generate its own)
    engine = make_engine(db_url)
    with httpx.Client(timeout=30) as http:
        source = DbTokenSource(
            session_factory(engine), uuid.UUID(integration_id), keyring(), local_app(base_url), http
        )
        time.sleep(max(0.0, start_at - time.time()))
        try:
            token = source.access_token()
        except InvalidGrantError:
            print("INVALID_GRANT")
            return
    print(f"TOKEN {hashlib.sha256(token.encode()).hexdigest()[:16]} REFRESHES {source.refreshes}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
