"""Stripe Connect accounts: the platform, the accounts connected to it through OAuth, and who a key is.

A request made with the platform's secret key acts on the platform's own objects, or on a connected
account's with `Stripe-Account: acct_…`; a request made with a connected account's access token acts on that
account. Deauthorizing an account (`oauth.ConnectServer`) revokes its tokens and the platform's access to it.
With a state file the accounts are kept on the kit's `Persistence` (namespace `stripe_account`), next to the
Connect grants and tokens the kit's OAuth server keeps there, so a connection outlives a restart.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import asdict, dataclass, field

from sandbox.kit.persist import Persistence
from sandbox.stripe.auth import mask_key
from sandbox.stripe.errors import StripeError

PLATFORM_ACCOUNT = "acct_1SierraPlatform00"
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class ConnectedAccount:
    """A Standard account that authorized the platform's Connect application (its grants and tokens are the
    kit's OAuth server's)."""

    id: str
    client_id: str
    scope: str
    business_name: str
    publishable_key: str
    authorized: bool = True


_NS = "stripe_account"


@dataclass
class ConnectRegistry:
    """Connected accounts; written through to `persistence` when there is one (`attach`)."""

    rng: random.Random
    accounts: dict[str, ConnectedAccount] = field(default_factory=dict)
    persistence: Persistence | None = None

    def attach(self, persistence: Persistence) -> None:
        """Keep the accounts on `persistence` from now on, starting with the ones it holds."""
        self.persistence = persistence
        for text in persistence.load_ns(_NS).values():
            account = ConnectedAccount(**json.loads(text))
            self.accounts[account.id] = account

    def save(self, account: ConnectedAccount) -> None:
        """Write one account through (nothing without a state file)."""
        if self.persistence is not None:
            self.persistence.put(_NS, account.id, json.dumps(asdict(account)))

    def set_authorized(self, account: ConnectedAccount, authorized: bool) -> None:
        """The account (re)connected (True) or deauthorized the application (False), kept."""
        account.authorized = authorized
        self.save(account)

    def token(self, prefix: str, length: int) -> str:
        """A random `prefix_…` credential or id."""
        return f"{prefix}_{''.join(self.rng.choice(_ALPHABET) for _ in range(length))}"

    def connect(self, client_id: str, scope: str, business_name: str) -> ConnectedAccount:
        """A new account that has just granted the application access (an id no kept account has, even
        when a seeded sandbox draws the same ids again after a restart)."""
        account_id = "acct_1" + self.token("x", 15)[2:]
        while account_id in self.accounts:
            account_id = "acct_1" + self.token("x", 15)[2:]
        account = ConnectedAccount(
            id=account_id,
            client_id=client_id,
            scope=scope,
            business_name=business_name,
            publishable_key=self.token("pk_test", 40),
        )
        self.accounts[account.id] = account
        self.save(account)
        return account

    def account_for(self, key: str, owner: str | None, stripe_account: str | None) -> str:
        """The account a request acts on: its access token's (`owner`), its `Stripe-Account`'s, or the
        platform."""
        wanted = (stripe_account or "").strip() or None
        if owner is not None:
            if wanted is not None and wanted != owner:
                raise _no_access(key, wanted)
            return owner
        if wanted is None or wanted == PLATFORM_ACCOUNT:
            return PLATFORM_ACCOUNT
        target = self.accounts.get(wanted)
        if target is None or not target.authorized:
            raise _no_access(key, wanted)
        return target.id

    def clear(self) -> None:
        """Forget every account (in memory; `SandboxState.reset` empties the state file)."""
        self.accounts.clear()


def _no_access(key: str, account_id: str) -> StripeError:
    return StripeError(
        403,
        "invalid_request_error",
        f"The provided key '{mask_key(key)}' does not have access to account '{account_id}' (or that "
        "account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )
