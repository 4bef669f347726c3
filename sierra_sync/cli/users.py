"""`sierra-sync users add|list|remove`: the people who sign in to the integrations hub (/hub) with an email
and password (SIERRA_HUB_LOCAL_LOGIN). People the host SaaS hands over need no row here.

Roles: `owner` (the company's Owner), `admin` (manages integrations: permissions settings.edit) and `member`
(reads). The password comes from stdin with `--password-stdin` (scripts: `printf %s "$PW" | ...`), else
from a hidden prompt on a terminal; it is stored as a scrypt hash and never printed."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

import typer
from sqlalchemy import delete, select

from connectors.hub_users import MIN_PASSWORD, add_user, can_manage
from sierra_core.db.engine import session_factory
from sierra_core.db.models import Company, HubUser
from sierra_core.errors import ConfigError, NotFoundError
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema, resolve_company

app = typer.Typer(help="People who sign in to the integrations hub (/hub).", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"


# --role -> (users.role, users.permissions)
ROLES: dict[Role, tuple[str, dict[str, Any]]] = {
    Role.owner: ("Owner", {}),
    Role.admin: ("Admin", {"settings": {"edit": True}}),
    Role.member: ("Member", {}),
}


def _password_from_stdin() -> str:
    text = sys.stdin.read()
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise ConfigError("--password-stdin: no password on standard input")
    if len(lines) > 1 and any(line for line in lines[1:]):
        raise ConfigError("--password-stdin: give the password on one line")
    return lines[0]


def _password(from_stdin: bool, none: bool) -> str | None:
    if none:
        if from_stdin:
            raise ConfigError("use --password-stdin or --no-password, not both")
        return None
    if from_stdin:
        password = _password_from_stdin()
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise ConfigError(
            "no password: pipe it in with --password-stdin (or --no-password for a host hand-off only user)"
        )
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def _row(user: HubUser, company: str) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "company": company,
        "company_id": str(user.company_id),
        "role": user.role,
        "manages_integrations": can_manage(user.role, user.permissions),
        "local_password": user.password_hash is not None,
        "active": user.is_active,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


@app.command("add")
def add(
    company: str = typer.Option(..., "--company", help="Company id or exact name."),
    email: str = typer.Option(..., "--email", help="The person's email (their sign-in name)."),
    role: Role = typer.Option(
        ..., "--role", help="owner or admin (manage integrations), member (reads).", case_sensitive=False
    ),
    name: str = typer.Option("", "--name", help="Display name (default: the email)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password (one line) from standard input."
    ),
    no_password: bool = typer.Option(
        False, "--no-password", help="No local password: only the host's hand-off signs them in."
    ),
    as_json: bool = JSON,
) -> None:
    """Add a person to a company's hub; prompts for the password on a terminal (12+ characters)."""
    password = _password(password_stdin, no_password)
    db_role, permissions = ROLES[role]
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine).begin() as session:
        company_row = resolve_company(session, company)
        user = add_user(
            session, company_row.id, email, name, role=db_role, permissions=permissions, password=password
        )
        result = _row(user, company_row.name)
    if as_json:
        echo_json(result)
        return
    how = "can sign in at /hub/login" if password else "signs in through the host's hand-off only"
    typer.echo(f"added {role.value} {result['email']} to {company_row.name}; {how}")


@app.command("list")
def list_(
    company: str = typer.Option(..., "--company", help="Company id or exact name."), as_json: bool = JSON
) -> None:
    """The company's hub users (never their password hashes)."""
    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine)() as session:
        company_row = resolve_company(session, company)
        users = session.scalars(
            select(HubUser).where(HubUser.company_id == company_row.id).order_by(HubUser.email)
        )
        rows = [_row(u, company_row.name) for u in users]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo(f"{company_row.name} has no hub users; add one with `sierra-sync users add`")
    for r in rows:
        verdict = "manages" if r["manages_integrations"] else "reads"
        sign_in = "password" if r["local_password"] else "hand-off"
        state = "" if r["active"] else "  (inactive)"
        typer.echo(
            f"{r['email']}  {r['role']} ({verdict}, {sign_in})  {r['name']}  "
            f"last sign-in {r['last_login_at'] or 'never'}{state}"
        )


@app.command("remove")
def remove(
    email: str = typer.Argument(..., help="The person's email."),
    company: str | None = typer.Option(None, "--company", help="Only remove them from this company."),
    as_json: bool = JSON,
) -> None:
    """Remove a person: they can no longer sign in, and a session they hold ends at its next request."""
    engine = open_engine()
    require_current_schema(engine)
    wanted = email.strip().lower()
    with session_factory(engine).begin() as session:
        query = select(HubUser, Company.name).join(Company, Company.id == HubUser.company_id)
        query = query.where(HubUser.email == wanted)
        if company is not None:
            query = query.where(HubUser.company_id == resolve_company(session, company).id)
        found = session.execute(query).first()
        if found is None:
            where = f" in {company}" if company is not None else ""
            raise NotFoundError(f"no hub user with email {wanted}{where} (see `sierra-sync users list`)")
        user, company_name = found
        result = _row(user, company_name)
        session.execute(delete(HubUser).where(HubUser.id == user.id))
    if as_json:
        echo_json(result)
        return
    typer.echo(f"removed {result['email']} from {company_name}")
