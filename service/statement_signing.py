"""Signed statements: the one JSON format for freeze manifests, teardown certificates and audit anchors.

A statement is signed over the SHA-256 of the canonical JSON of ``{"kind", "statement"}``, so the kind is
covered too (an anchor cannot be passed off as a certificate). Anyone holding the public key (PEM) can verify
a document offline, with nothing of the service: ``verify_signature`` needs only the document and the key.

In AWS the private key never leaves KMS (``KmsSigner``: an ECC_NIST_P256 SIGN_VERIFY key, signed with
``MessageType=DIGEST`` so the statement itself never travels to KMS and has no size limit).
``LocalKeySigner`` is the in-memory double for unit tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from service import aws_clients
from service.config import Settings
from service.db.base import canonical_json

FORMAT = "forensics-signed-statement/1"
ALGORITHM = "ECDSA_SHA_256"


class Signer(Protocol):
    key_id: str
    algorithm: str

    def sign(self, digest: bytes) -> bytes:
        """A DER-encoded ECDSA signature over ``digest`` (a SHA-256 value, signed as is)."""
        ...

    def public_key_pem(self) -> str: ...


def _pem(public_key: ec.EllipticCurvePublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _check_digest(digest: bytes) -> None:
    if len(digest) != hashlib.sha256().digest_size:
        raise ValueError(f"a SHA-256 digest is 32 bytes, got {len(digest)}")


class KmsSigner:
    """Signs with a KMS asymmetric key. ``key_id`` may be an alias, a key id or an ARN; the signer records
    the key's ARN, the only name that stays true if the alias is later pointed at another key."""

    algorithm = ALGORITHM

    def __init__(self, kms_client: Any, key_id: str) -> None:
        self._kms = kms_client
        metadata = kms_client.describe_key(KeyId=key_id)["KeyMetadata"]
        spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")
        if spec != "ECC_NIST_P256" or metadata.get("KeyUsage") != "SIGN_VERIFY":
            raise ValueError(
                f"KMS key {key_id} is {spec}/{metadata.get('KeyUsage')}; statements need an "
                "ECC_NIST_P256 SIGN_VERIFY key"
            )
        self.key_id: str = metadata["Arn"]
        self._public_pem: str | None = None

    def sign(self, digest: bytes) -> bytes:
        _check_digest(digest)
        response = self._kms.sign(
            KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=self.algorithm
        )
        return bytes(response["Signature"])

    def public_key_pem(self) -> str:
        if self._public_pem is None:
            self._public_pem = fetch_public_key_pem(self._kms, self.key_id)
        return self._public_pem


def fetch_public_key_pem(kms_client: Any, key_id: str) -> str:
    der = kms_client.get_public_key(KeyId=key_id)["PublicKey"]
    public_key = serialization.load_der_public_key(bytes(der))
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError(f"KMS key {key_id} is not an elliptic-curve key")
    return _pem(public_key)


class LocalKeySigner:
    """An in-memory P-256 key: the test double of ``KmsSigner`` (same signatures, same document)."""

    algorithm = ALGORITHM

    def __init__(
        self, private_key: ec.EllipticCurvePrivateKey | None = None, key_id: str | None = None
    ) -> None:
        self._private = private_key or ec.generate_private_key(ec.SECP256R1())
        self.key_id: str = key_id or f"local-key/{_fingerprint(self._private.public_key())[:16]}"

    def sign(self, digest: bytes) -> bytes:
        _check_digest(digest)
        return self._private.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))

    def public_key_pem(self) -> str:
        return _pem(self._private.public_key())


def statement_digest(kind: str, statement: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"kind": kind, "statement": statement}).encode()).hexdigest()


def sign_statement(signer: Signer, kind: str, statement: dict[str, Any]) -> dict[str, Any]:
    """The signed document. The statement is stored exactly as it was hashed: values canonical JSON cannot
    hold natively (datetimes...) are their text, so the written file re-hashes to the signed digest."""
    statement = json.loads(canonical_json(statement))
    digest = statement_digest(kind, statement)
    value = signer.sign(bytes.fromhex(digest))
    public_key = serialization.load_pem_public_key(signer.public_key_pem().encode())
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise ValueError(f"signing key {signer.key_id} is not an elliptic-curve key")
    return {
        "format": FORMAT,
        "kind": kind,
        "statement": statement,
        "signature": {
            "algorithm": signer.algorithm,
            "keyId": signer.key_id,
            "digest": digest,
            "value": base64.b64encode(value).decode(),
            "publicKeyFingerprint": _fingerprint(public_key),
        },
    }


def public_key_fingerprint(public_key_pem: str) -> str:
    return _fingerprint(_load_public_key(public_key_pem))


def _load_public_key(public_key_pem: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 (ECC_NIST_P256) public key")
    return key


def _format_problems(document: Any) -> list[str]:
    if not isinstance(document, dict):
        return ["not a signed statement: the document is not a JSON object"]
    if document.get("format") != FORMAT:
        return [f"not a signed statement: format is {document.get('format')!r}, expected {FORMAT!r}"]
    problems = []
    if not isinstance(document.get("kind"), str):
        problems.append("bad format: kind is missing or not a string")
    if not isinstance(document.get("statement"), dict):
        problems.append("bad format: statement is missing or not an object")
    signature = document.get("signature")
    if not isinstance(signature, dict):
        return [*problems, "bad format: signature is missing or not an object"]
    if signature.get("algorithm") != ALGORITHM:
        problems.append(
            f"bad format: signature algorithm {signature.get('algorithm')!r}, expected {ALGORITHM}"
        )
    for name in ("keyId", "digest", "value", "publicKeyFingerprint"):
        if not isinstance(signature.get(name), str):
            problems.append(f"bad format: signature.{name} is missing or not a string")
    return problems


def verify_signature(document: Any, public_key_pem: str) -> list[str]:
    """What is wrong with the document under this public key; empty when the signature is valid."""
    problems = _format_problems(document)
    if problems:
        return problems
    try:
        public_key = _load_public_key(public_key_pem)
    except ValueError as exc:
        return [f"the given public key cannot be used: {exc}"]
    signature = document["signature"]
    fingerprint = _fingerprint(public_key)
    if signature["publicKeyFingerprint"].lower() != fingerprint:
        problems.append(
            f"signed by the key with fingerprint {signature['publicKeyFingerprint']}, not by the given "
            f"public key (fingerprint {fingerprint})"
        )
    digest = statement_digest(document["kind"], document["statement"])
    if signature["digest"].lower() != digest:
        # Verifying against the recomputed digest would fail too; saying why is more useful.
        return [
            *problems,
            f"signature does not match the statement: it was signed over digest {signature['digest']}, the "
            f"statement now hashes to {digest} (changed after signing)",
        ]
    try:
        value = base64.b64decode(signature["value"], validate=True)
    except (binascii.Error, ValueError):
        return [*problems, "bad format: signature.value is not base64"]
    try:
        public_key.verify(value, bytes.fromhex(digest), ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    except InvalidSignature:
        problems.append(
            f"signature does not match: signature.value is not a valid {ALGORITHM} signature of digest "
            f"{digest} under the given public key"
        )
    return problems


def signer_for(settings: Settings, region: str) -> KmsSigner:
    """The signing key of the region's forensic account, used through that account's deploy role."""
    account = settings.account_for(region)
    if account is None:
        raise ValueError(f"no forensic account is configured for region {region}")
    kms = aws_clients.client(
        settings, "kms", region, role_arn=account.deploy_role_arn, session_name="forensics-signing"
    )
    return KmsSigner(kms, settings.signing_key_id)
