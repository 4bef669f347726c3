"""The Xero sandbox's organisations on the kit's SQLite file (`KitOptions.state_file`), so a restarted
sandbox serves the same organisations, documents, journals and attachments (the OAuth tokens are the kit's).

Write-through: after every write call the organisation is saved, only what changed being written (one row
per document, per journal, per attachment file, and the organisation's header: name, counters, the day's
calls and the replayable answers). Saved at shutdown too. Amounts stay `Decimal`s (and times `datetime`s)
across a restart.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from sandbox.kit.persist import Persistence
from sandbox.xero.store import Organisation

__all__ = ["OrgState"]

_ORG = "xero_org"
_FILES = "xero_files"
_JOURNAL = "Journals"
_TAG = "$decimal"
_WHEN = "$datetime"


class OrgState:
    """Loads and saves the organisations and attachment files of one sandbox on `persistence`."""

    def __init__(self, persistence: Persistence) -> None:
        self.persistence = persistence
        self._saved: dict[tuple[str, str, str], str] = {}  # (tenant, entity, id) -> text last written
        self._headers: dict[str, str] = {}
        self._files: dict[str, str] = {}

    def load(self) -> tuple[dict[str, Organisation], dict[tuple[str, str, str], dict[str, Any]]]:
        """Every saved organisation by tenant id, and the attachment files by (tenant, resource, id)."""
        orgs: dict[str, Organisation] = {}
        for tenant, text in self.persistence.load_ns(_ORG).items():
            head = _loads(text)
            org = Organisation(tenant, str(head["name"]), str(head["created_ms"]))
            org.numbers = {str(k): int(v) for k, v in head["numbers"].items()}
            org.day, org.day_calls = str(head["day"]), int(head["day_calls"])
            org.replies = {key: (str(fp), _response(answer)) for key, (fp, answer) in head["replies"].items()}
            orgs[tenant] = org
            self._headers[tenant] = text
        journals: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for tenant, entity, entity_id, data, _updated, _line, deleted in self.persistence.load_records():
            org_or_none = orgs.get(tenant)
            if org_or_none is None or deleted:
                continue
            self._saved[(tenant, entity, entity_id)] = data
            if entity == _JOURNAL:
                journals.setdefault(tenant, []).append((int(entity_id), _loads(data)))
            elif entity in org_or_none.docs:
                org_or_none.docs[entity][entity_id] = _loads(data)
        for tenant, numbered in journals.items():
            orgs[tenant].journals = [journal for _, journal in sorted(numbered, key=lambda pair: pair[0])]
        files: dict[tuple[str, str, str], dict[str, Any]] = {}
        for key, text in self.persistence.load_ns(_FILES).items():
            tenant, resource, doc_id = json.loads(key)
            held = json.loads(text)
            files[(tenant, resource, doc_id)] = {
                name: (meta, base64.b64decode(content)) for name, (meta, content) in held.items()
            }
            self._files[key] = text
        return orgs, files

    def save(self, org: Organisation, files: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        """Write what of `org` (and of its attachment files) changed since the last save."""
        tenant = org.tenant_id
        head = _dumps(
            {
                "name": org.name,
                "created_ms": org.created_ms,
                "numbers": org.numbers,
                "day": org.day,
                "day_calls": org.day_calls,
                "replies": {key: [fp, _answer(answer)] for key, (fp, answer) in org.replies.items()},
            }
        )
        if self._headers.get(tenant) != head:
            self.persistence.put(_ORG, tenant, head)
            self._headers[tenant] = head
        current: dict[tuple[str, str, str], str] = {}
        for resource, docs in org.docs.items():
            for doc_id, doc in docs.items():
                current[(tenant, resource, doc_id)] = _dumps(doc)
        for number, journal in enumerate(org.journals, start=1):
            current[(tenant, _JOURNAL, str(number))] = _dumps(journal)
        for key, text in current.items():
            if self._saved.get(key) != text:
                self.persistence.put_record(*key, text, "", 0, False)
                self._saved[key] = text
        gone = [key for key in self._saved if key[0] == tenant and key not in current]
        for key in gone:  # a document no longer held (a rolled-back batch never reaches here)
            self.persistence.put_record(*key, "{}", "", 0, True)
            del self._saved[key]
        for (owner, resource, doc_id), held in files.items():
            if owner != tenant:
                continue
            file_key = json.dumps([owner, resource, doc_id])
            text = json.dumps(
                {name: [meta, base64.b64encode(content).decode()] for name, (meta, content) in held.items()}
            )
            if self._files.get(file_key) != text:
                self.persistence.put(_FILES, file_key, text)
                self._files[file_key] = text

    def wipe(self) -> None:
        """Forget everything saved (POST /__sandbox/reset)."""
        self.persistence.wipe()
        self._saved.clear()
        self._headers.clear()
        self._files.clear()


def _answer(response: Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "body": bytes(response.body).decode(),
        "media_type": response.media_type or response.headers.get("content-type", "application/json"),
    }


def _response(answer: dict[str, Any]) -> Response:
    return Response(str(answer["body"]), int(answer["status"]), media_type=str(answer["media_type"]))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {_TAG: str(value)}
    if isinstance(value, datetime):  # a journal's `_created` (If-Modified-Since)
        return {_WHEN: value.isoformat()}
    raise TypeError(f"cannot save {type(value).__name__}")


def _revive(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _TAG in obj:
        return Decimal(obj[_TAG])
    if len(obj) == 1 and _WHEN in obj:
        return datetime.fromisoformat(obj[_WHEN])
    return obj


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_plain, separators=(",", ":"))


def _loads(text: str) -> Any:
    return json.loads(text, object_hook=_revive)
