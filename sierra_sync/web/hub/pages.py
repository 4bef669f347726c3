"""Rendering the hub's pages: Jinja2 templates (autoescaped) with what every page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from sierra_sync.web.hub.auth import Principal, hub_config

__all__ = ["NOTICES", "render", "templates"]

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# ?done=<code>: the toast a page shows after a redirect (fixed texts: nothing from the URL is echoed).
NOTICES = {
    "connected": "{title} is connected.",
    "disconnected": "{title} is disconnected. Its tokens were revoked and removed.",
    "settings": "{title} settings saved.",
    "revoked": "API key revoked. Requests with it are refused from now on.",
    "replayed": "Delivery queued again; it is sent within a minute.",
    "signed_out": "You are signed out.",
}

NAV = (
    ("integrations", "/hub/", "Integrations"),
    ("logs", "/hub/logs", "Sync log"),
    ("keys", "/hub/api-keys", "API keys"),
    ("webhooks", "/hub/webhooks", "Webhooks"),
    ("reconcile", "/hub/reconciliation", "Reconciliation"),
)


def notice(request: Request, titles: dict[str, str]) -> str | None:
    code = request.query_params.get("done")
    text = NOTICES.get(code or "")
    if text is None:
        return None
    return text.format(title=titles.get(request.query_params.get("provider", ""), "The integration"))


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    *,
    section: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    config = hub_config(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "me": principal,
            "csrf": principal.csrf if principal else "",
            "nav": NAV,
            "section": section,
            "help_url": config.help_url,
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
