"""What `up` does on its Prefect server once it answers: the blocks pointed at the world's sandboxes (the
token keys kept when they exist: tokens are sealed with them), the process work pool, and every deployment
of prefect.yaml on it (the worker then runs them from the project directory)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pydantic import SecretStr

from blocks import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK, QuickBooksAppCredentials, TokenEncryptionKeys
from blocks.quickbooks import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, LOCAL_REDIRECT_URI
from blocks.stripe import (
    LOCAL_STRIPE_CONNECT_CLIENT_ID,
    LOCAL_STRIPE_REDIRECT_URI,
    LOCAL_STRIPE_SECRET_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    STRIPE_CONNECT_BLOCK,
    StripeConnectCredentials,
    save_stripe_settings,
)
from blocks.xero import (
    LOCAL_XERO_CLIENT_ID,
    LOCAL_XERO_CLIENT_SECRET,
    LOCAL_XERO_REDIRECT_URI,
    LOCAL_XERO_WEBHOOK_KEY,
    XERO_APP_BLOCK,
    XeroAppCredentials,
)

POOL = "sierra-process"
LOCAL_VERIFIER = "local-verifier-token"


def save_local_blocks(qbo_url: str, stripe_url: str, api_port: int, xero_url: str | None = None) -> bool:
    """Save the blocks of the local sandboxes (the Xero app's too when `xero_url` is given); returns True
    when token keys had to be created."""
    QuickBooksAppCredentials(
        client_id=LOCAL_CLIENT_ID,
        client_secret=SecretStr(LOCAL_CLIENT_SECRET),
        redirect_uri=LOCAL_REDIRECT_URI.replace("8703", str(api_port)),
        environment="local",
        local_base_url=qbo_url,
        webhook_verifier_token=SecretStr(LOCAL_VERIFIER),
    ).save(QBO_APP_BLOCK, overwrite=True)
    save_stripe_settings(
        secret_key=LOCAL_STRIPE_SECRET_KEY, webhook_secret=LOCAL_STRIPE_WEBHOOK_SECRET, api_base=stripe_url
    )
    StripeConnectCredentials(
        client_id=LOCAL_STRIPE_CONNECT_CLIENT_ID,
        redirect_uri=LOCAL_STRIPE_REDIRECT_URI.replace("8703", str(api_port)),
        environment="local",
        local_base_url=stripe_url,
    ).save(STRIPE_CONNECT_BLOCK, overwrite=True)
    if xero_url is not None:
        XeroAppCredentials(
            client_id=LOCAL_XERO_CLIENT_ID,
            client_secret=SecretStr(LOCAL_XERO_CLIENT_SECRET),
            redirect_uri=LOCAL_XERO_REDIRECT_URI.replace("8703", str(api_port)),
            environment="local",
            local_base_url=xero_url,
            webhook_key=SecretStr(LOCAL_XERO_WEBHOOK_KEY),
        ).save(XERO_APP_BLOCK, overwrite=True)
    try:
        TokenEncryptionKeys.load(TOKEN_KEYS_BLOCK)
    except ValueError:
        TokenEncryptionKeys.with_new_key().save(TOKEN_KEYS_BLOCK)
        return True
    return False


def ensure_pool(name: str = POOL) -> None:
    """The process work pool (`prefect work-pool create NAME --type process`), unless it exists."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))


def apply_deployments(project_dir: Path, *, paused: bool, pool: str = POOL) -> list[str]:
    """Every deployment of prefect.yaml on the pool, run from `project_dir` (as `prefect deploy --all`
    records it: a set_working_directory pull step); returns their names."""
    from prefect.runner.storage import LocalStorage

    from deployments.serve import build, load_spec

    specs = load_spec(project_dir / "prefect.yaml")
    built = build(project_dir / "prefect.yaml", paused=paused)
    for spec, deployment in zip(specs, built, strict=True):
        deployment.entrypoint = str(spec["entrypoint"])  # relative to the project, not to our cwd
        deployment.storage = LocalStorage(str(project_dir))
        deployment.apply(work_pool_name=pool)
    return [d.name for d in built]


def deployments_ready() -> tuple[int, int]:
    """(deployments Ready, deployments) on the server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import DeploymentStatus

    with get_client(sync_client=True) as client:
        found = client.read_deployments()
    return sum(1 for d in found if d.status == DeploymentStatus.READY), len(found)


__all__ = ["POOL", "apply_deployments", "deployments_ready", "ensure_pool", "save_local_blocks"]
