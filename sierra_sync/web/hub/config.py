"""What the integrations hub needs besides AppDeps: its secrets, how it signs people in and how it starts
flow runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from sierra_sync.web.hub.runs import RunStarter

__all__ = ["HubConfig"]


@dataclass
class HubConfig:
    """`cookie_secret` signs session cookies (32+ random bytes; several during a rotation: the first signs).
    `handoff_secrets`: the secrets the host SaaS signs hand-off tokens with (none: /hub/session answers
    503). `local_login`: the email + password form for seeded users (development, small installs).
    `runs`: starts "Sync now" flow runs (None: the button is not shown). `cookie_secure`: cookies only over
    https (turn off for http://127.0.0.1 in development). `public_base_url`: this app's public URL, for the
    webhook URLs shown to copy. `help_url`: where the Help links point."""

    cookie_secrets: tuple[str, ...] = field(repr=False)
    handoff_secrets: tuple[str, ...] = field(default=(), repr=False)
    local_login: bool = False
    runs: RunStarter | None = None
    cookie_secure: bool = True
    session_ttl_s: int = 8 * 3600
    handoff_max_age_s: int = 120
    public_base_url: str | None = None
    help_url: str = "https://github.com/sierra-suites/sierra-sync/blob/main/docs/hub.md"

    def __post_init__(self) -> None:
        if not self.cookie_secrets or any(len(s) < 32 for s in self.cookie_secrets):
            raise ValueError("the hub's cookie secret must be at least 32 characters")
        if any(len(s) < 32 for s in self.handoff_secrets):
            raise ValueError("a hub hand-off secret must be at least 32 characters")
