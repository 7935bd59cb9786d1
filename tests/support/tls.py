"""make_tls: a trustme CA, server certificates and an untrusted self-signed certificate.

Everything binds to 127.0.0.0/8 or ::1 on port 0: tests never send traffic elsewhere.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import trustme

#: Identities in the trusted server certificate (extra 127.0.0.x for multi-host TLS tests).
TLS_IDENTITIES = ("localhost", "127.0.0.1", "::1", *(f"127.0.0.{i}" for i in range(2, 10)))


@dataclass
class TLSMaterial:
    """Certificates for TLS tests. Only ``ca_cert_path`` is meant for clients."""

    ca_cert_path: str  # PEM bundle with the test CA: pass as the client's CA bundle
    server_context: ssl.SSLContext  # cert for TLS_IDENTITIES, signed by the test CA
    self_signed_context: ssl.SSLContext  # self-signed cert for localhost etc., trusted by nobody
    self_signed_cert_path: str
    wrong_host_context: ssl.SSLContext  # signed by the test CA, but only for "wrong.invalid"
    expired_context: ssl.SSLContext  # signed by the test CA for TLS_IDENTITIES, expired
    ca: trustme.CA = field(repr=False)


def _server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _self_signed_pem(identities: Iterable[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    sans: list[x509.GeneralName] = []
    for ident in identities:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(ident)))
        except ValueError:
            sans.append(x509.DNSName(ident))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def make_tls(directory: str | os.PathLike[str]) -> TLSMaterial:
    """Create the test CA and certificates, writing PEM files into ``directory``.

    Typical use: ``make_tls(tmp_path_factory.mktemp("tls"))``.
    """
    path = Path(directory)
    ca = trustme.CA()
    ca_cert_path = path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_cert_path))

    server_context = _server_context()
    ca.issue_cert(*TLS_IDENTITIES).configure_cert(server_context)

    wrong_host_context = _server_context()
    ca.issue_cert("wrong.invalid").configure_cert(wrong_host_context)

    expired_context = _server_context()
    now = datetime.datetime.now(datetime.UTC)
    ca.issue_cert(
        *TLS_IDENTITIES,
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    ).configure_cert(expired_context)

    cert_pem, key_pem = _self_signed_pem(TLS_IDENTITIES)
    self_signed_cert_path = path / "self-signed.pem"
    self_signed_key_path = path / "self-signed.key"
    self_signed_cert_path.write_bytes(cert_pem)
    self_signed_key_path.write_bytes(key_pem)
    self_signed_context = _server_context()
    self_signed_context.load_cert_chain(self_signed_cert_path, self_signed_key_path)

    return TLSMaterial(
        ca_cert_path=str(ca_cert_path),
        server_context=server_context,
        self_signed_context=self_signed_context,
        self_signed_cert_path=str(self_signed_cert_path),
        wrong_host_context=wrong_host_context,
        expired_context=expired_context,
        ca=ca,
    )
