"""`sierra-sync keys rotate`: add a new token-encryption key and re-seal every stored credential with it."""

from __future__ import annotations

from dataclasses import asdict

import typer

from blocks import TOKEN_KEYS_BLOCK
from blocks.loader import token_keys
from connectors.keyrotation import reseal_all
from sierra_core.db.engine import session_factory
from sierra_sync.cli.common import echo_json, open_engine, require_current_schema

app = typer.Typer(help="Manage the token-encryption keys.", no_args_is_help=True)


@app.command("rotate")
def rotate(
    reseal_only: bool = typer.Option(
        False, "--reseal-only", help="Do not add a key; only re-seal what older keys sealed."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Add a new key (the newest seals), then re-seal everything the keys seal with it: connection tokens,
    pending authorizations and outgoing webhook signing secrets. Old keys stay in the block so nothing
    becomes unreadable; the report lists the keys nothing is sealed with any more (`removable_key_ids`):
    remove those by hand, and only when it shows 0 values left on older keys. Restart long-running
    processes (api serve, serve, watch) first: one still holding the old keys seals with them."""
    engine = open_engine()
    require_current_schema(engine)
    block = token_keys()
    new_key = None
    if not reseal_only:
        new_key = block.add_key()
        block.save(TOKEN_KEYS_BLOCK, overwrite=True)  # saved before use: a crash never strands sealed data
    report = reseal_all(session_factory(engine), block.keyring())
    result = {"new_key_id": new_key, **asdict(report)}
    if as_json:
        echo_json(result)
        return
    typer.echo(
        f"newest key {report.key_id}{' (new)' if new_key else ''}: re-sealed {report.integrations_resealed} "
        f"connections ({report.integrations_current} already current), {report.oauth_states_resealed} "
        f"authorizations, {report.webhook_secrets_resealed} webhook secrets"
    )
    if report.left_on_old_keys:
        where = ", ".join(f"{n} {name}" for name, n in report.left_by_column.items())
        typer.echo(
            f"{report.left_on_old_keys} values are still sealed with older keys ({where}); keep every key "
            "and run `sierra-sync keys rotate --reseal-only` again"
            + (f" ({report.unreadable} cannot be opened: re-authorize those)" if report.unreadable else "")
        )
    elif report.removable_key_ids:
        typer.echo(f"0 values left on older keys: {', '.join(report.removable_key_ids)} may be removed")
    else:
        typer.echo("0 values left on older keys")
