"""The consent page of a kit sandbox's authorize endpoint (consent mode "page"): what the app asks for, and a
form whose Approve or Deny posts the request back with the decision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["consent_page"]


def consent_page(title: str, action: str, params: Mapping[str, str], scopes: Sequence[str]) -> str:
    """The HTML page: the request's parameters ride along as hidden fields."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    listed = "".join(f"<li>{escape(s)}</li>" for s in scopes) or "<li>(no scope)</li>"
    app = escape(params.get("client_id", ""))
    return (
        f"<!doctype html><html><head><title>Authorize {app}</title></head><body>"
        f"<h1>{escape(title)}: authorize {app}</h1><p>The app asks for:</p><ul>{listed}</ul>"
        f'<form method="post" action="{escape(action)}">{hidden}'
        '<button type="submit" name="decision" value="approve">Approve</button> '
        '<button type="submit" name="decision" value="deny">Deny</button>'
        "</form></body></html>"
    )
