"""A local QuickBooks Online sandbox: Intuit OAuth 2.0 and the QBO v3 accounting API as an ASGI app.

    from sandbox.quickbooks import SandboxOptions, create_app
    app = create_app(SandboxOptions(latency_ms=20))

See README.md in this folder for every option, route and admin endpoint.
"""

from sandbox.kit.clock import Clock
from sandbox.quickbooks.app import QboSandbox, create_app
from sandbox.quickbooks.options import SandboxOptions

__all__ = ["Clock", "QboSandbox", "SandboxOptions", "create_app"]
