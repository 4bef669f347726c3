"""`sierra-sync db upgrade` / `db seed` as a user runs them: real processes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sierra_core.db import migrate

CLI = [sys.executable, "-m", "sierra_sync"]


def run(*args: str, url: str | None = None, data_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    if url is not None:
        env["SIERRA_DATABASE_URL"] = url
    if data_dir is not None:
        env["SIERRA_DATA_DIR"] = data_dir
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_upgrade_then_seed_on_both_databases(fresh_db):
    up = run("db", "upgrade", "--json", url=fresh_db.url)
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["to"] == migrate.head_revision(fresh_db.engine)
    seeded = run("db", "seed", "--companies", "2", "--invoices", "50", "--json", url=fresh_db.url)
    assert seeded.returncode == 0, seeded.stderr
    summary = json.loads(seeded.stdout)
    assert (summary["companies_created"], summary["invoices"]) == (2, 100)
    assert seeded.stderr == ""
    again = run("db", "seed", "--companies", "2", "--invoices", "50", "--json", url=fresh_db.url)
    assert json.loads(again.stdout)["companies_skipped"] == 2


def test_default_is_a_sqlite_file_under_the_data_dir(tmp_path):
    proc = run("db", "upgrade", data_dir=str(tmp_path / "state"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "state" / "sierra.db").exists()


def test_seed_before_upgrade_says_what_to_run(tmp_path):
    proc = run("db", "seed", url=f"sqlite:///{tmp_path}/new.db")
    assert_one_line_error(proc, "sierra-sync db upgrade")


@pytest.mark.parametrize(
    ("url", "needles"),
    [
        ("not a url", ("not a valid database URL",)),
        ("mysql://root@localhost/app", ("unsupported database 'mysql'",)),
        ("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test", ("cannot reach the database", "***")),
    ],
)
def test_bad_database_urls_fail_with_one_clear_line(url, needles):
    proc = run("db", "upgrade", url=url)
    assert_one_line_error(proc, *needles)
    assert "hunter2" not in proc.stderr


def test_bad_option_is_a_usage_error_without_traceback(tmp_path):
    proc = run("db", "seed", "--companies", "0", url=f"sqlite:///{tmp_path}/x.db")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "no-such-flow"], "unknown flow"),
        (["run", "push-to-quickbooks", "--company", "Nobody Builders"], "no company"),
        (["run", "push-to-quickbooks", "--company", "x", "--param", "dry_run=maybe"], "dry_run"),
        (["run", "push-to-quickbooks", "--company", "x", "--param", "oops"], "key=value"),
    ],
)
def test_run_bad_input_is_one_line_before_any_flow_run(tmp_path, args, needle):
    up = run("db", "upgrade", url=f"sqlite:///{tmp_path}/r.db")
    assert up.returncode == 0, up.stderr
    proc = run(*args, url=f"sqlite:///{tmp_path}/r.db")
    assert_one_line_error(proc, needle)
    assert "ERROR" not in proc.stderr and "Traceback" not in proc.stderr


def test_run_for_a_company_whose_books_are_in_xero_checks_its_xero_connection(tmp_path):
    """The flows that need the books ask for the company's own accounting connection: for a company on
    Xero, the one-line error names Xero (not QuickBooks) and the command that connects it."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from tests import factories

    url = f"sqlite:///{tmp_path}/x.db"
    up = run("db", "upgrade", url=url)
    assert up.returncode == 0, up.stderr
    engine = create_engine(url)
    with sessionmaker(engine).begin() as s:
        company = factories.company(s, "Ironwood Custom Homes")
        factories.integration(
            s, company.id, integration_type="xero", connection_status="disconnected", is_active=True
        )
    engine.dispose()
    proc = run("run", "reconcile", "--company", "Ironwood Custom Homes", url=url)
    assert_one_line_error(proc, "Xero connection is disconnected", "sierra-sync connect xero")
    assert "QuickBooks" not in proc.stderr and "Traceback" not in proc.stderr
