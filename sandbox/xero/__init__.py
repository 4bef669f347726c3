"""The local Xero sandbox on the sandbox kit (see `app.py`)."""

from sandbox.xero.app import XeroSandbox, XeroSandboxOptions, create_app

__all__ = ["XeroSandbox", "XeroSandboxOptions", "create_app"]
