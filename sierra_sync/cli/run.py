"""`sierra-sync run FLOW [--company ID] [--param key=value ...] [--json]`: run any flow in this process."""

from __future__ import annotations

import json
import logging
from typing import Any

import typer

from sierra_core.errors import ConfigError, SierraError
from sierra_sync.cli.common import echo_json


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--param {pair!r} is not key=value (e.g. --param dry_run=true)")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw  # plain text
    return params


NEEDS_BOOKS = {"push-to-quickbooks", "incremental-sync", "full-sync", "replay-failed", "reconcile"}
"""Flows that need the company's accounting connection (QuickBooks or Xero, whichever its books are in)."""


def _preflight(flow_name: str, params: dict[str, Any]) -> None:
    """Catch a bad company, a missing connection or missing blocks before a flow run starts: one line,
    instead of a failed run with a traceback in its logs."""
    company = params.get("company")
    if company is None or company == "all":
        return
    from connectors.companies import resolve_company
    from connectors.kit.connection import load_stored_connection
    from connectors.quickbooks.connection import load_connection
    from connectors.xero.provider import XERO
    from sierra_core.db.engine import session_factory
    from sierra_sync.cli.common import open_engine, require_current_schema
    from tasks.runtime import accounting_provider

    engine = open_engine()
    require_current_schema(engine)
    with session_factory(engine)() as session:
        found = resolve_company(session, str(company))
        if flow_name not in NEEDS_BOOKS:
            return
        provider = accounting_provider(session, found.id)
        if provider == XERO.name:
            load_stored_connection(session, found.id, XERO)
        else:
            load_connection(session, found.id)
    from blocks.loader import quickbooks_app, token_keys

    if provider == XERO.name:
        from tasks.xero import xero_app

        xero_app()
    else:
        quickbooks_app()
    token_keys()


def run(
    flow_name: str = typer.Argument(..., help="Dashed flow name, e.g. push-to-quickbooks."),
    company: str | None = typer.Option(None, "--company", help="Company id or exact name."),
    param: list[str] = typer.Option([], "--param", help="A flow parameter as key=value (JSON values)."),
    as_json: bool = typer.Option(False, "--json", help="Print the flow's result as JSON."),
) -> None:
    """Run a flow now, in this process, and print its result."""
    from flows import registry

    if flow_name not in registry.FLOWS:
        raise ConfigError(f"unknown flow {flow_name!r}; flows: {', '.join(registry.names())}")
    params = _parse_params(param)
    if company is not None:
        params["company"] = company
    flow = registry.load(flow_name)
    flows_logger = logging.getLogger("prefect.flows")  # it would log the same complaint as an ERROR
    level = flows_logger.level
    flows_logger.setLevel(logging.CRITICAL)
    try:
        flow.validate_parameters(params)
    except Exception as err:  # Prefect raises ParameterTypeError / SignatureMismatchError
        lines = [line.strip(" -") for line in str(err).splitlines()]
        detail = "; ".join(line for line in lines[1:] if line) or lines[0]
        raise ConfigError(f"bad parameters for {flow_name}: {detail} (see the flow's docstring)") from None
    finally:
        flows_logger.setLevel(level)
    _preflight(flow_name, params)
    if as_json:
        logging.getLogger("prefect").setLevel(logging.WARNING)  # stdout stays pure JSON
    state = flow(**params, return_state=True)
    if not state.is_completed():
        try:
            state.result()
        except SierraError:
            raise
        except Exception as err:
            raise SierraError(
                f"{flow_name} failed: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
            ) from None
        raise SierraError(f"{flow_name} ended in state {state.name}")
    result = state.result()
    if as_json:
        echo_json(result)
    else:
        typer.echo(
            json.dumps(result, indent=2, default=str) if isinstance(result, dict | list) else str(result)
        )
