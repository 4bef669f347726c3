"""The Xero sandbox on a state file (`KitOptions.state_file`): restarted on the same file it serves the same
organisations, documents, journals, attachments and tokens, and a connection removed with DELETE
/connections/{id} stays removed (its refresh token answers invalid_grant); a reset empties the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from sandbox.common.server import LocalServer
from sandbox.kit.clock import Clock
from sandbox.kit.spec import KitOptions
from sandbox.kit.throttle import Limits
from sandbox.registry import SandboxSettings, get_sandbox
from tests.sandbox.xero.conftest import API, Xero


def _start(state: Path) -> tuple[LocalServer, Xero]:
    from sandbox.xero import XeroSandbox, XeroSandboxOptions

    kit = KitOptions(
        clock=Clock(),
        seed=3,
        limits=Limits(requests_per_minute=1000, concurrent_requests=5),
        state_file=str(state),
    )
    sandbox = XeroSandbox(XeroSandboxOptions(kit=kit))
    server = LocalServer(sandbox.app).start()
    return server, Xero(server.url, sandbox)


def _sale(**changes: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"Name": "Harbour Cafe"},
        "Status": "AUTHORISED",
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "LineItems": [{"Description": "Beans", "Quantity": 3, "UnitAmount": 12.35, "AccountCode": "200"}],
        **changes,
    }


def _rows(state: Path, sql: str, *args: str) -> list[Any]:
    with sqlite3.connect(state) as db:
        return db.execute(sql, args).fetchall()


def test_a_restarted_sandbox_serves_the_same_organisation_documents_journals_and_tokens(
    tmp_path: Path,
) -> None:
    state = tmp_path / "xero.sqlite"
    server, xero = _start(state)
    try:
        tokens = xero.connect()
        with xero.api(tokens) as api:
            invoice = api.put("/Invoices", json=_sale(), headers={"Idempotency-Key": "k1"}).json()[
                "Invoices"
            ][0]
            payment = {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                "Account": {"Code": "090"},
                "Amount": 10,
            }
            assert api.put("/Payments", json=payment).status_code == 200
            added = api.put(
                f"/Invoices/{invoice['InvoiceID']}/Attachments/note.txt",
                content=b"kept",
                headers={"content-type": "text/plain"},
            )
            assert added.status_code == 200, added.text
            journals = api.get("/Journals").json()["Journals"]
            contacts = api.get("/Contacts").json()["Contacts"]
            organisation = api.get("/Organisation").json()["Organisations"][0]
        # write-through: the invoice is in the file while the sandbox still runs
        assert _rows(state, "SELECT count(*) FROM records WHERE id = ?", invoice["InvoiceID"]) == [(1,)]
    finally:
        server.stop()
    assert len(journals) == 2 and {c["Name"] for c in contacts} >= {"Harbour Cafe", "Ridgeway Developments"}

    server, xero = _start(state)
    try:
        with xero.api(tokens) as api:  # the same access token still works
            connections = httpx.get(
                f"{xero.url}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            ).json()
            assert [c["tenantId"] for c in connections] == [tokens["tenantId"]]
            assert api.get("/Organisation").json()["Organisations"][0] == organisation
            again = api.get(f"/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
            assert again["Total"] == invoice["Total"] == 42.61 and again["SubTotal"] == 37.05
            assert again["AmountDue"] == 32.61 and again["InvoiceNumber"] == invoice["InvoiceNumber"]
            assert api.get("/Contacts").json()["Contacts"] == contacts
            assert api.get("/Journals").json()["Journals"] == journals
            replay = api.put("/Invoices", json=_sale(), headers={"Idempotency-Key": "k1"})
            assert replay.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]  # the key still replays
            assert api.get(f"/Invoices/{invoice['InvoiceID']}/Attachments/note.txt").content == b"kept"
            fresh = api.put("/Invoices", json=_sale()).json()["Invoices"][0]
            assert fresh["InvoiceNumber"] != invoice["InvoiceNumber"]  # the numbering carries on
            assert len(api.get("/Journals").json()["Journals"]) == 3
        refreshed = httpx.post(
            f"{xero.url}/connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": "local-client",
                "client_secret": "local-secret",
            },
        )
        assert refreshed.status_code == 200, refreshed.text
    finally:
        server.stop()


def test_a_removed_connection_stays_removed_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "xero.sqlite"
    server, xero = _start(state)
    try:
        gone, kept = xero.connect(), xero.connect()
        bearer = {"Authorization": f"Bearer {gone['access_token']}"}
        listed = httpx.get(f"{xero.url}/connections", headers=bearer).json()
        assert [c["tenantId"] for c in listed] == [gone["tenantId"]]
        removed = httpx.delete(f"{xero.url}/connections/{listed[0]['id']}", headers=bearer)
        assert removed.status_code == 204, removed.text
        assert httpx.get(f"{xero.url}/connections", headers=bearer).json() == []
    finally:
        server.stop()
    # the revocation is in the file, not only in the stopped sandbox's memory
    grants = [json.loads(v) for (v,) in _rows(state, "SELECT value FROM kv WHERE ns = 'oauth_grant'")]
    assert sorted(g["revoked"] for g in grants) == [False, True]

    server, xero = _start(state)
    try:
        connections = httpx.get(f"{xero.url}/connections", headers=bearer)
        assert connections.status_code == 200 and connections.json() == []
        again = httpx.delete(f"{xero.url}/connections/{listed[0]['id']}", headers=bearer)
        assert again.status_code == 404  # already removed
        refused = _refresh(xero, gone["refresh_token"])
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_grant"}  # Xero Identity's bare answer
        with xero.api(gone) as api:
            assert api.get("/Organisation").status_code == 401
        # the other connection is untouched: listed, and its refresh token still works
        other = httpx.get(
            f"{xero.url}/connections", headers={"Authorization": f"Bearer {kept['access_token']}"}
        )
        assert [c["tenantId"] for c in other.json()] == [kept["tenantId"]]
        assert _refresh(xero, kept["refresh_token"]).status_code == 200
    finally:
        server.stop()


def _refresh(xero: Xero, refresh_token: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": "local-client",
        "client_secret": "local-secret",
    }
    return httpx.post(f"{xero.url}/connect/token", data=form)


def test_a_reset_empties_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "xero.sqlite"
    server, xero = _start(state)
    try:
        tokens = xero.connect()
        with xero.api(tokens) as api:
            assert api.put("/Invoices", json=_sale()).status_code == 200
        assert httpx.post(f"{xero.url}/__sandbox/reset").status_code in (200, 204)
        assert _rows(state, "SELECT count(*) FROM records") == [(0,)]
        assert _rows(state, "SELECT count(*) FROM kv") == [(0,)]
    finally:
        server.stop()
    server, xero = _start(state)
    try:
        assert xero.sandbox.orgs == {}
        gone = httpx.get(
            f"{xero.url}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert gone.status_code == 401
    finally:
        server.stop()


def test_the_registry_gives_the_xero_sandbox_its_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox" / "xero.sqlite"
    app = get_sandbox("xero").build(SandboxSettings(xero_state_file=str(state)))
    with LocalServer(app) as server:
        tokens = httpx.post(f"{server.url}/__sandbox/tokens", json={}, timeout=10).json()
    assert state.exists()
    with LocalServer(get_sandbox("xero").build(SandboxSettings(xero_state_file=str(state)))) as server:
        answer = httpx.get(
            f"{server.url}{API}/Organisation",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "xero-tenant-id": tokens["tenantId"],
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["Organisations"][0]["OrganisationID"] == tokens["tenantId"]
