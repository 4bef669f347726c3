"""`sierra-sync api-keys create|list|revoke` as a user runs them (one process each, SQLite only: the key
logic itself is tested on both dialects through the API)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from connectors.apikeys import hash_key
from sierra_core.db.models import ApiKey
from tests import factories
from tests.cli.test_db_commands import assert_one_line_error, run


@pytest.mark.parametrize("migrated_db", ["sqlite"], indirect=True)
def test_create_list_revoke(db, sessions) -> None:
    with sessions.begin() as s:
        company = factories.company(s, "Keys Builders")
    made = run(
        "api-keys", "create", "--company", "Keys Builders", "--name", "zap", "--permissions",
        "projects:rw,contacts:r", "--expires-in", "90d", "--environment", "sandbox", "--json", url=db.url,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert out["key"].startswith("sk_test_")
    assert out["permissions"] == "contacts:r,projects:rw"
    with sessions() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.company_id == company.id))
        assert row.key_value == hash_key(out["key"])
        assert out["key"] not in (row.key_value, row.key_prefix)
        assert out["key"].startswith(row.key_prefix)
    listed = run("api-keys", "list", "--company", str(company.id), "--json", url=db.url)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["prefix"], r["state"]) for r in rows] == [(out["prefix"], "active")]
    assert out["key"] not in listed.stdout
    revoked = run("api-keys", "revoke", out["prefix"], "--json", url=db.url)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["state"] == "revoked"
    bad = run(
        "api-keys",
        "create",
        "--company",
        "Keys Builders",
        "--name",
        "x",
        "--permissions",
        "money:rw",
        url=db.url,
    )
    assert_one_line_error(bad, "unknown permission resource 'money'")
