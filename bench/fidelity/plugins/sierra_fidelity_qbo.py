"""pytest plugin: point python-quickbooks' integration tests at the local QuickBooks sandbox.

Only the two base URLs the suite cannot be told from outside are changed: intuit-oauth's discovery document
(for the sandbox environment) and `QuickBooks.sandbox_api_url_v3`. Everything else (client id and secret,
refresh token, company id) reaches the suite through the environment variables it already reads.
$SIERRA_FIDELITY_QBO_URL is the sandbox's base URL (http on loopback, hence OAUTHLIB_INSECURE_TRANSPORT).
"""

from __future__ import annotations

import os
from typing import Any


def pytest_configure(config: Any) -> None:
    base = os.environ["SIERRA_FIDELITY_QBO_URL"].rstrip("/")
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

    import intuitlib.config
    from quickbooks.client import QuickBooks

    # The dict is shared with intuitlib.utils (imported by name): change it in place.
    intuitlib.config.DISCOVERY_URL["sandbox"] = f"{base}/.well-known/openid_configuration"
    QuickBooks.sandbox_api_url_v3 = f"{base}/v3"
