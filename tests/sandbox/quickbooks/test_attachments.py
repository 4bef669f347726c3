"""Attachable notes, multipart /upload, /download and the temporary links, over raw HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.quickbooks.attachments import LINK_TTL_S
from tests.sandbox.quickbooks.conftest import Sandbox, make_sandbox

Client = tuple[str, httpx.Client]
PDF = b"%PDF-1.4\n" + bytes(range(256)) + b"\r\n\r\n%%EOF\n"


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["Fault"]["Error"][0]["code"])


@pytest.fixture
def books(qbo: Sandbox) -> Iterator[Client]:
    realm_id, tokens = qbo.realm(seed="sample")
    with qbo.api(realm_id, tokens["access_token"]) as api:
        yield realm_id, api


def note(entity_type: str, value: str, text: str = "This is an attached note.") -> dict[str, object]:
    return {
        "Note": text,
        "AttachableRef": [{"IncludeOnSend": "false", "EntityRef": {"type": entity_type, "value": value}}],
    }


def test_note_create_update_query_delete(books: Client) -> None:
    _, api = books
    created = api.post("/attachable", json=note("Invoice", "144"))
    assert created.status_code == 200, created.text
    att = created.json()["Attachable"]
    assert att["AttachableRef"] == [
        {"IncludeOnSend": False, "EntityRef": {"type": "Invoice", "value": "144"}}
    ]
    assert "FileAccessUri" not in att and att["SyncToken"] == "0"
    vendor_note = api.post("/attachable", json=note("vendor", "56")).json()["Attachable"]
    assert vendor_note["AttachableRef"][0]["EntityRef"] == {"type": "Vendor", "value": "56"}
    updated = api.post("/attachable", json={**att, "Note": "Updated note"}).json()["Attachable"]
    assert updated["Note"] == "Updated note" and updated["SyncToken"] == "1"
    query = "select * from attachable where AttachableRef.EntityRef.value = '144'"
    rows = api.get("/query", params={"query": query}).json()["QueryResponse"]["Attachable"]
    assert {r["Id"] for r in rows} == {att["Id"], "161"}  # with the sample company's note
    assert code_of(api.post("/attachable", json=note("Invoice", "999999"))) == "610"
    assert code_of(api.post("/attachable", json=note("Spaceship", "1"))) == "2010"
    assert code_of(api.post("/attachable", json={"AttachableRef": []})) == "2020"  # neither Note nor FileName
    bad_category = {**note("Invoice", "144"), "Category": "receipt"}  # case-sensitive enumeration
    assert code_of(api.post("/attachable", json=bad_category)) == "2010"
    deleted = api.post("/attachable", params={"operation": "delete"}, json=updated)
    assert deleted.json()["Attachable"] == {"status": "Deleted", "domain": "QBO", "Id": att["Id"]}


def test_upload_download_and_temporary_links(qbo: Sandbox, books: Client) -> None:
    realm_id, api = books
    metadata = {
        "AttachableRef": [{"EntityRef": {"type": "Bill", "value": "152"}}],
        "FileName": "receipt_nov15.pdf",
        "ContentType": "application/pdf",
        "Category": "Receipt",
    }
    files: dict[str, Any] = {
        "file_metadata_0": (None, json.dumps(metadata), "application/json"),
        "file_content_0": ("receipt_nov15.pdf", PDF, "application/pdf"),
    }
    uploaded = api.post("/upload", files=files)
    assert uploaded.status_code == 200, uploaded.text
    [item] = uploaded.json()["AttachableResponse"]
    att = item["Attachable"]
    assert att["FileName"] == "receipt_nov15.pdf" and att["Size"] == len(PDF) and att["Category"] == "Receipt"
    assert att["FileAccessUri"] == f"/v3/company/{realm_id}/download/{att['Id']}"
    assert att["AttachableRef"][0]["EntityRef"] == {"type": "Bill", "value": "152"}
    # The stored link works without a token; /download hands out a fresh one.
    assert httpx.get(att["TempDownloadUri"]).content == PDF
    link = api.get(f"/download/{att['Id']}")
    assert link.status_code == 200 and link.headers["content-type"] == "text/plain"
    fetched = httpx.get(link.text)
    assert fetched.content == PDF and fetched.headers["content-type"] == "application/pdf"
    assert 'filename="receipt_nov15.pdf"' in fetched.headers["content-disposition"]
    assert httpx.get(link.text.replace("signature=", "signature=0")).status_code == 403
    qbo.clock.advance(LINK_TTL_S + 1)
    assert httpx.get(link.text).status_code == 403  # expired: ask /download again
    assert httpx.get(api.get(f"/download/{att['Id']}").text).content == PDF
    # File fields are read-only; a metadata update keeps the file.
    kept = api.post("/attachable", json={**att, "Note": "kept", "Size": 1, "FileAccessUri": "x"}).json()
    assert (
        kept["Attachable"]["Size"] == len(PDF) and kept["Attachable"]["FileAccessUri"] == att["FileAccessUri"]
    )
    assert code_of(api.get("/download/161")) == "610"  # a note has no file
    gone = api.post("/attachable", params={"operation": "delete"}, json=kept["Attachable"])
    assert gone.status_code == 200 and code_of(api.get(f"/download/{att['Id']}")) == "610"


def test_upload_as_python_quickbooks_sends_it(books: Client) -> None:
    """Bare LF line ends, a preamble, part names file_*_01 and a base64 file part without a filename."""
    _, api = books
    boundary = "-------------PythonMultipartPost"
    meta = json.dumps(
        {
            "AttachableRef": [{"EntityRef": {"type": "Vendor", "value": "56"}}],
            "FileName": "t.txt",
            "ContentType": "text/plain",
            "Note": "Sample note",
        }
    )
    content = base64.b64encode(b"File contents").decode()
    body = "\n".join(
        [
            "",
            f"--{boundary}",
            'Content-Disposition: form-data; name="file_metadata_01"',
            "Content-Type: application/json",
            "",
            meta,
            "",
            f"--{boundary}",
            'Content-Disposition: form-data; name="file_content_01"',
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: base64",
            "",
            content,
            "",
            f"--{boundary}--",
            "",
        ]
    )
    response = api.post(
        "/upload", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status_code == 200, response.text
    att = response.json()["AttachableResponse"][0]["Attachable"]
    assert (
        att["Note"] == "Sample note"
        and att["Size"] == len(b"File contents")
        and att["ContentType"] == "text/plain"
    )
    assert httpx.get(api.get(f"/download/{att['Id']}").text).content == b"File contents"


def test_upload_faults_per_file_and_per_request(books: Client) -> None:
    _, api = books
    files: dict[str, Any] = {
        "file_content_0": ("ok.png", b"\x89PNG\r\n", "image/png"),
        "file_content_1": ("virus.exe", b"MZ", "application/octet-stream"),
        "file_metadata_2": (None, "{not json", "application/json"),
        "file_content_2": ("bad.pdf", PDF, "application/pdf"),
    }
    results = api.post("/upload", files=files).json()["AttachableResponse"]
    assert results[0]["Attachable"]["ContentType"] == "image/png"
    assert [r.get("Fault", {}).get("Error", [{}])[0].get("code") for r in results] == [None, "2010", "2010"]
    assert code_of(api.post("/upload", content=b"{}", headers={"Content-Type": "application/json"})) == "2010"
    only_metadata = {"file_metadata_0": (None, "{}", "application/json")}
    assert code_of(api.post("/upload", files=only_metadata)) == "2020"
    wrong_target: dict[str, Any] = {
        "file_metadata_0": (
            None,
            json.dumps({"AttachableRef": [{"EntityRef": {"type": "Bill", "value": "999999"}}]}),
        ),
        "file_content_0": ("a.pdf", PDF, "application/pdf"),
    }
    assert (
        api.post("/upload", files=wrong_target).json()["AttachableResponse"][0]["Fault"]["Error"][0]["code"]
        == "610"
    )


def test_upload_requestid_is_idempotent(qbo: Sandbox, books: Client) -> None:
    realm_id, api = books
    files = {"file_content_0": ("plan.pdf", PDF, "application/pdf")}
    first = api.post("/upload", params={"requestid": "upload-1"}, files=files)
    again = api.post("/upload", params={"requestid": "upload-1"}, files=files)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    files_now = qbo.admin("GET", f"realms/{realm_id}/entities/Attachable")["items"]
    assert sum(1 for a in files_now if a.get("FileName") == "plan.pdf") == 1


def test_uploaded_files_survive_a_restart(tmp_path: Path) -> None:
    state = str(tmp_path / "qbo.sqlite")
    server, sandbox = make_sandbox(state_file=state)
    try:
        realm_id, tokens = sandbox.realm(seed="lists")
        with sandbox.api(realm_id, tokens["access_token"]) as api:
            files = {"file_content_0": ("plan.pdf", PDF, "application/pdf")}
            att = api.post("/upload", files=files).json()["AttachableResponse"][0]["Attachable"]
    finally:
        server.stop()
    server, sandbox = make_sandbox(state_file=state)
    try:
        with sandbox.api(realm_id, tokens["access_token"]) as api:
            assert httpx.get(api.get(f"/download/{att['Id']}").text).content == PDF
    finally:
        server.stop()
