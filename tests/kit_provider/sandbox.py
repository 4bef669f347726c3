"""The Acme Tasks sandbox on the sandbox kit: its OAuth server (consent page, rotating refresh tokens with a
grace), one resource (tasks of a workspace) and signed `task.created` webhooks (tests only)."""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.kit.api import api_endpoint
from sandbox.kit.app import Kit
from sandbox.kit.oauth import OAuthSpec, TenantHooks
from sandbox.kit.spec import KitOptions, SandboxSpec
from sandbox.kit.webhooks import Signing
from sandbox.registry import SandboxEntry

CLIENT_ID, CLIENT_SECRET = "acme-client", "acme-secret"
SPEC = SandboxSpec(
    name="acme_tasks",
    title="Acme Tasks",
    oauth=OAuthSpec(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        token_auth="body",
        scopes=frozenset({"tasks.read", "tasks.write"}),
        tenant_param="workspace_id",
        tenant_in_token=True,
        tenant_key="workspace_id",
        rotation="rotating_grace",
        grace_s=600,
        access_ttl_s=1800,
        refresh_ttl_s=30 * 86_400,
        consent="page",
    ),
    signing=Signing(
        scheme="hmac_timestamped",
        header="Acme-Signature",
        signature_item="v1",
        signed_format="{timestamp}.{body}",
    ),
    scope_param="workspace",
    tenant_body_key="workspace_id",
    stats_key="workspaces",
)


class AcmeSandbox:
    """Workspaces and their tasks; `app` is the ASGI app."""

    def __init__(self, options: KitOptions | None = None) -> None:
        self.workspaces: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        hooks = TenantHooks(create=self._workspace, exists=self.workspaces.__contains__)
        self.kit = Kit(SPEC, options or KitOptions(), hooks)
        self.kit.on_reset.append(self.workspaces.clear)
        tasks = "/v1/workspaces/{workspace}/tasks"
        self.app = self.kit.app(
            [
                Route(
                    tasks,
                    api_endpoint(self.kit, self._create, tenant_param="workspace", write=True),
                    methods=["POST"],
                ),
                Route(tasks, api_endpoint(self.kit, self._list, tenant_param="workspace"), methods=["GET"]),
            ]
        )

    def _workspace(self, wanted: str | None) -> str:
        workspace = wanted or f"ws_{secrets.token_hex(4)}"
        self.workspaces.setdefault(workspace, [])
        return workspace

    async def _create(self, request: Request, workspace: str) -> Response:
        body = await request.json()
        task = {"id": f"task_{next(self._ids)}", "title": str(body.get("title", "")), "done": False}
        self.workspaces[workspace].append(task)
        event = {"id": f"evt_{secrets.token_hex(8)}", "type": "task.created", "workspace_id": workspace}
        assert self.kit.webhooks is not None
        self.kit.webhooks.send(workspace, json.dumps(event | {"data": task}).encode())
        return JSONResponse(task, 201)

    async def _list(self, request: Request, workspace: str) -> Response:
        return JSONResponse({"data": self.workspaces[workspace]})


ENTRY = SandboxEntry(
    "acme_tasks", "Acme Tasks", 0, lambda s: AcmeSandbox(KitOptions(webhook_url=s.webhook_url)).app
)
