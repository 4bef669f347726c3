"""Outgoing-webhook targets: what a subscription may name, and requests pinned to vetted addresses. The TLS
test serves a certificate for a name over a real socket, so it shows that a request sent to the pinned
address still checks the certificate against the name (and fails for a certificate of another name)."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.webhook_targets import UnsafeTarget, check_url, pin

REFUSED = [
    ("http://hooks.example.com/x", "https"),
    ("ftp://hooks.example.com/x", "https"),
    ("https://user:pw@hooks.example.com/x", "user name and password"),
    ("https://localhost/x", "this server itself"),
    ("https://api.localhost/x", "this server itself"),
    ("https://127.0.0.1/x", "127.0.0.1 is a private"),
    ("https://127.1/x", "127.0.0.1 is a private"),
    ("https://2130706433/x", "127.0.0.1 is a private"),
    ("https://0x7f.1/x", "127.0.0.1 is a private"),
    ("https://10.1.2.3/x", "10.1.2.3 is a private"),
    ("https://192.168.0.10/x", "is a private"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a private"),  # cloud metadata
    ("https://100.64.0.1/x", "is a private"),  # carrier-grade NAT
    ("https://0.0.0.0/x", "is a private"),
    ("https://224.0.0.1/x", "is a private"),
    ("https://[::1]/x", "::1 is a private"),
    ("https://[fd00::1]/x", "is a private"),
    ("https://[fe80::1]/x", "is a private"),
    ("https://[::ffff:10.0.0.1]/x", "is a private"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_private_hosts_plain_http_and_credentials_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget, match=reason):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/x?token=1", "https://8.8.8.8/x", "https://[2001:4860::1]/"]
)
def test_public_https_urls_pass(url: str) -> None:
    assert str(check_url(url, allow_private=False)) == url


def test_development_mode_allows_local_receivers_but_never_credentials() -> None:
    assert check_url("http://127.0.0.1:9/hook", allow_private=True).port == 9
    with pytest.raises(UnsafeTarget, match="user name"):
        check_url("http://u:p@127.0.0.1:9/hook", allow_private=True)


def test_pin_aims_at_every_vetted_address_and_keeps_the_name() -> None:
    pinned = pin(
        "https://hooks.example.com:8443/in?token=t1",
        allow_private=False,
        resolve=lambda host, port: ["93.184.216.34", "2606:2800:220:1::1"],
    )
    assert pinned.urls == [
        "https://93.184.216.34:8443/in?token=t1",
        "https://[2606:2800:220:1::1]:8443/in?token=t1",
    ]
    assert pinned.headers == {"Host": "hooks.example.com:8443", "Connection": "close"}
    assert pinned.extensions == {"sni_hostname": "hooks.example.com"}


def test_a_name_that_resolves_to_a_private_address_is_refused_whatever_else_it_has() -> None:
    asked: list[tuple[str, int]] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.216.34", "10.0.0.7"]

    with pytest.raises(UnsafeTarget, match=r"hooks.example.com resolves to 10.0.0.7") as err:
        pin("https://hooks.example.com/in?token=secret-token", allow_private=False, resolve=rebinding)
    assert asked == [("hooks.example.com", 443)]
    assert "secret-token" not in str(err.value)  # errors name the host, never the path or query


def test_a_name_that_does_not_resolve_is_one_clear_error() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeTarget, match="does not resolve"):
        pin("https://nowhere.example/x", allow_private=False, resolve=nowhere)


# --- pinned TLS over a real socket -------------------------------------------------------------------------


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Seen(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str | None, str | None]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append((self.headers.get("Host"), getattr(self.server, "last_sni", None)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert, key = _certificate(tmp_path, "hooks.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Seen)

    def remember_sni(sock: ssl.SSLObject, name: str, ctx: ssl.SSLContext) -> None:
        server.last_sni = name  # type: ignore[attr-defined]

    context.sni_callback = remember_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Seen.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


def _post(pinned_url: str, headers: dict[str, str], extensions: dict[str, str], ca: Path) -> int:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=5) as client:
        return client.post(pinned_url, content=b"{}", headers=headers, extensions=extensions).status_code


def test_a_pinned_https_request_checks_the_certificate_against_the_name(tls_receiver, tmp_path) -> None:
    port, ca = tls_receiver
    pinned = pin(f"https://hooks.test:{port}/in", allow_private=True, resolve=lambda h, p: ["127.0.0.1"])
    assert pinned.urls == [f"https://127.0.0.1:{port}/in"]
    assert _post(pinned.urls[0], pinned.headers, pinned.extensions, ca) == 204
    assert _Seen.seen == [(f"hooks.test:{port}", "hooks.test")]

    # The same address under another name: the certificate does not match, nothing is sent.
    other = pin(f"https://other.test:{port}/in", allow_private=True, resolve=lambda h, p: ["127.0.0.1"])
    with pytest.raises(httpx.ConnectError, match="certificate"):
        _post(other.urls[0], other.headers, other.extensions, ca)
    assert len(_Seen.seen) == 1


# IPv6 forms that carry an IPv4 address: each must be judged by the IPv4 address inside.
EMBEDDED_PRIVATE = [
    ("https://[2002:a9fe:a9fe::1]/", "169.254.169.254"),  # 6to4 form of the cloud metadata service
    ("https://[2002:7f00:1::1]/x", "127.0.0.1"),  # 6to4 form of loopback
    ("https://[2002:a00:1:1::5]/x", "10.0.0.1"),
    ("https://[64:ff9b::a9fe:a9fe]/x", "169.254.169.254"),  # NAT64 (RFC 6052 well-known prefix)
    ("https://[64:ff9b::10.0.0.1]/x", "10.0.0.1"),
    ("https://[64:ff9b:1::a00:1]/x", None),  # local-use NAT64 prefix (RFC 8215): never public
    ("https://[::169.254.169.254]/x", "169.254.169.254"),  # IPv4-compatible
    ("https://[::ffff:169.254.169.254]/x", "169.254.169.254"),  # IPv4-mapped
    ("https://[::ffff:0:a9fe:a9fe]/x", "169.254.169.254"),  # IPv4-translated (SIIT)
]


@pytest.mark.parametrize(("url", "inside"), EMBEDDED_PRIVATE)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(url: str, inside: str | None) -> None:
    with pytest.raises(UnsafeTarget, match="is a private or reserved address") as err:
        check_url(url, allow_private=False)
    if inside is not None:
        assert inside in str(err.value)
    host = url.split("[")[1].split("]")[0]
    with pytest.raises(UnsafeTarget, match="private or reserved"):  # a name that resolves to it
        pin("https://hooks.example.com/in", allow_private=False, resolve=lambda h, p: [host])


def test_a_6to4_form_of_a_public_address_passes() -> None:
    assert check_url("https://[2002:808:808::1]/in", allow_private=False).host == "2002:808:808::1"


def test_ports_other_than_443_8443_and_configured_ones_are_refused() -> None:
    assert check_url("https://hooks.example.com/x", allow_private=False).port is None
    assert check_url("https://hooks.example.com:443/x", allow_private=False).port is None
    assert check_url("https://hooks.example.com:8443/x", allow_private=False).port == 8443
    for port in (22, 80, 6379, 8080, 9443):
        with pytest.raises(UnsafeTarget, match=f"port {port} is not allowed") as err:
            check_url(f"https://hooks.example.com:{port}/x", allow_private=False)
        assert "SIERRA_WEBHOOKS_ALLOWED_PORTS" in str(err.value)
    assert check_url("https://hooks.example.com:9443/x", allow_private=False, extra_ports={9443}).port == 9443
    with pytest.raises(UnsafeTarget, match="port 22"):
        pin("https://hooks.example.com:22/x", allow_private=False, resolve=lambda h, p: ["93.184.216.34"])
    # Development mode (receivers on 127.0.0.1, any port) is unchanged.
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True).port == 8080
