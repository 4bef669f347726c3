"""One redaction function for everything stored or shown: sync-log payloads, error details, artifacts.

It removes OAuth tokens, client secrets, API keys, webhook secrets, Authorization headers and card data,
by key (anywhere in nested dicts and lists) and by value pattern (bearer tokens, Stripe keys, JWTs and
Luhn-valid card numbers inside free text), and returns a new structure: the input is never modified.
A value pattern covers the whole secret: the project's own keys and webhook secrets end in
`secrets.token_urlsafe`, whose letters include "-" and "_".

`strip_client_secrets` (and `strip_client_secrets_json` for the text as received) is the narrow version for
provider objects that are stored whole (the webhook inbox): only Stripe's client secrets and ephemeral keys
go, everything else stays as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"

# Compared after lower-casing and dropping "-" and "_": "Access-Token", "access_token", "accessToken" match.
_SECRET_KEYS = frozenset(
    {
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "token",
        "clientsecret",
        "secret",
        "webhooksecret",
        "verifiertoken",
        "apikey",
        "secretkey",
        "password",
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "codeverifier",
        "clientassertion",
        "stripesignature",
        "intuitsignature",
        "keyvalue",
        "cardnumber",
        "cvc",
        "cvv",
        "cvc2",
        "securitycode",
        "accountnumber",
        "routingnumber",
    }
)
# Inside a card object ("card": {...}) these are card data too, though harmless elsewhere.
_CARD_KEYS = frozenset({"number", "cvc", "expmonth", "expyear", "fingerprint"})
_CARD_CONTAINERS = frozenset({"card", "creditcard", "paymentcard"})

# Stripe's client secrets: `pi_…_secret_…` (PaymentIntent), `seti_…_secret_…` (SetupIntent),
# `cs_test_…_secret_…` (Checkout and other sessions), legacy `src_client_secret_…`, and ephemeral keys
# `ek_live_…`. Whoever holds one can act on the object from a browser: they are for the customer's device,
# never for storage.
_CLIENT_SECRET = re.compile(
    r"\b(?:[a-z]{2,8}_(?:(?:live|test)_)?(?=[0-9A-Za-z]*[0-9])[0-9A-Za-z]{8,}_secret_[0-9A-Za-z]{8,}"
    r"|src_client_secret_[0-9A-Za-z_-]+"
    r"|ek_(?:live|test)_[0-9A-Za-z_-]{8,})"
)
_MAY_HOLD_CLIENT_SECRET = re.compile(r"(?i)secret|ek_")
_VALUE_PATTERNS = [
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\b(sk|rk|pk)_(live|test)_[0-9A-Za-z_-]{8,}"),
    re.compile(r"\bwhsec_[0-9A-Za-z_-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"),  # JWT
    re.compile(r"\bAB11[0-9]{6,}[A-Za-z0-9]{10,}"),  # Intuit refresh token shape
    re.compile(r"(?i)([?&](access_token|refresh_token|client_secret|code|token)=)[^&\s]+"),
    _CLIENT_SECRET,
]
_CARD_RUN = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _scoped(pattern: re.Pattern[str]) -> str:
    text = pattern.pattern
    return f"(?i:{text[4:]})" if text.startswith("(?i)") else f"(?:{text})"


# Any of the patterns above, in one pass: text where none of them matches comes back as it is (most of a
# payload's strings: names, numbers, dates), without one substitution pass per pattern.
_ANY_SECRET = re.compile("|".join(_scoped(p) for p in [*_VALUE_PATTERNS, _CARD_RUN]))


@lru_cache(maxsize=4096)
def _norm(key: str) -> str:
    return key.lower().replace("-", "").replace("_", "")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return f"[CARD ****{digits[-4:]}]"
    return match.group(0)


def redact_text(text: str) -> str:
    """Mask secrets and card numbers inside free text (error messages, URLs, logged bodies)."""
    if _ANY_SECRET.search(text) is None:
        return text
    for pattern in _VALUE_PATTERNS:
        if pattern.groups >= 2 and "[?&]" in pattern.pattern:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return _CARD_RUN.sub(_mask_card, text)


@lru_cache(maxsize=4096)
def _is_identifier_key(key: str) -> bool:
    # Ids such as QBO's 19-digit Class ids can pass the Luhn check; they are not card numbers.
    k = _norm(key)
    return k in {"id", "value", "txnid", "realmid", "synctoken"} or k.endswith("id")


_PLAIN = frozenset({int, float, bool, type(None)})


def redact(value: Any, *, _key: str = "", _in_card: bool = False) -> Any:
    """Return a copy of `value` (dicts, lists, scalars) with every secret replaced by "[REDACTED]"."""
    kind = type(value)
    if kind is str:
        return value if _is_identifier_key(_key) else redact_text(value)
    if kind in _PLAIN:  # numbers, None, booleans: nothing to mask (what the last line returns)
        return value
    if isinstance(value, Mapping):
        in_card = _norm(_key) in _CARD_CONTAINERS
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k)
            norm = _norm(key)
            if norm in _SECRET_KEYS or (in_card and norm in _CARD_KEYS):
                out[key] = None if v is None else REDACTED
            else:
                out[key] = redact(v, _key=key, _in_card=in_card)
        return out
    if isinstance(value, list | tuple):
        return [redact(v, _key=_key, _in_card=_in_card) for v in value]
    if isinstance(value, str):
        if _is_identifier_key(_key):
            return value
        return redact_text(value)
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a plain dict with credentials removed (Authorization, Cookie, signatures…)."""
    return {k: str(v) for k, v in redact(dict(headers)).items()}


def redact_values(values: Mapping[str, str]) -> dict[str, str]:
    """Each value whole, or "[REDACTED]" when it holds a secret (by its key or anywhere in its text, whatever
    the key): a query string's values, where a partly masked value could still give away the rest."""
    masked = redact(dict(values))
    return {k: v if masked[k] == v and redact_text(v) == v else REDACTED for k, v in values.items()}


def _strip(value: Any, found: set[str]) -> Any:
    if isinstance(value, Mapping):
        ephemeral_key = value.get("object") == "ephemeral_key"
        out: dict[str, Any] = {}
        for k, v in value.items():
            norm = _norm(str(k))
            if v is not None and (norm == "clientsecret" or (ephemeral_key and norm == "secret")):
                found.add(v if isinstance(v, str) else json.dumps(v))
                out[k] = REDACTED
            else:
                out[k] = _strip(v, found)
        return out
    if isinstance(value, list | tuple):
        return [_strip(v, found) for v in value]
    if isinstance(value, str) and _MAY_HOLD_CLIENT_SECRET.search(value):
        found.update(m.group(0) for m in _CLIENT_SECRET.finditer(value))
        return _CLIENT_SECRET.sub(REDACTED, value)
    return value


def strip_client_secrets(value: Any) -> Any:
    """A copy of a provider object (a Stripe event) without client secrets: every `client_secret` field,
    the `secret` of an ephemeral key, and such values inside text (a 3-D Secure redirect URL carries
    `payment_intent_client_secret=…`) become "[REDACTED]"; everything else is kept as it is."""
    return _strip(value, set())


def strip_client_secrets_json(text: str) -> str:
    """A JSON document as received (a webhook body) without client secrets: `text` itself when it holds
    none; else the same text with each one replaced by "[REDACTED]", so it still parses to
    `strip_client_secrets(json.loads(text))`; when that cannot be done in place, that stripped document
    re-serialised. Text that is not JSON gets the value patterns only."""
    if not _MAY_HOLD_CLIENT_SECRET.search(text):
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return _CLIENT_SECRET.sub(REDACTED, text)
    found: set[str] = set()
    stripped = _strip(document, found)
    if not found:
        return text
    out = text
    for secret in sorted(found, key=len, reverse=True):
        out = out.replace(json.dumps(secret)[1:-1], REDACTED)  # as the value is written inside the JSON text
    try:
        if json.loads(out) == stripped:
            return out
    except ValueError:
        pass
    return json.dumps(stripped, indent=2)
