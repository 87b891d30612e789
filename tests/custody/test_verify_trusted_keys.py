"""`forensics verify --fetch-public-key` accepts only pinned signing keys: an attacker's own KMS key, whose
policy lets anyone read its public key, signs a forged manifest that must not verify."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from service.statement_signing import KmsSigner, public_key_fingerprint, sign_statement
from tests.custody.test_verify_cli import _statement, _verify, _write, bucket
from tools.local_aws.aws import LocalAws

__all__ = ["bucket"]  # the module fixture, shared


def _signing_key(local_aws: LocalAws, description: str, public: bool = False) -> KmsSigner:
    kms = local_aws.client("kms")
    extra: dict[str, Any] = {}
    if public:  # the attacker's key: anyone may read its public key, as the forged document needs
        extra["Policy"] = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "kms:GetPublicKey",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{kms_account(local_aws)}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                ],
            }
        )
    key_id = kms.create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description=description, **extra
    )["KeyMetadata"]["KeyId"]
    return KmsSigner(kms, key_id)


def kms_account(local_aws: LocalAws) -> str:
    return str(local_aws.client("sts").get_caller_identity()["Account"])


@pytest.fixture(scope="module")
def real_key(local_aws: LocalAws) -> KmsSigner:
    return _signing_key(local_aws, f"forensics signing {uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def attacker_key(local_aws: LocalAws) -> KmsSigner:
    return _signing_key(local_aws, "attacker", public=True)


def _forged(tmp_path: Path, bucket: dict[str, Any], signer: KmsSigner, **signature: str) -> Path:
    """A manifest that vouches for the bucket's objects, signed by ``signer``."""
    document = sign_statement(signer, "freeze-manifest", _statement(bucket))
    document["signature"].update(signature)
    statement, _ = _write(tmp_path, document, signer.public_key_pem())
    return statement


def test_a_manifest_signed_by_an_untrusted_kms_key_is_refused(
    local_aws: LocalAws, bucket: dict[str, Any], real_key: KmsSigner, attacker_key: KmsSigner, tmp_path: Path
) -> None:
    forged = _forged(tmp_path, bucket, attacker_key)
    # Its signature is valid under the attacker's key, which KMS hands out to anyone.
    assert local_aws.client("kms").get_public_key(KeyId=attacker_key.key_id)["PublicKey"]

    unpinned = _verify(local_aws, forged, "--fetch-public-key")
    assert unpinned.exit_code == 2, unpinned.output
    assert "--fetch-public-key needs the keys you trust" in unpinned.output

    refused = _verify(local_aws, forged, "--fetch-public-key", "--trusted-key", real_key.key_id)
    assert refused.exit_code == 1, refused.output
    assert f"signed by {attacker_key.key_id}" in refused.output
    assert "which is not a trusted signing key" in refused.output
    assert "VERIFIED" not in refused.output.replace("NOT VERIFIED", "")

    by_fingerprint = _verify(
        local_aws,
        forged,
        "--fetch-public-key",
        "--trusted-fingerprint",
        f"SHA256:{public_key_fingerprint(real_key.public_key_pem())}",
    )
    assert by_fingerprint.exit_code == 1, by_fingerprint.output
    assert "not a trusted signing key" in by_fingerprint.output


def test_a_forged_manifest_naming_the_trusted_key_fails_its_signature(
    local_aws: LocalAws, bucket: dict[str, Any], real_key: KmsSigner, attacker_key: KmsSigner, tmp_path: Path
) -> None:
    """Claiming the real key's ARN fetches the real public key, under which the attacker's signature fails."""
    forged = _forged(tmp_path, bucket, attacker_key, keyId=real_key.key_id)
    result = _verify(local_aws, forged, "--fetch-public-key", "--trusted-key", real_key.key_id)
    assert result.exit_code == 1, result.output
    assert "ERROR   signature" in result.output


def test_the_pinned_key_verifies_and_is_named(
    local_aws: LocalAws,
    bucket: dict[str, Any],
    real_key: KmsSigner,
    attacker_key: KmsSigner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    genuine = _forged(tmp_path, bucket, real_key)
    fingerprint = f"SHA256:{public_key_fingerprint(real_key.public_key_pem())}"
    by_arn = _verify(local_aws, genuine, "--fetch-public-key", "--trusted-key", real_key.key_id)
    assert by_arn.exit_code == 0, by_arn.output
    assert f"signing key {real_key.key_id} ({fingerprint}), trusted through a pinned key" in by_arn.output
    assert by_arn.output.splitlines()[-1].startswith("VERIFIED freeze-manifest")

    # From the environment, among other trusted keys (the attacker's is not one of them).
    monkeypatch.setenv("FORENSICS_TRUSTED_SIGNING_KEYS", f"{fingerprint}, {attacker_key.key_id}")
    assert _verify(local_aws, genuine, "--fetch-public-key").exit_code == 0
    monkeypatch.setenv("FORENSICS_TRUSTED_SIGNING_KEYS", fingerprint)
    assert _verify(local_aws, _forged(tmp_path, bucket, attacker_key), "--fetch-public-key").exit_code == 1


def test_a_malformed_trusted_key_is_a_usage_error(
    local_aws: LocalAws, bucket: dict[str, Any], real_key: KmsSigner, tmp_path: Path
) -> None:
    genuine = _forged(tmp_path, bucket, real_key)
    for bad in ("alias/forensics-signing", "SHA256:abc", "*"):
        result = _verify(local_aws, genuine, "--fetch-public-key", "--trusted-key", bad)
        assert result.exit_code == 2, result.output
        assert "neither a KMS key ARN" in result.output


def test_a_public_key_file_outside_the_trusted_keys_is_refused(
    local_aws: LocalAws, bucket: dict[str, Any], real_key: KmsSigner, attacker_key: KmsSigner, tmp_path: Path
) -> None:
    """The attacker hands over their own PEM with the forged manifest; the verifier's pins still hold."""
    document = sign_statement(attacker_key, "freeze-manifest", _statement(bucket))
    forged, pem = _write(tmp_path, document, attacker_key.public_key_pem())
    assert _verify(local_aws, forged, "--public-key", str(pem)).exit_code == 0  # the file alone: its choice
    pinned = f"SHA256:{public_key_fingerprint(real_key.public_key_pem())}"
    refused = _verify(local_aws, forged, "--public-key", str(pem), "--trusted-fingerprint", pinned)
    assert refused.exit_code == 1, refused.output
    assert "not a trusted signing key" in refused.output
