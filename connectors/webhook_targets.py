"""Where outgoing webhooks may be sent: public HTTPS endpoints only, so that a subscription cannot turn our
workers into a client of the cloud metadata service, the database or anything else on the private network
(server-side request forgery).

- `check_url`, when a subscription is created or changed: https, no credentials in the URL, a host that is
  not `localhost` nor a private, loopback, link-local, reserved or multicast address (IPv6 forms that carry
  an IPv4 address, 6to4, NAT64, IPv4-mapped, -compatible or -translated, are judged by that IPv4 address:
  `2002:a9fe:a9fe::1` is the metadata service 169.254.169.254), and port 443, 8443 or one of `extra_ports`
  (setting SIERRA_WEBHOOKS_ALLOWED_PORTS), so that a subscription cannot probe other services of a public
  host either. Names are not resolved here (what a name resolves to can change; it is checked when it
  matters, at send time).
- `pin`, before every delivery: resolve the host, refuse it if any of its addresses is not public, and
  return requests aimed at the vetted addresses themselves. The Host header and the TLS server name keep the
  name (the certificate is still checked against it) and the connection is closed after the request, so a
  DNS answer that changes between the check and the connect (rebinding) cannot redirect the request.

`allow_private` (setting SIERRA_WEBHOOKS_ALLOW_PRIVATE_TARGETS) lifts the address and port rules and allows
plain http, for development and tests whose receivers run on 127.0.0.1. Errors name the host, never the
path or query of the URL (receivers sometimes put a token there).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import httpx

__all__ = ["ALLOWED_PORTS", "Pinned", "UnsafeTarget", "check_url", "embedded_ipv4", "is_public", "pin"]

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_PORTS = frozenset({443, 8443})  # and what SIERRA_WEBHOOKS_ALLOWED_PORTS adds

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: site-local translators, never public
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # ::a.b.c.d (deprecated, still routed by some stacks)
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765


class UnsafeTarget(ValueError):
    """A webhook URL we refuse to call; the message says why and what to do."""


@dataclass(frozen=True)
class Pinned:
    """One request per vetted address, in resolver order (the next is tried when one cannot be reached)."""

    urls: list[str]
    headers: dict[str, str]
    extensions: dict[str, str] = field(default_factory=dict)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (IPv4-mapped, 6to4, Teredo client, NAT64, IPv4-compatible,
    IPv4-translated), or None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if int(address) > 1 and any(address in net for net in (_NAT64, _IPV4_COMPATIBLE, _IPV4_TRANSLATED)):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved or address.is_link_local
    )


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet. An IPv6 address that carries an IPv4 address must pass
    as that IPv4 address too (IPv4-mapped ones are judged as IPv4 only)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        inside = embedded_ipv4(address)
        if inside is not None and (address.ipv4_mapped is not None or not _is_public(inside)):
            return _is_public(inside)
    return _is_public(address)


def _refusal(address: IPAddress, host: str | None = None) -> str:
    inside = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    holds = f" (it holds {inside})" if inside is not None else ""
    if host is None:
        return f"{address} is a private or reserved address{holds}; use a public address"
    return f"{host} resolves to {address}, a private or reserved address{holds}; use a public host"


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


def check_url(url: str, *, allow_private: bool, extra_ports: Collection[int] = ()) -> httpx.URL:
    """The parsed URL, or UnsafeTarget saying what is wrong with it. `extra_ports`: allowed besides 443
    and 8443."""
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
        raise UnsafeTarget(_refusal(literal))
    port = parsed.port or 443
    if port not in ALLOWED_PORTS and port not in extra_ports:
        raise UnsafeTarget(
            f"port {port} is not allowed for webhooks; use 443 or 8443 (an operator can allow more with "
            "SIERRA_WEBHOOKS_ALLOWED_PORTS)"
        )
    return parsed


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def pin(
    url: str, *, allow_private: bool, extra_ports: Collection[int] = (), resolve: Resolver = _getaddrinfo
) -> Pinned:
    """The requests to make for `url`, aimed at its vetted addresses; UnsafeTarget when it must not be
    called (or its host does not resolve)."""
    parsed = check_url(url, allow_private=allow_private, extra_ports=extra_ports)
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
            vetted = ipaddress.ip_address(address)
            if not is_public(vetted):
                raise UnsafeTarget(_refusal(vetted, parsed.host))
    urls = [str(parsed.copy_with(host=address)) for address in addresses]
    headers = {"Host": parsed.netloc.decode("ascii"), "Connection": "close"}
    extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
    return Pinned(urls, headers, extensions)
