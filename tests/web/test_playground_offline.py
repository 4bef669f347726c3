"""The API playground works offline: /docs names no CDN, its Swagger UI assets are served by the app itself,
and headless Chromium (no network on this machine) renders the operations from them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from sandbox.common.server import LocalServer
from sierra_sync.web import AppDeps, create_app
from tests.browser import screenshot_path


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    app = create_app(AppDeps(sessions=sessionmaker(create_engine("sqlite://"))))
    with LocalServer(app) as server:
        yield server.url


def test_docs_names_no_cdn_and_its_assets_are_ours(served: str) -> None:
    page = httpx.get(f"{served}/docs", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text
    assert [a for a in assets if a.startswith(("http:", "https:", "//"))] == []
    assert "cdn" not in page.text.lower()
    for asset in assets:
        fetched = httpx.get(f"{served}{asset}", timeout=10)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 1000, asset
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)


def test_chromium_renders_the_operations_offline(served: str, page: Any) -> None:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{served}/docs")
    page.get_by_text("/api/v1/webhooks").first.wait_for(timeout=30_000)
    page.screenshot(path=str(screenshot_path("api-playground-offline")))
    assert failed == []
