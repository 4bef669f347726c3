"""Stripe Connect accounts: the platform, the accounts connected to it through OAuth, and who a key is.

A request made with the platform's secret key acts on the platform's own objects, or on a connected
account's with `Stripe-Account: acct_…`; a request made with a connected account's access token acts on that
account. Deauthorizing an account revokes its tokens and the platform's access to it.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from sandbox.stripe.auth import mask_key
from sandbox.stripe.errors import StripeError

PLATFORM_ACCOUNT = "acct_1SierraPlatform00"
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class ConnectedAccount:
    """A Standard account that authorized the platform's Connect application."""

    id: str
    client_id: str
    scope: str
    business_name: str
    publishable_key: str
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    authorized: bool = True


@dataclass
class AuthorizationCode:
    """An `ac_…` code: single use, valid for five minutes."""

    code: str
    account_id: str
    client_id: str
    scope: str
    expires_at: int
    used: bool = False


@dataclass
class ConnectRegistry:
    """Connected accounts, their tokens and the pending authorization codes."""

    rng: random.Random
    accounts: dict[str, ConnectedAccount] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    revoked_keys: set[str] = field(default_factory=set)

    def token(self, prefix: str, length: int) -> str:
        """A random `prefix_…` credential or id."""
        return f"{prefix}_{''.join(self.rng.choice(_ALPHABET) for _ in range(length))}"

    def connect(self, client_id: str, scope: str, business_name: str) -> ConnectedAccount:
        """A new account that has just granted the application access."""
        account = ConnectedAccount(
            id="acct_1" + self.token("x", 15)[2:],
            client_id=client_id,
            scope=scope,
            business_name=business_name,
            publishable_key=self.token("pk_test", 40),
        )
        self.accounts[account.id] = account
        return account

    def issue_tokens(self, account: ConnectedAccount) -> tuple[str, str]:
        """A new access token (a secret key for the account) and refresh token."""
        access, refresh = self.token("sk_test", 99), self.token("rt", 80)
        account.access_tokens.append(access)
        account.refresh_tokens.append(refresh)
        return access, refresh

    def by_refresh_token(self, refresh_token: str) -> ConnectedAccount | None:
        """The authorized account a refresh token belongs to."""
        for account in self.accounts.values():
            if account.authorized and refresh_token in account.refresh_tokens:
                return account
        return None

    def deauthorize(self, account: ConnectedAccount) -> None:
        """The account disconnects the application: every token it was given stops working."""
        account.authorized = False
        self.revoked_keys.update(account.access_tokens)
        account.refresh_tokens.clear()

    def account_for(self, key: str, stripe_account: str | None) -> str:
        """The account a request acts on: its access token's, its `Stripe-Account`'s, or the platform."""
        if key in self.revoked_keys:
            raise StripeError(401, "invalid_request_error", f"Expired API Key provided: {mask_key(key)}")
        owner = next((a for a in self.accounts.values() if key in a.access_tokens), None)
        wanted = (stripe_account or "").strip() or None
        if owner is not None:
            if wanted is not None and wanted != owner.id:
                raise _no_access(key, wanted)
            return owner.id
        if wanted is None or wanted == PLATFORM_ACCOUNT:
            return PLATFORM_ACCOUNT
        target = self.accounts.get(wanted)
        if target is None or not target.authorized:
            raise _no_access(key, wanted)
        return target.id

    def clear(self) -> None:
        """Forget every account, code and token."""
        self.accounts.clear()
        self.codes.clear()
        self.revoked_keys.clear()


def _no_access(key: str, account_id: str) -> StripeError:
    return StripeError(
        403,
        "invalid_request_error",
        f"The provided key '{mask_key(key)}' does not have access to account '{account_id}' (or that "
        "account does not exist). Application access may have been revoked.",
        code="account_invalid",
    )
