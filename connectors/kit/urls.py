"""URL rules every provider shares: https everywhere, plain http only on loopback (the local sandboxes)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from sierra_core.errors import ConfigError

__all__ = ["is_loopback", "require_https"]


def is_loopback(url: str) -> bool:
    """True when `url`'s host is localhost or a loopback address (127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_https(url: str, what: str) -> None:
    """One clear line unless `url` is https (or plain http on loopback)."""
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("http", "https"):
        raise ConfigError(f"{what} must be an https URL with a host: {url!r}")
    if parts.scheme != "https" and not is_loopback(url):
        raise ConfigError(f"{what} must use https (plain http is allowed only on loopback): {url}")
