"""Signed statements: one format, verifiable offline with the public key alone."""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from service.config import Settings
from service.db.base import canonical_json
from service.statement_signing import (
    FORMAT,
    KmsSigner,
    LocalKeySigner,
    public_key_fingerprint,
    sign_statement,
    signer_for,
    statement_digest,
    verify_signature,
)
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import _ensure_signing_key

STATEMENT = {
    "investigationId": "inv-1",
    "objects": [{"bucket": "b", "key": "disk.img", "versionId": "v1", "sha256": "ab" * 32}],
    "frozenAt": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
}


def test_a_signed_statement_verifies_with_the_public_key_alone() -> None:
    signer = LocalKeySigner()
    document = sign_statement(signer, "freeze-manifest", STATEMENT)

    assert document["format"] == FORMAT
    assert document["kind"] == "freeze-manifest"
    signature = document["signature"]
    assert signature["algorithm"] == "ECDSA_SHA_256"
    assert signature["keyId"] == signer.key_id
    expected_digest = hashlib.sha256(
        canonical_json({"kind": "freeze-manifest", "statement": document["statement"]}).encode()
    ).hexdigest()
    assert signature["digest"] == expected_digest
    der = serialization.load_pem_public_key(signer.public_key_pem().encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signature["publicKeyFingerprint"] == hashlib.sha256(der).hexdigest()
    # Stored as it was hashed: the datetime is its text, so the document re-hashes to the signed digest.
    assert document["statement"]["frozenAt"] == "2025-01-02 03:04:05+00:00"

    assert verify_signature(document, signer.public_key_pem()) == []


def _flip(text: str) -> str:
    return ("1" if text[0] != "1" else "2") + text[1:]


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        (lambda d: d["statement"]["objects"][0].update(sha256=_flip("ab" * 32)), "changed after signing"),
        (lambda d: d.update(kind="teardown-certificate"), "changed after signing"),
        (lambda d: d["signature"].update(digest=_flip(d["signature"]["digest"])), "changed after signing"),
        (
            lambda d: d["signature"].update(
                value=base64.b64encode(
                    bytes([base64.b64decode(d["signature"]["value"])[0] ^ 1])
                    + base64.b64decode(d["signature"]["value"])[1:]
                ).decode()
            ),
            "signature does not match",
        ),
        (lambda d: d["signature"].update(value="not base64!"), "not base64"),
        (lambda d: d.update(format="something-else/1"), "not a signed statement"),
        (lambda d: d["signature"].pop("digest"), "signature.digest is missing"),
    ],
)
def test_any_change_fails_with_a_message_saying_what(tamper: Any, words: str) -> None:
    signer = LocalKeySigner()
    document = sign_statement(signer, "freeze-manifest", STATEMENT)
    tampered = copy.deepcopy(document)
    tamper(tampered)
    problems = verify_signature(tampered, signer.public_key_pem())
    assert problems, tampered
    assert words in " ".join(problems)
    assert verify_signature(document, signer.public_key_pem()) == []


def test_another_key_is_named_as_not_the_signer() -> None:
    signer, other = LocalKeySigner(), LocalKeySigner()
    document = sign_statement(signer, "audit-anchor", {"lastId": 1})
    problems = verify_signature(document, other.public_key_pem())
    assert any("not by the given public key" in p for p in problems)
    assert any("signature does not match" in p for p in problems)
    [unusable] = verify_signature(document, "not a key")
    assert unusable.startswith("the given public key cannot be used: not a PEM public key")


def test_the_digest_is_signed_as_is() -> None:
    signer = LocalKeySigner()
    with pytest.raises(ValueError, match="32 bytes"):
        signer.sign(b"short")
    assert statement_digest("k", {"a": 1}) != statement_digest("j", {"a": 1})


# KMS in the local AWS


@pytest.fixture(scope="module")
def kms_settings(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("signing"), aws=local_aws)
    # Only what signing needs of the seed: the deploy role and the key, which the operator makes (idempotent;
    # twice on purpose).
    from tools.local_aws.seed import _ensure_deploy_role, grant_service

    account = settings.accounts[settings.aws_region]
    assert account.deploy_role_arn
    _ensure_deploy_role(settings, settings.aws_region, account.deploy_role_arn)
    grant_service(settings)  # the service may assume that role, as day zero grants it
    _ensure_signing_key(settings, settings.aws_region, None)
    _ensure_signing_key(settings, settings.aws_region, None)
    return settings


def test_the_kms_signer_records_the_key_arn_and_its_public_key(
    kms_settings: Settings, local_aws: LocalAws
) -> None:
    signer = signer_for(kms_settings, kms_settings.aws_region)
    kms = local_aws.client("kms")
    metadata = kms.describe_key(KeyId="alias/forensics-signing")["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    assert signer.key_id == metadata["Arn"]
    assert signer.key_id.startswith(f"arn:aws:kms:{kms_settings.aws_region}:")

    document = sign_statement(signer, "audit-anchor", {"lastId": 7, "lastHash": "0" * 64})
    assert document["signature"]["keyId"] == metadata["Arn"]
    assert document["signature"]["publicKeyFingerprint"] == public_key_fingerprint(signer.public_key_pem())
    assert len(kms.list_aliases(KeyId=metadata["KeyId"])["Aliases"]) == 1  # seeded once, not twice


def test_a_symmetric_key_is_refused(local_aws: LocalAws) -> None:
    kms = local_aws.client("kms")
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    with pytest.raises(ValueError, match="ECC_NIST_P256 SIGN_VERIFY"):
        KmsSigner(kms, key)


# moto alone would hash a DIGEST again before signing; the local AWS launcher signs it as given, as AWS does
# (tools/local_aws/moto_server.py patch_kms_digest), so a holder of the public key can verify it.
def test_a_kms_signed_statement_verifies_offline(kms_settings: Settings, tmp_path: Path) -> None:
    signer = signer_for(kms_settings, kms_settings.aws_region)
    document = sign_statement(signer, "freeze-manifest", STATEMENT)
    pem = tmp_path / "key.pem"
    pem.write_text(signer.public_key_pem())
    assert verify_signature(document, pem.read_text()) == []
