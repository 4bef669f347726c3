"""The loopback page of `sierra-sync connect PROVIDER`, over a real socket: whatever the callback's query
carries (Intuit's `error=`, echoed in the message) is shown as text, never run as HTML."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import httpx

from sandbox.common.server import LocalServer
from sierra_core.errors import SierraError
from sierra_sync.cli.connect import _callback_app, _Outcome

SCRIPT = "<script>alert(document.cookie)</script>"


def test_the_callback_page_escapes_what_it_echoes() -> None:
    def finish(query: Mapping[str, str]) -> uuid.UUID:
        # As connectors.kit.connect.complete does: the provider's error goes into the message.
        raise SierraError(
            f"QuickBooks was not connected: Intuit answered {query['error']}. Run connect again."
        )

    outcome = _Outcome()
    with LocalServer(_callback_app("QuickBooks Online", "/callback", finish, outcome)) as server:
        page = httpx.get(f"{server.url}/callback", params={"state": "s", "error": SCRIPT}, timeout=10)
    assert page.status_code == 400
    assert SCRIPT not in page.text and "<script>" not in page.text
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert outcome.done.is_set() and outcome.error is not None
