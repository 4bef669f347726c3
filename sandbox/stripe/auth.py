"""Secret-key authentication: `Authorization: Bearer sk_test_…` (or Basic with the key as user name)."""

from __future__ import annotations

import base64
import binascii

from sandbox.stripe.errors import StripeError, authentication_error

_MISSING = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, using "
    "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). "
    "See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
)


def mask_key(key: str) -> str:
    """Stripe's way of echoing a bad key: the prefix and the last four characters, nothing else."""
    prefix, _, rest = key.rpartition("_")
    head = f"{prefix}_" if prefix else ""
    return f"{head}{'*' * max(len(rest) - 4, 0)}{rest[-4:]}" if len(rest) > 4 else f"{head}****"


def authenticate(authorization: str | None) -> str:
    """Return the secret key from an Authorization header, or raise Stripe's 401 error."""
    if not authorization or not authorization.strip():
        raise authentication_error(_MISSING)
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        key = value
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise authentication_error(
                "Invalid authorization header. Use Bearer auth with your secret key."
            ) from None
    else:
        raise authentication_error(
            "Invalid authorization header scheme. "
            "Use Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
    if not key:
        raise authentication_error(_MISSING)
    if not key.startswith("sk_test_") or len(key) <= len("sk_test_"):
        raise authentication_error(f"Invalid API Key provided: {mask_key(key)}")
    return key


__all__ = ["StripeError", "authenticate", "mask_key"]
