"""Property-based run of schemathesis against the OpenAPI document of /api/v1, served over HTTP on both
PostgreSQL with a key that may do everything: no 500, every answer matches its documented status, content
type and schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from connectors.apikeys import create_key, parse_permissions
from sierra_sync.web import AppDeps, create_app
from tests.web.api_helpers import ALL, build_world, keyring

# The document only: an engine that never connects is enough to build the app.
_doc = create_app(AppDeps(sessions=sessionmaker(create_engine("sqlite://")))).openapi()
_doc["paths"] = {p: ops for p, ops in _doc["paths"].items() if p.startswith("/api/v1")}
schema = schemathesis.openapi.from_dict(_doc)
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture
def served(sessions, web_server) -> Any:
    ring = keyring()
    world = build_world(sessions, ring, "Schema Builders")
    with sessions.begin() as s:
        key = create_key(
            s,
            world.company_id,
            "fuzz",
            parse_permissions(ALL),
            rate_limit_per_hour=10**6,
            rate_limit_per_day=10**7,
        ).raw
    with web_server.serve(AppDeps(sessions=sessions, webhook_keyring=ring)) as client:
        yield client.base_url, key


# PostgreSQL only: it is the stricter of the two (NUL bytes, types, lengths) and the run costs seconds.
@pytest.mark.parametrize("migrated_db", ["postgresql"], indirect=True)
# Hypothesis flags any change of the global `random` state while it draws a case as strategy code using
# `random`; other threads of this process (the served app, Prefect's test-harness services) may touch it
# then. Seen once in CI as a FlakyFailure that did not reproduce; the drawn cases are unaffected.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)
@schema.parametrize()
@settings(
    max_examples=6,
    phases=[Phase.generate],  # generated cases only: the explicit coverage examples multiply the run time
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_500_and_no_schema_violation(case: Any, served: Any) -> None:
    base_url, key = served
    # Never let the fuzzer point subscriptions anywhere but a closed local port.
    if case.method in ("POST", "PATCH") and isinstance(case.body, dict) and "url" in case.body:
        case.body["url"] = "http://127.0.0.1:9/hook"
    response = case.call(base_url=str(base_url), headers={"Authorization": f"Bearer {key}"})
    case.validate_response(response, checks=CHECKS)
