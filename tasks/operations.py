"""Tasks of the operations flows: key rotation, token refresh, health assessment (small JSON results)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import httpx
from prefect import get_run_logger, task

from blocks.apps import configured_apps
from blocks.loader import TOKEN_KEYS_BLOCK, token_keys
from connectors.keyrotation import reseal_all
from connectors.kit import upkeep
from connectors.ops import health
from connectors.ops.xero_probe import XeroProbe, probe_xero
from sierra_core.db.types import utcnow
from sierra_core.errors import ConfigError, SierraError
from tasks.runtime import sessions
from tasks.xero import xero_app, xero_company


@task(name="rotate-encryption-key")
def rotate_key_if_old(max_age_days: float) -> dict[str, Any]:
    """Add a new token-encryption key when the newest is older than `max_age_days`, save the block, and
    re-seal every stored token with it (old keys stay in the block so nothing becomes unreadable)."""
    logger = get_run_logger()
    block = token_keys()
    age = block.newest_key_age_days()
    if age < max_age_days:
        return {"rotated": False, "key_age_days": round(age, 1), "resealed": 0}
    key_id = block.add_key()
    block.save(TOKEN_KEYS_BLOCK, overwrite=True)  # saved before use: a crash never strands sealed data
    report = reseal_all(sessions(), block.keyring())
    logger.info(
        "the newest token key was %.0f days old: added key %s, re-sealed %s connection(s), %s "
        "authorization(s), %s webhook secret(s); %s value(s) left on older keys",
        age,
        key_id,
        report.integrations_resealed,
        report.oauth_states_resealed,
        report.webhook_secrets_resealed,
        report.left_on_old_keys,
    )
    if report.left_on_old_keys:
        logger.warning(
            "%s stored value(s) are still sealed with older keys (%s): keep every key in the block",
            report.left_on_old_keys,
            report.left_by_column,
        )
    details = {k: v for k, v in asdict(report).items() if k != "key_id"}
    return {
        "rotated": True,
        "key_age_days": round(age, 1),
        "resealed": report.integrations_resealed,
        **details,
    }


@task(name="refresh-tokens")
def refresh_tokens(refresh_within_minutes: int, reauthorize_within_days: int) -> dict[str, Any]:
    """Refresh due access tokens of every connection of every configured provider (and keep unused refresh
    tokens alive); flag those a person must reconnect."""
    logger = get_run_logger()
    with httpx.Client(timeout=30) as http:
        report = upkeep.refresh_all(
            sessions(),
            token_keys().keyring(),
            configured_apps(),
            http,
            refresh_within=timedelta(minutes=refresh_within_minutes),
            reauthorize_within=timedelta(days=reauthorize_within_days),
        )
    for warning in report.warnings:
        logger.warning("%s", warning)
    return {"counts": report.counts(), "warnings": report.warnings}


def probe_xero_connections(results: list[health.Health]) -> None:
    """Look at every Xero connection whose tokens are usable, live: the organisation among its tenants and
    answering, its calls left (two Xero calls each); what is found joins its verdict."""
    wanted = [
        h for h in results if h.provider == "xero" and h.token_status not in ("expired", "disconnected")
    ]
    if not wanted:
        return
    logger = get_run_logger()
    try:
        app = xero_app()
    except ConfigError as err:
        logger.warning("Xero connections not probed: %s", err.message)
        return
    for h in wanted:
        try:
            with xero_company(uuid.UUID(h.company_id), app) as xc:
                probe = probe_xero(xc.client, xc.connections)
        except SierraError as err:
            probe = XeroProbe(False, problem=err.message)
        health.apply_probe(h, probe)


@task(name="assess-health")
def assess_health(window_hours: int) -> list[dict[str, Any]]:
    """Assess every connection (Xero's probed live), store the verdicts in integration_health, return them
    as table rows."""
    now = utcnow()
    thresholds = health.Thresholds(window=timedelta(hours=window_hours))
    with sessions()() as session:
        results = health.assess(session, now, thresholds)
    probe_xero_connections(results)
    with sessions().begin() as session:
        health.store(session, results, now)
    return [h.as_row(now) for h in results]
