"""`sierra-sync api-keys create|list|revoke`: keys of the public REST API (shown once, stored hashed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from connectors.apikeys import (
    create_key,
    list_keys,
    parse_expiry,
    parse_permissions,
    permission_text,
    revoke_key,
)
from sierra_core.db.engine import session_factory
from sierra_core.db.models import ApiKey
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema, resolve_company

app = typer.Typer(help="Keys of the public REST API (/api/v1).", no_args_is_help=True)

COMPANY = typer.Option(..., "--company", help="Company id or exact name.")
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _row(key: ApiKey, now: datetime) -> dict[str, Any]:
    if key.revoked_at is not None or not key.is_active:
        state = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return {
        "id": str(key.id),
        "name": key.key_name,
        "prefix": key.key_prefix,
        "environment": key.environment,
        "permissions": permission_text(key.permissions),
        "state": state,
        "rate_limit_per_hour": key.rate_limit_per_hour,
        "rate_limit_per_day": key.rate_limit_per_day,
        "total_requests": key.total_requests,
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "created_at": key.created_at.isoformat() if key.created_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@app.command("create")
def create(
    company: str = COMPANY,
    name: str = typer.Option(..., "--name", help="What the key is for (shown in lists)."),
    permissions: str = typer.Option(
        ..., "--permissions", help="resource:r|w|rw, comma-separated, e.g. projects:rw,tasks:rw,contacts:r"
    ),
    expires_in: str = typer.Option("never", "--expires-in", help="Lifetime, e.g. 90d, 12h, 2w, or never."),
    environment: str = typer.Option("production", "--environment", help="production (sk_live_) or sandbox."),
    per_hour: int = typer.Option(1000, "--rate-limit-per-hour", help="Requests allowed per UTC hour."),
    per_day: int = typer.Option(10000, "--rate-limit-per-day", help="Requests allowed per UTC day."),
    as_json: bool = JSON,
) -> None:
    """Create a key and print it once: only its SHA-256 hash and visible prefix are stored."""
    now = datetime.now(UTC)
    perms = parse_permissions(permissions)
    expires_at = parse_expiry(expires_in, now)
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine).begin() as session:
        company_row = resolve_company(session, company)
        created = create_key(
            session,
            company_row.id,
            name,
            perms,
            environment=environment,
            expires_at=expires_at,
            rate_limit_per_hour=per_hour,
            rate_limit_per_day=per_day,
        )
    if as_json:
        echo_json(
            {
                "id": str(created.id),
                "key": created.raw,
                "prefix": created.prefix,
                "company_id": str(company_row.id),
                "permissions": permission_text(perms),
                "expires_at": expires_at.isoformat() if expires_at else None,
            }
        )
        return
    typer.echo(f"API key {created.id} for {company_row.name} ({permission_text(perms)}):")
    typer.echo(f"  {created.raw}")
    typer.echo("Store it now: it is not shown again (only its hash is kept).")
    if expires_at:
        typer.echo(f"Expires {expires_at.isoformat()}.")


@app.command("list")
def list_(company: str = COMPANY, as_json: bool = JSON) -> None:
    """The company's keys (prefix, permissions, state, usage); never the keys themselves."""
    engine = open_engine()
    require_current_schema(engine)
    now = datetime.now(UTC)
    with session_factory(engine)() as session:
        company_row = resolve_company(session, company)
        rows = [_row(k, now) for k in list_keys(session, company_row.id)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo(f"{company_row.name} has no API keys; create one with `sierra-sync api-keys create`")
    for r in rows:
        typer.echo(
            f"{r['id']}  {r['prefix']}…  {r['state']:<7}  {r['name']}  [{r['permissions']}]  "
            f"{r['total_requests']} requests, last {r['last_used_at'] or 'never'}"
        )


@app.command("revoke")
def revoke(
    key: str = typer.Argument(..., help="The key's id or visible prefix (from `api-keys list`)."),
    company: str | None = typer.Option(None, "--company", help="Only look among this company's keys."),
    as_json: bool = JSON,
) -> None:
    """Revoke a key: its next request gets 401."""
    engine = open_engine()
    require_current_schema(engine)
    now = datetime.now(UTC)
    with session_factory(engine).begin() as session:
        company_id = resolve_company(session, company).id if company else None
        row = revoke_key(session, key, now, company_id)
        result = _row(row, now)
    if as_json:
        echo_json(result)
        return
    typer.echo(f"revoked {result['id']} ({result['prefix']}…, {result['name']})")
