"""An integration's settings (`integrations.settings`): how often and what to sync, and for QuickBooks the
account, item and tax-code mappings, chosen from the connected company's own lists. Every value is
checked (choices against the lists QuickBooks gave, the whole document with `parse_settings`) before the
document is saved; a refused form comes back with each problem next to its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from connectors.quickbooks.provider import QUICKBOOKS
from connectors.quickbooks.settings import SettingsError, parse_settings
from sierra_core.db.models import Integration, Invoice, InvoiceLineItem
from sierra_core.errors import SierraError
from sierra_sync.web.hub.auth import HubError, Manager, Principal, Viewer, app_deps
from sierra_sync.web.hub.integration_routes import adapter_of, connector
from sierra_sync.web.hub.pages import notice, render
from sierra_sync.web.hub.qbo_choices import QboChoices, load_choices

__all__ = ["router"]

router = APIRouter(prefix="/hub", include_in_schema=False)
FREQUENCIES = (
    ("realtime", "Real time (as records change)"),
    ("hourly", "Every hour"),
    ("daily", "Once a day"),
)
WHAT = (
    ("sync_invoices", "Invoices"),
    ("sync_expenses", "Expenses"),
    ("sync_payments", "Payments"),
    ("sync_customers", "Customers"),
)
# form field -> (path in the settings document, which list its choices come from, required)
MAPPINGS = {
    "income_account": (("accounts", "income"), "account", False),
    "deposit_account": (("accounts", "deposit_to"), "account", True),
    "expense_account": (("accounts", "default_expense"), "account", False),
    "default_item": (("default_item",), "item", False),
    "sales_tax_code": (("tax", "sales_tax_code"), "tax", False),
}
MAX_ITEM_CODES = 60


@dataclass
class Page:
    settings: dict[str, Any]
    choices: QboChoices | None
    choices_error: str | None
    item_codes: list[str]


def _row(session: Any, me: Principal, provider: str) -> Integration | None:
    return session.scalar(  # type: ignore[no-any-return]
        select(Integration).where(
            Integration.company_id == me.company_id, Integration.integration_type == provider
        )
    )


def _item_codes(session: Any, me: Principal, settings: dict[str, Any]) -> list[str]:
    used = session.scalars(
        select(InvoiceLineItem.item_code)
        .distinct()
        .join(Invoice, Invoice.id == InvoiceLineItem.invoice_id)
        .where(Invoice.company_id == me.company_id, InvoiceLineItem.item_code.is_not(None))
        .limit(MAX_ITEM_CODES)
    ).all()
    return sorted({*(settings.get("items") or {}), *used})[:MAX_ITEM_CODES]


def _load(request: Request, me: Principal, provider: str) -> Page:
    deps = app_deps(request)
    with deps.sessions() as session:
        row = _row(session, me, provider)
        if row is None:
            title = adapter_of(provider).provider.title
            raise HubError(
                409,
                f"{title} is not connected",
                f"Connect {title} to sync your financials automatically; then choose its settings.",
            )
        settings = dict(row.settings or {})
        codes = _item_codes(session, me, settings) if provider == QUICKBOOKS.name else []
    choices, problem = None, None
    oauth = connector(request)
    if provider == QUICKBOOKS.name and oauth is not None:
        try:
            choices = load_choices(deps.sessions, oauth, me.company_id)
        except SierraError as err:
            problem = f"QuickBooks lists could not be read: {err.message}"
    return Page(settings, choices, problem, codes)


def _current(settings: dict[str, Any]) -> dict[str, str]:
    """The chosen id of each mapping field ("" when unset)."""
    out = {}
    for field, (path, _, _) in MAPPINGS.items():
        node: Any = settings
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        out[field] = str(node.get("value", "")) if isinstance(node, dict) else ""
    return out


def _page(
    request: Request, me: Principal, provider: str, page: Page, errors: dict[str, str], status: int = 200
) -> Response:
    adapter = adapter_of(provider)
    return render(
        request,
        "settings.html",
        me,
        section="integrations",
        provider=adapter.provider,
        has_sync=adapter.sync_flow is not None,
        page=page,
        s=page.settings,
        current=_current(page.settings),
        errors=errors,
        frequencies=FREQUENCIES,
        what=WHAT,
        mappings=MAPPINGS,
        toast=notice(request, {provider: adapter.provider.title}),
        status_code=status,
    )


@router.get("/integrations/{provider}/settings")
async def settings_form(provider: str, request: Request, me: Viewer) -> Response:
    adapter_of(provider)
    page = await run_in_threadpool(_load, request, me, provider)
    return _page(request, me, provider, page, {})


def _ref(choices: QboChoices | None, kind: str, value: str) -> dict[str, str]:
    name = choices.name_of(kind, value) if choices else None
    return {"value": value, "name": name} if name else {"value": value}


def _set(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        child = doc.get(part)
        doc[part] = dict(child) if isinstance(child, dict) else {}
        doc = doc[part]
    if value is None:
        doc.pop(path[-1], None)
    else:
        doc[path[-1]] = value


def apply_form(form: Manager, page: Page, provider: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The new settings document and the problems, field by field."""
    errors: dict[str, str] = {}
    new = {k: (dict(v) if isinstance(v, dict) else v) for k, v in page.settings.items()}
    frequency = form.get("sync_frequency")
    if frequency not in {f for f, _ in FREQUENCIES}:
        errors["sync_frequency"] = "Choose how often to sync: real time, every hour or once a day."
    else:
        new["sync_frequency"] = frequency
    new["auto_sync"] = form.get("auto_sync") == "on"
    for name, _ in WHAT:
        new[name] = form.get(name) == "on"
    if provider != QUICKBOOKS.name or page.choices is None:
        return new, errors
    choices = page.choices
    valid = {
        "account": {c.id for c in choices.accounts},
        "item": {c.id for c in choices.items},
        "tax": {c.id for c in choices.tax_codes},
    }
    for field, (path, kind, required) in MAPPINGS.items():
        value = form.get(field)
        if not value:
            if required:
                errors[field] = "Choose an account: payments need somewhere to be deposited."
            else:
                _set(new, path, None)
            continue
        if value not in valid[kind]:
            errors[field] = (
                "That choice is not in your QuickBooks company any more; reload the page and choose again."
            )
            continue
        _set(new, path, _ref(choices, kind, value))
    items = dict(new.get("items") or {})
    for code in page.item_codes:
        value = form.get(f"item:{code}")
        if not value:
            items.pop(code, None)
        elif value in valid["item"]:
            items[code] = _ref(choices, "item", value)
        else:
            errors[f"item:{code}"] = "That item is not in your QuickBooks company; choose another."
    new["items"] = items
    return new, errors


@router.post("/integrations/{provider}/settings")
async def save_settings(provider: str, request: Request, form: Manager) -> Response:
    me = form.principal
    adapter_of(provider)
    page = await run_in_threadpool(_load, request, me, provider)
    new, errors = apply_form(form, page, provider)
    if not errors and provider == QUICKBOOKS.name:
        try:
            parse_settings(new)
        except SettingsError as err:
            errors["_form"] = err.message
    if errors:
        page.settings = new
        return _page(request, me, provider, page, errors, status=422)

    def save() -> None:
        with app_deps(request).sessions.begin() as session:
            row = _row(session, me, provider)
            if row is not None:
                row.settings = new

    await run_in_threadpool(save)
    return RedirectResponse(
        f"/hub/integrations/{provider}/settings?done=settings&provider={provider}", status_code=303
    )
