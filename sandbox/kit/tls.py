"""A self-signed certificate made at start, for a sandbox served over https (some official SDKs refuse
plain http). The key never leaves the temporary folder; clients trust `TlsFiles.certfile` (httpx:
`verify=ssl.create_default_context(cafile=...)`, requests: `verify=certfile`)."""

from __future__ import annotations

import ipaddress
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["TlsFiles", "self_signed"]


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of a certificate and its private key."""

    certfile: str
    keyfile: str


def self_signed(host: str = "127.0.0.1", folder: str | None = None, days: int = 7) -> TlsFiles:
    """A new key and a certificate for `host`, localhost, 127.0.0.1 and ::1, written to `folder` (a new
    temporary folder by default)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {"127.0.0.1", "::1"}
    try:
        addresses.add(str(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted(addresses)]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sierra-sync local sandbox")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    where = Path(folder or tempfile.mkdtemp(prefix="sandbox-tls-"))
    certfile, keyfile = where / "cert.pem", where / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.touch(mode=0o600)
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return TlsFiles(str(certfile), str(keyfile))
