"""The web app's real-socket server (tests/web/conftest.py) for the ingress tests of Xero's webhooks."""

from tests.web.conftest import web_server

__all__ = ["web_server"]
