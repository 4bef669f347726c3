"""docs/api.md keeps up with the API: a curl example for every operation of the OpenAPI document, and the
receiver's signature check it shows accepts what the server signs (both secrets during a rotation)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from connectors.outgoing_webhooks import sign
from sierra_sync.web import AppDeps, create_app

DOC = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


def test_every_operation_has_a_curl_example() -> None:
    spec = create_app(AppDeps(sessions=sessionmaker(create_engine("sqlite://")))).openapi()
    missing = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        shown = re.sub(r"\\{[^}]+\\}", "<[^>]+>", re.escape(path.removeprefix("/api/v1")))
        for method in operations:
            flag = "" if method == "get" else f"-X {method.upper()} "
            if not re.search(rf'curl -s {flag}"\$API{shown}(\?[^"]*)?"', DOC):
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_the_documented_receiver_check_accepts_both_signatures_during_a_rotation() -> None:
    block = re.search(r"```python\n(.*?)```", DOC, re.S)
    assert block is not None
    scope: dict[str, Any] = {}
    exec(block.group(1), scope)  # noqa: S102 (our own documentation)
    verify = scope["verify"]
    body, now = b'{"id":"evt_1"}', int(time.time())
    header = sign(["whsec_new", "whsec_old"], now, body)
    assert verify("whsec_new", header, body) and verify("whsec_old", header, body)
    assert not verify("whsec_other", header, body)
    assert not verify("whsec_new", header, body + b" ")
    assert not verify("whsec_new", sign("whsec_new", now - 600, body), body)  # too old
