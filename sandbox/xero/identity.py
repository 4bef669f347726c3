"""Xero Identity's token endpoint where it differs from the kit's OAuth server: token responses carry the
granted `scope`; a refresh token comes only with `offline_access`; and a refresh with a refresh token in its
30-minute grace (already used once) answers another new refresh token, as every Xero refresh does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from sandbox.kit.oauth import Grant, OAuthServer, RefreshToken

__all__ = ["ADMIN_SCOPE", "XeroOAuthServer"]

# a connection made through the admin API (POST /__sandbox/tokens) has every scope an integration asks for
ADMIN_SCOPE = (
    "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings "
    "accounting.attachments"
)


class XeroOAuthServer(OAuthServer):
    """The kit's OAuth server with Xero Identity's refresh-token rules."""

    def _issue(
        self, grant: Grant, refresh: RefreshToken | None, hard_header: bool, id_token: str | None = None
    ) -> dict[str, Any]:
        scope = grant.scope or ADMIN_SCOPE
        if "offline_access" not in scope.split():
            refresh = None
        return super()._issue(grant, refresh, hard_header, id_token) | {"scope": scope}

    def _refresh(self, form: Mapping[str, str], hard_header: bool) -> Response:
        rt = self.refresh.get(form.get("refresh_token", ""))
        if rt is None or rt.superseded_at is None:
            return super()._refresh(form, hard_header)
        now = self.clock.timestamp()
        grant = self.grants.get(rt.grant_id)
        if grant is None or grant.revoked or rt.forced_expired or now >= rt.expires:
            return self.invalid_grant()
        if now >= rt.superseded_at + self.spec.grace_s:
            return self.invalid_grant()
        fresh = self._new_refresh(grant.id, grant.hard_expires)
        grant.current_refresh = fresh.token
        self._save(grant)
        return self.token_response(self._issue(grant, fresh, hard_header))
