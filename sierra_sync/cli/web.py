"""`sierra-sync webhooks serve` / `sierra-sync api serve`: the web app (webhooks, OAuth callback, API)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import typer

from sierra_core.errors import ConfigError, SierraError
from sierra_core.settings import get_settings
from sierra_core.shutdown import stop_on_signals

if TYPE_CHECKING:
    from fastapi import FastAPI

    from blocks import TokenEncryptionKeys
    from sierra_sync.web import AppDeps
    from sierra_sync.web.hub import HubConfig

webhooks_app = typer.Typer(help="The webhook receiver (Stripe, Intuit).", no_args_is_help=True)
api_app = typer.Typer(help="The web app: public API, webhooks and the OAuth callback.", no_args_is_help=True)

log = logging.getLogger("sierra_sync.web")
DISPATCH_MODES = ("auto", "deployment", "in-process")
# access_log off: the OAuth callback's query string carries the authorization code.
QUIET: dict[str, Any] = {"access_log": False, "log_level": "warning"}
_DISPATCH_ENV = "SIERRA_API_DISPATCH"  # how `--dispatch` reaches the worker processes of `--workers N`


def build_deps(dispatch: str) -> AppDeps:
    """AppDeps from the settings (database) and the Prefect blocks (secrets); what is missing is logged
    and its endpoint answers 503 until `sierra-sync blocks setup` has been run."""
    from prefect.settings import PREFECT_API_URL

    from blocks.apps import configured_apps, configured_webhook_secrets
    from blocks.loader import token_keys
    from connectors.kit.registry import PROVIDERS
    from connectors.quickbooks import events as quickbooks_events
    from connectors.xero import events as xero_events
    from sierra_core.db.engine import make_engine, session_factory
    from sierra_sync.cli.common import open_engine, require_current_schema
    from sierra_sync.web import AppDeps, DeploymentDispatcher, InProcessDispatcher
    from sierra_sync.web.app import API_THREADS
    from sierra_sync.web.dispatch import DEFAULT_DEPLOYMENTS, Dispatcher, deployment_exists
    from sierra_sync.web.oauth_callback import OAuthCallbacks
    from tasks.accounting_events import inbox_handler as pull_handler
    from tasks.stripe_events import inbox_handler

    if dispatch not in DISPATCH_MODES:
        raise ConfigError(f"--dispatch must be one of {', '.join(DISPATCH_MODES)}, not {dispatch!r}")
    engine = open_engine()
    require_current_schema(engine)
    sessions = session_factory(engine)
    counters = None
    if engine.dialect.name == "postgresql":  # key counters and request logs: asynchronous commit
        url = get_settings().resolved_database_url()
        counters = make_engine(url, check=False, async_commit=True, pool_size=API_THREADS + 1)
    secrets = configured_webhook_secrets()
    apps = configured_apps()
    keyring = None
    try:
        keyring = token_keys().keyring()  # seals tokens and the secrets of outgoing-webhook subscriptions
    except ConfigError as err:
        if PREFECT_API_URL.value():  # a configured server without the keys: `blocks setup` was not run
            log.warning("OAuth callbacks and outgoing webhook subscriptions disabled: %s", err.message)
        else:
            keyring = _local_token_keys().keyring()
    for name in sorted(set(PROVIDERS) - set(secrets)):
        log.warning("%s webhooks disabled: no signing secret saved (sierra-sync blocks setup)", name)
    callbacks = OAuthCallbacks(sessions, keyring, apps) if keyring is not None and apps else None
    dispatcher: Dispatcher
    served = dispatch == "auto" and bool(PREFECT_API_URL.value())
    if dispatch == "deployment" or (served and deployment_exists(DEFAULT_DEPLOYMENTS["stripe"])):
        dispatcher = DeploymentDispatcher()
    else:
        handlers = {
            "stripe": inbox_handler(sessions),
            "quickbooks_online": pull_handler(quickbooks_events.EVENTS, sessions),
            "xero": pull_handler(xero_events.EVENTS, sessions),
        }
        dispatcher = InProcessDispatcher(sessions, handlers)
    return AppDeps(
        hub=_hub_config(keyring is not None),
        sessions=sessions,
        webhook_secrets=secrets,
        dispatcher=dispatcher,
        oauth=callbacks,
        webhook_keyring=keyring,
        webhook_allow_private=get_settings().webhooks_allow_private_targets,
        webhook_ports=get_settings().webhook_ports(),
        counters_engine=counters,
    )


def _local_token_keys() -> TokenEncryptionKeys:
    """The embedded default (no PREFECT_API_URL: Prefect's own local database) has no token keys yet: make
    them, as `blocks setup` would. Nothing can be sealed with other keys there: no key existed before."""
    from blocks import TOKEN_KEYS_BLOCK, TokenEncryptionKeys

    keys = TokenEncryptionKeys.with_new_key()
    keys.save(TOKEN_KEYS_BLOCK)
    log.info("created the token-encryption keys (block %s) in the local Prefect database", TOKEN_KEYS_BLOCK)
    return keys


def describe(deps: AppDeps) -> str:
    """What a person needs to know of the app's wiring, in words (never a secret)."""
    from sierra_sync.web import DeploymentDispatcher

    signed = sorted(p for p, secrets in deps.webhook_secrets.items() if secrets)
    webhooks = f"webhooks from {', '.join(signed)}" if signed else "no webhook signing secret saved"
    events = "by deployment runs" if isinstance(deps.dispatcher, DeploymentDispatcher) else "in this process"
    return f"{webhooks}; events processed {events}"


def _hub_config(served: bool) -> HubConfig | None:
    """The integrations hub when SIERRA_HUB_COOKIE_SECRET is set; Sync now starts the served deployment
    when Prefect knows it, else runs the flow in this process."""
    from sierra_sync.web.dispatch import deployment_exists
    from sierra_sync.web.hub import HubConfig
    from sierra_sync.web.hub.runs import DeploymentRuns, InProcessRuns, RunStarter

    settings = get_settings()
    if not settings.hub_cookie_secret:
        return None
    try:
        runs: RunStarter = (
            DeploymentRuns()
            if served and deployment_exists("incremental-sync/incremental-sync")
            else InProcessRuns()
        )
    except Exception:  # no Prefect server reachable: runs in this process
        runs = InProcessRuns()
    try:
        return HubConfig(
            cookie_secrets=(settings.hub_cookie_secret,),
            handoff_secrets=(settings.hub_handoff_secret,) if settings.hub_handoff_secret else (),
            local_login=settings.hub_local_login,
            cookie_secure=settings.hub_cookie_secure,
            runs=runs,
        )
    except ValueError as err:
        raise ConfigError(f"integrations hub: {err}") from None


def worker_app() -> FastAPI:
    """The app of one worker process of `--workers N` (uvicorn starts each with this factory)."""
    from concurrent.futures import ThreadPoolExecutor

    from sierra_sync.web import create_app

    # uvicorn calls the factory inside its event loop, where Prefect's Block.load returns a coroutine
    # instead of the block: read the blocks in a thread of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        deps = pool.submit(build_deps, os.environ.get(_DISPATCH_ENV, "auto")).result()
    return create_app(deps)


def _share_prefect_server() -> None:
    """Point the worker processes at this process's Prefect API. Without PREFECT_API_URL, Prefect runs a
    temporary server as a child process: one here is enough, and a worker that uvicorn stops with SIGTERM
    would leave its own behind."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return  # configured: the workers inherit it
    server_module = sys.modules.get("prefect.server.api.server")
    server = server_module.SubprocessASGIServer() if server_module is not None else None
    if server is not None and server.running:
        os.environ["PREFECT_API_URL"] = server.api_url  # for the workers: this process read its settings


def _serve(host: str | None, port: int | None, dispatch: str, workers: int = 1) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from sierra_sync.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines with URLs are not ours to show
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "setup plugin …", "Context impl …"
    settings = get_settings()
    host = host or settings.host
    port = settings.api_port if port is None else port
    with stop_on_signals() as stop:  # stops Prefect's temporary server too, however uvicorn ends
        deps = build_deps(dispatch)  # also the preflight of every worker: a bad setting fails here, once
        if stop.requested():
            return  # stopped while starting
        typer.echo(f"sierra-sync web app on http://{host}:{port} ({describe(deps)}, {workers} process(es))")
        typer.echo(
            "  POST /webhooks/stripe  POST /webhooks/quickbooks  GET /oauth/quickbooks/callback  GET /healthz"
        )
        app: Any = create_app(deps)
        if workers > 1:  # each worker builds its own app (and database pools) from the factory
            app = f"{__name__}:worker_app"
            for engine in {deps.sessions.kw["bind"], deps.counters}:
                engine.dispose()
            os.environ[_DISPATCH_ENV] = dispatch
            _share_prefect_server()
        grace = max(1, int(settings.stop_grace_seconds))  # requests in flight get that long at a stop
        config = uvicorn.Config(
            app,
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            timeout_graceful_shutdown=grace,
            **QUIET,
        )
        try:
            if workers > 1:
                supervisor = Multiprocess(config, sockets=[config.bind_socket()])  # takes SIGTERM/SIGINT
                stop.on_stop(supervisor.should_exit.set)  # a signal that came before it did
                supervisor.run()
            else:
                # uvicorn takes SIGTERM/SIGINT while it serves and re-raises them once it has shut down:
                # they land on stop_on_signals' handler, not on the default one that would kill the process.
                server = uvicorn.Server(config)
                stop.on_stop(lambda: setattr(server, "should_exit", True))
                server.run()
        except SystemExit as exc:  # uvicorn exits when it cannot bind
            raise SierraError(f"the web app could not listen on {host}:{port}: is the port in use?") from exc


HOST = typer.Option(None, help="Interface to bind (default: SIERRA_HOST or 127.0.0.1).")
PORT = typer.Option(None, min=0, max=65535, help="Port (default: SIERRA_API_PORT or 8703).")
WORKERS = typer.Option(
    1,
    min=1,
    max=64,
    help="API processes sharing the port (about one per core); rate limits hold across them.",
)
DISPATCH = typer.Option(
    "auto",
    help="How stored events reach processing: deployment (run_deployment), in-process, or auto "
    "(deployment when process-stripe-events is deployed on the Prefect server).",
)


@webhooks_app.command("serve")
def webhooks_serve(host: str | None = HOST, port: int | None = PORT, dispatch: str = DISPATCH) -> None:
    """Serve the webhook receiver and the OAuth callback (the same app as `api serve`) until stopped
    (SIGTERM or Ctrl-C: requests in flight finish, exit 0)."""
    _serve(host, port, dispatch)


@api_app.command("serve")
def api_serve(
    host: str | None = HOST, port: int | None = PORT, dispatch: str = DISPATCH, workers: int = WORKERS
) -> None:
    """Serve the web app: public REST API, webhooks and the OAuth callback, until stopped (SIGTERM or
    Ctrl-C: requests in flight finish, exit 0)."""
    _serve(host, port, dispatch, workers)
