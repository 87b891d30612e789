"""The local AWS's TLS certificate, written to files so clients verify it instead of turning checks off.

One self-signed certificate for ``127.0.0.1`` and ``localhost``, made per launch; it is its own CA, so the
certificate file is the CA bundle a client is given (``FORENSICS_AWS_CA_BUNDLE`` for the service, which
passes it on to the engine's processes as ``AWS_CA_BUNDLE``; ``verify=<file>`` for boto3). The private key
stays in the launcher's own folder (mode 0600) and dies with it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE = "local-aws-ca.pem"
KEY_FILE = "local-aws-key.pem"
# Long enough for any rehearsal; a new launch makes a new certificate.
VALID_DAYS = 30


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path  # also the CA bundle clients verify with
    key: Path


def write_self_signed(folder: Path) -> CertificateFiles:
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forensics local AWS")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    files = CertificateFiles(cert=folder / CERT_FILE, key=folder / KEY_FILE)
    descriptor = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
