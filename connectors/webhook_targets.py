"""Where outgoing webhooks may be sent: public HTTPS endpoints only, so that a subscription cannot turn our
workers into a client of the cloud metadata service, the database or anything else on the private network
(server-side request forgery).

- `check_url`, when a subscription is created or changed: https, no credentials in the URL, and a host
  that is not `localhost` nor a private, loopback, link-local, reserved or multicast address. Names are not
  resolved here (what a name resolves to can change; it is checked when it matters, at send time).
- `pin`, before every delivery: resolve the host, refuse it if any of its addresses is not public, and
  return requests aimed at the vetted addresses themselves. The Host header and the TLS server name keep the
  name (the certificate is still checked against it) and the connection is closed after the request, so a
  DNS answer that changes between the check and the connect (rebinding) cannot redirect the request.

`allow_private` (setting SIERRA_WEBHOOKS_ALLOW_PRIVATE_TARGETS) lifts the address rules and allows plain
http, for development and tests whose receivers run on 127.0.0.1. Errors name the host, never the path or
query of the URL (receivers sometimes put a token there).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

__all__ = ["Pinned", "UnsafeTarget", "check_url", "is_public", "pin"]

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """A webhook URL we refuse to call; the message says why and what to do."""


@dataclass(frozen=True)
class Pinned:
    """One request per vetted address, in resolver order (the next is tried when one cannot be reached)."""

    urls: list[str]
    headers: dict[str, str]
    extensions: dict[str, str] = field(default_factory=dict)


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet (IPv4-mapped IPv6 addresses are judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved or address.is_link_local
    )


def _literal(host: str) -> IPAddress | None:
    """The address a host written as a number stands for, in any notation the resolver accepts
    (`127.1`, `2130706433` and `0x7f.1` are all 127.0.0.1), without asking DNS."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not host.replace(".", "").replace("x", "").isalnum() or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The parsed URL, or UnsafeTarget saying what is wrong with it."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as err:
        raise UnsafeTarget(f"not a valid URL ({err})") from None
    if parsed.scheme not in ("https", "http"):
        raise UnsafeTarget("use an https:// URL")
    if parsed.scheme == "http" and not allow_private:
        raise UnsafeTarget("use an https:// URL (plain http would send your data unencrypted)")
    if parsed.userinfo:
        raise UnsafeTarget("remove the user name and password from the URL; deliveries are signed instead")
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise UnsafeTarget("the URL has no host")
    if allow_private:
        return parsed
    if host == "localhost" or host.endswith(".localhost"):
        raise UnsafeTarget(f"{host} is this server itself; use a public address")
    literal = _literal(host)
    if literal is not None and not is_public(literal):
        raise UnsafeTarget(f"{literal} is a private or reserved address; use a public address")
    return parsed


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def pin(url: str, *, allow_private: bool, resolve: Resolver = _getaddrinfo) -> Pinned:
    """The requests to make for `url`, aimed at its vetted addresses; UnsafeTarget when it must not be
    called (or its host does not resolve)."""
    parsed = check_url(url, allow_private=allow_private)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = _literal(parsed.host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(parsed.host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise UnsafeTarget(f"{parsed.host} does not resolve; check the host name")
    if not allow_private:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise UnsafeTarget(
                    f"{parsed.host} resolves to {address}, a private or reserved address; use a public host"
                )
    urls = [str(parsed.copy_with(host=address)) for address in addresses]
    headers = {"Host": parsed.netloc.decode("ascii"), "Connection": "close"}
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return Pinned(urls, headers, extensions)
