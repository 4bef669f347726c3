"""`sierra-sync blocks setup`: create or update the Prefect blocks sierra-sync needs."""

from __future__ import annotations

import typer

from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
from blocks.quickbooks import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI
from blocks.stripe import (
    LOCAL_STRIPE_CONNECT_CLIENT_ID,
    LOCAL_STRIPE_REDIRECT_URI,
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE,
    STRIPE_CONNECT_BLOCK,
    StripeConnectCredentials,
    save_stripe_settings,
)
from sierra_core.errors import ConfigError
from sierra_core.settings import get_settings
from sierra_sync.cli.common import echo_json

app = typer.Typer(help="Create and update the Prefect blocks (credentials and keys).", no_args_is_help=True)


@app.command("setup")
def setup(
    local: bool = typer.Option(False, "--local", help="Point the blocks at the local sandboxes."),
    client_id: str | None = typer.Option(None, envvar="SIERRA_QBO_CLIENT_ID", help="Intuit app client id."),
    client_secret: str | None = typer.Option(
        None, envvar="SIERRA_QBO_CLIENT_SECRET", help="Intuit app client secret (prefer the env variable)."
    ),
    redirect_uri: str | None = typer.Option(None, help="Redirect URI registered on the Intuit app."),
    environment: str = typer.Option("production", help="production | sandbox (ignored with --local)."),
    webhook_verifier: str | None = typer.Option(
        None, envvar="SIERRA_QBO_WEBHOOK_VERIFIER", help="Intuit webhook verifier token."
    ),
    stripe_secret_key: str | None = typer.Option(
        None, envvar="SIERRA_STRIPE_SECRET_KEY", help="Stripe secret key (prefer the env variable)."
    ),
    stripe_webhook_secret: str | None = typer.Option(
        None, envvar="SIERRA_STRIPE_WEBHOOK_SECRET", help="Stripe webhook signing secret (whsec_…)."
    ),
    stripe_api_base: str | None = typer.Option(None, help="Stripe API base URL (default: Stripe's)."),
    stripe_connect_client_id: str | None = typer.Option(
        None,
        envvar="SIERRA_STRIPE_CONNECT_CLIENT_ID",
        help="Stripe Connect client id (ca_…): lets companies connect their own Stripe accounts.",
    ),
    stripe_redirect_uri: str | None = typer.Option(
        None, help="Redirect URI registered in the Stripe Connect settings."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Save the QuickBooks app credentials block, the Stripe key and webhook-secret blocks and, if
    missing, a token-encryption key block."""
    settings = get_settings()
    if local:
        block = QuickBooksAppCredentials(
            client_id=client_id or LOCAL_CLIENT_ID,
            client_secret=client_secret or LOCAL_CLIENT_SECRET,
            redirect_uri=redirect_uri or LOCAL_REDIRECT_URI.replace("8703", str(settings.api_port)),
            environment="local",
            local_base_url=f"http://{settings.host}:{settings.qbo_port}",
            webhook_verifier_token=webhook_verifier or "local-verifier-token",
        )
    else:
        if not client_id or not client_secret or not redirect_uri:
            raise ConfigError(
                "blocks setup needs --client-id, --redirect-uri and the client secret "
                "(SIERRA_QBO_CLIENT_SECRET) of your Intuit app, or --local for the local sandbox"
            )
        if environment not in ("production", "sandbox"):
            raise ConfigError(f"--environment must be production or sandbox, not {environment!r}")
        block = QuickBooksAppCredentials(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            environment=environment,
            webhook_verifier_token=webhook_verifier,
        )
    if local:
        stripe_secret_key = stripe_secret_key or LOCAL_STRIPE_SECRET_KEY
        stripe_webhook_secret = stripe_webhook_secret or LOCAL_STRIPE_WEBHOOK_SECRET
        stripe_api_base = stripe_api_base or f"http://{settings.host}:{settings.stripe_port}"
    stripe_api_base = stripe_api_base or STRIPE_API_BASE
    connect_block: StripeConnectCredentials | None = None
    if local or stripe_connect_client_id:
        connect_block = StripeConnectCredentials(
            client_id=stripe_connect_client_id or LOCAL_STRIPE_CONNECT_CLIENT_ID,
            redirect_uri=stripe_redirect_uri
            or LOCAL_STRIPE_REDIRECT_URI.replace("8703", str(settings.api_port)),
            environment="local" if local else "production",
            local_base_url=stripe_api_base if local else None,
        )
    for checked in (block, connect_block):  # the URLs (https unless loopback), before anything is saved
        if checked is not None:
            checked.check()
    stripe_saved = save_stripe_settings(  # validates everything Stripe before saving any of it
        secret_key=stripe_secret_key, webhook_secret=stripe_webhook_secret, api_base=stripe_api_base
    )
    block.save(QBO_APP_BLOCK, overwrite=True)
    if connect_block is not None:
        connect_block.save(STRIPE_CONNECT_BLOCK, overwrite=True)
        stripe_saved.append(STRIPE_CONNECT_BLOCK)
    created_keys = False
    try:
        TokenEncryptionKeys.load(TOKEN_KEYS_BLOCK)
    except ValueError:
        TokenEncryptionKeys.with_new_key().save(TOKEN_KEYS_BLOCK)
        created_keys = True
    result = {
        "quickbooks_app_block": QBO_APP_BLOCK,
        "environment": block.environment,
        "api_base_url": block.api_base_url(),
        "client_id": block.client_id,
        "token_keys_block": TOKEN_KEYS_BLOCK,
        "token_keys_created": created_keys,
        "stripe_saved": stripe_saved,
        "stripe_api_base": stripe_api_base,
    }
    if as_json:
        echo_json(result)
        return
    typer.echo(
        f"saved block {QBO_APP_BLOCK}: {block.environment} app {block.client_id} at {block.api_base_url()}"
    )
    typer.echo(f"{'created' if created_keys else 'kept'} block {TOKEN_KEYS_BLOCK} (token-encryption keys)")
    typer.echo(f"saved {', '.join(stripe_saved)} (Stripe API at {stripe_api_base})")
