"""`sierra-sync users add|list|remove` as a user runs them: real processes, the password on stdin, exit
codes and one-line errors without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from sqlalchemy import select

from connectors.hub_users import can_manage, verify_password
from sierra_core.db.models import HubUser
from tests import factories
from tests.cli.test_db_commands import CLI, assert_one_line_error

PASSWORD = "a long enough password"


def run(*args: str, url: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIERRA_")}
    env["SIERRA_DATABASE_URL"] = url
    return subprocess.run(
        [*CLI, "users", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_add_list_remove(db, sessions) -> None:
    with sessions.begin() as s:
        company = factories.company(s, "Ridgeline Builders")
        factories.company(s, "Other Builders")
    owner = run(
        "add", "--company", "Ridgeline Builders", "--email", " Olive@Ridgeline.example ", "--role", "owner",
        "--name", "Olive Owner", "--password-stdin", "--json", url=db.url, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert owner.returncode == 0, owner.stderr
    out = json.loads(owner.stdout)
    assert out["email"] == "olive@ridgeline.example" and out["role"] == "Owner"
    assert out["manages_integrations"] is True and out["local_password"] is True
    assert PASSWORD not in owner.stdout + owner.stderr
    admin = run(
        "add", "--company", str(company.id), "--email", "ada@ridgeline.example", "--role", "ADMIN",
        "--password-stdin", url=db.url, stdin=PASSWORD,
    )  # fmt: skip
    assert admin.returncode == 0, admin.stderr
    assert "added admin ada@ridgeline.example to Ridgeline Builders" in admin.stdout
    member = run(
        "add", "--company", "Ridgeline Builders", "--email", "pat@ridgeline.example", "--role", "member",
        "--no-password", url=db.url,
    )  # fmt: skip
    assert member.returncode == 0, member.stderr
    assert "signs in through the host's hand-off only" in member.stdout
    with sessions() as s:
        users = {u.email: u for u in s.scalars(select(HubUser).where(HubUser.company_id == company.id))}
    assert set(users) == {"olive@ridgeline.example", "ada@ridgeline.example", "pat@ridgeline.example"}
    assert verify_password(PASSWORD, users["olive@ridgeline.example"].password_hash)
    assert verify_password(PASSWORD, users["ada@ridgeline.example"].password_hash)  # no newline kept
    assert users["olive@ridgeline.example"].name == "Olive Owner"
    ada = users["ada@ridgeline.example"]
    assert ada.role == "Admin" and can_manage(ada.role, ada.permissions)
    pat = users["pat@ridgeline.example"]
    assert pat.password_hash is None and not can_manage(pat.role, pat.permissions)

    listed = run("list", "--company", "Ridgeline Builders", "--json", url=db.url)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["email"], r["manages_integrations"]) for r in rows] == [
        ("ada@ridgeline.example", True),
        ("olive@ridgeline.example", True),
        ("pat@ridgeline.example", False),
    ]
    assert "scrypt" not in listed.stdout
    text = run("list", "--company", "Ridgeline Builders", url=db.url).stdout
    assert "pat@ridgeline.example  Member (reads, hand-off)" in text
    assert "Other Builders has no hub users" in run("list", "--company", "Other Builders", url=db.url).stdout

    elsewhere = run("remove", "pat@ridgeline.example", "--company", "Other Builders", url=db.url)
    assert_one_line_error(elsewhere, "no hub user with email pat@ridgeline.example in Other Builders")
    removed = run("remove", "PAT@ridgeline.example", url=db.url)
    assert removed.returncode == 0, removed.stderr
    assert "removed pat@ridgeline.example from Ridgeline Builders" in removed.stdout
    with sessions() as s:
        assert s.scalar(select(HubUser).where(HubUser.email == "pat@ridgeline.example")) is None
    again = run("remove", "pat@ridgeline.example", url=db.url)
    assert_one_line_error(again, "no hub user with email pat@ridgeline.example")
    assert again.returncode == 4


@pytest.mark.parametrize("migrated_db", ["sqlite"], indirect=True)
def test_bad_input_is_one_clear_line(db, sessions) -> None:
    with sessions.begin() as s:
        factories.company(s, "Ridgeline Builders")
        factories.company(s, "Taken Builders")
    taken = run(
        "add", "--company", "Taken Builders", "--email", "taken@example.com", "--role", "member",
        "--no-password", url=db.url,
    )  # fmt: skip
    assert taken.returncode == 0, taken.stderr

    def add(*extra: str, email: str = "new@example.com", stdin: str | None = PASSWORD) -> Any:
        return run(
            "add", "--company", "Ridgeline Builders", "--email", email, *extra, url=db.url, stdin=stdin
        )

    cases = [
        (add("--role", "boss", "--password-stdin"), ["'boss' is not one of", "owner", "admin", "member"]),
        (add("--role", "owner", "--password-stdin", email="not-an-email"), ["is not an email address"]),
        (add("--role", "owner", "--password-stdin", email="a@b"), ["is not an email address"]),
        (add("--role", "owner", "--password-stdin", stdin="short"), ["at least 12 characters"]),
        (add("--role", "owner", "--password-stdin", stdin=""), ["no password on standard input"]),
        (add("--role", "owner", "--password-stdin", stdin=f"{PASSWORD}\nmore\n"), ["on one line"]),
        (add("--role", "owner"), ["--password-stdin", "--no-password"]),  # no terminal to prompt on
        (add("--role", "owner", "--password-stdin", "--no-password"), ["not both"]),
        (add("--role", "owner", "--no-password", email="TAKEN@example.com"), ["already exists"]),
        (add("--password-stdin"), ["--role"]),
        (
            run(
                "add",
                "--company",
                "Nobody Builders",
                "--email",
                "x@example.com",
                "--role",
                "member",
                "--no-password",
                url=db.url,
            ),
            ["no company with id or exact name 'Nobody Builders'"],
        ),
        (run("list", "--company", "Nobody Builders", url=db.url), ["no company"]),
        (run("remove", "ghost@example.com", url=db.url), ["no hub user with email ghost@example.com"]),
    ]
    for proc, needles in cases:
        assert_one_line_error(proc, *needles)
        assert PASSWORD not in proc.stderr + proc.stdout
    with sessions() as s:
        assert s.scalar(select(HubUser).where(HubUser.email == "new@example.com")) is None
