"""A failed sync sends one message through the configured Prefect notification block (an apprise json://
URL here, received by a local HTTP server): company, record, error and fix; no block, no message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from prefect.blocks.notifications import SlackWebhook
from pydantic import SecretStr
from sqlalchemy import select

from flows.push import push_to_quickbooks
from sierra_core.db.models import Company, Invoice

BLOCK = "sierra-test-notify"
# apprise (Prefect's notification library) still imports imghdr, deprecated since Python 3.11.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _break_one_invoice(sessions) -> tuple[str, str]:
    """A memo longer than QuickBooks allows: a permanent, actionable failure of one invoice."""
    with sessions.begin() as s:
        invoice = s.scalars(
            select(Invoice).where(Invoice.status != "void").order_by(Invoice.invoice_number)
        ).first()
        invoice.memo = "x" * 1200
        company = s.get(Company, invoice.company_id)
        return company.name, invoice.invoice_number


def test_a_failed_push_notifies_with_company_record_error_and_fix(flow_env, receiver, monkeypatch):
    SlackWebhook(  # its url takes any apprise URL: json:// posts the message as JSON
        url=SecretStr(f"json://127.0.0.1:{receiver.port}/sierra"), allow_private_urls=True
    ).save(BLOCK, overwrite=True)
    monkeypatch.setenv("SIERRA_NOTIFY_BLOCK", BLOCK)
    company, number = _break_one_invoice(flow_env.sessions)

    summary = push_to_quickbooks(company=company)

    assert any(f["status"] == "failed" for f in summary["failures"])
    [post] = receiver.posts
    text = f"{post['title']}\n{post['message']}"
    assert company in text
    assert f"Invoice #{number}" in text
    assert "memo longer than QuickBooks allows" in text
    assert "replay-failed" in text  # the fix
    assert "local-secret" not in text and "Bearer" not in text


def test_no_block_configured_sends_nothing(flow_env, receiver, monkeypatch):
    monkeypatch.delenv("SIERRA_NOTIFY_BLOCK", raising=False)
    company, _ = _break_one_invoice(flow_env.sessions)
    summary = push_to_quickbooks(company=company)
    assert summary["failures"]
    assert receiver.posts == []


def test_a_clean_push_sends_nothing(flow_env, receiver, monkeypatch):
    SlackWebhook(  # its url takes any apprise URL: json:// posts the message as JSON
        url=SecretStr(f"json://127.0.0.1:{receiver.port}/sierra"), allow_private_urls=True
    ).save(BLOCK, overwrite=True)
    monkeypatch.setenv("SIERRA_NOTIFY_BLOCK", BLOCK)
    with flow_env.sessions() as s:
        company = s.scalar(select(Company.name))
    summary = push_to_quickbooks(company=company)
    assert summary["failures"] == []
    assert receiver.posts == []
