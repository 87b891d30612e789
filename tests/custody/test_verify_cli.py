"""`forensics verify`: a signed statement checked with nothing but the file, the public key and AWS read
access (here the local AWS, through the default credential chain as a verifier's own machine would)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from service.cli import app as cli
from service.statement_signing import KmsSigner, LocalKeySigner, sign_statement
from tools.local_aws.aws import LocalAws

runner = CliRunner()
REGION = "us-east-1"
EBS_BLOCK = 512 * 1024
GIB = 1024**3


@pytest.fixture(scope="module")
def bucket(local_aws: LocalAws) -> dict[str, Any]:
    """A versioned bucket with two versions of one key (the statement must name the right one)."""
    s3 = local_aws.client("s3")
    name = f"verify-cli-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    objects = []
    for key, body in (("disk/image.raw", b"first image" * 70_000), ("notes.txt", b"triage notes")):
        version = s3.put_object(Bucket=name, Key=key, Body=body)["VersionId"]
        objects.append(
            {"bucket": name, "key": key, "versionId": version, "sha256": hashlib.sha256(body).hexdigest()}
        )
    s3.put_object(Bucket=name, Key="disk/image.raw", Body=b"a later, different image")
    return {"name": name, "objects": objects}


def _statement(bucket: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "investigationId": "inv-verify",
        "region": REGION,
        "objects": [dict(o) for o in bucket["objects"]],
        "snapshots": [{"snapshotId": "snap-0123456789abcdef0", "sha256": None}],
        "resources": [
            {"type": "aws:ec2/vpc:Vpc", "id": "vpc-1", "gone": True},
            {"type": "aws:ec2/instance:Instance", "id": "i-1", "gone": True},
        ],
        **extra,
    }


def _write(tmp_path: Path, document: dict[str, Any], pem: str) -> tuple[Path, Path]:
    statement, key = tmp_path / "statement.json", tmp_path / "key.pem"
    statement.write_text(json.dumps(document, indent=2))
    key.write_text(pem)
    return statement, key


def _signed(tmp_path: Path, signer: LocalKeySigner, content: dict[str, Any]) -> tuple[Path, Path]:
    return _write(tmp_path, sign_statement(signer, "freeze-manifest", content), signer.public_key_pem())


def _verify(local_aws: LocalAws, statement: Path, *options: str) -> Any:
    return runner.invoke(
        cli,
        ["verify", str(statement), "--endpoint-url", local_aws.endpoint_url, "--no-verify-tls", *options],
        env={
            "AWS_ACCESS_KEY_ID": local_aws.access_key_id,
            "AWS_SECRET_ACCESS_KEY": local_aws.secret_access_key,
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_REGION": None,
        },
    )


def test_a_statement_whose_objects_are_intact_verifies(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    signer = LocalKeySigner()
    statement, key = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", _statement(bucket)), signer.public_key_pem()
    )
    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("OK      signature")
    for entry in bucket["objects"]:
        assert any(
            line.startswith("OK      object") and entry["versionId"] in line and entry["sha256"] in line
            for line in lines
        ), result.output
    assert "SKIPPED snapshot  snapshot snap-0123456789abcdef0: not hashed" in result.output
    assert "2 resource(s): recorded as gone" in result.output
    assert lines[-1] == "VERIFIED freeze-manifest: signature valid, 2 hash(es) match, 1 skipped"


def test_a_recorded_hash_that_differs_is_named(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    """Re-signed with the right key, so the signature is valid and only the recorded hash differs."""
    signer = LocalKeySigner()
    content = _statement(bucket)
    wrong = hashlib.sha256(b"something else").hexdigest()
    content["objects"][1]["sha256"] = wrong
    statement, key = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", content), signer.public_key_pem()
    )

    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1, result.output
    name, version = bucket["objects"][1]["key"], bucket["objects"][1]["versionId"]
    expected_line = (
        f"DIFFERS object    s3://{bucket['name']}/{name} version {version}: sha256 differs: "
        f"expected {wrong}, actual {bucket['objects'][1]['sha256']}"
    )
    assert expected_line in result.output.splitlines()
    assert result.output.splitlines()[-1].startswith("NOT VERIFIED freeze-manifest: 1 problem(s)")
    assert f"s3://{bucket['name']}/{bucket['objects'][0]['key']}" in result.output  # the rest still checked


def test_a_byte_flipped_in_the_file_breaks_the_signature(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    signer = LocalKeySigner()
    statement, key = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", _statement(bucket)), signer.public_key_pem()
    )
    raw = bytearray(statement.read_bytes())
    raw[raw.index(b"notes.txt")] ^= 0x01  # "notes.txt" -> "ootes.txt": valid JSON, not what was signed
    statement.write_bytes(bytes(raw))

    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1, result.output
    assert "ERROR   signature" in result.output
    assert "signature does not match the statement" in result.output
    # What the altered statement lists is still re-hashed, but nothing in it counts as verified.
    assert not any(line.startswith("OK ") for line in result.output.splitlines())


def test_an_edited_hash_is_named_even_though_the_signature_fails(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    signer = LocalKeySigner()
    document = sign_statement(signer, "freeze-manifest", _statement(bucket))
    edited = document["statement"]["objects"][1]
    edited["sha256"] = ("0" if edited["sha256"][0] != "0" else "1") + edited["sha256"][1:]
    statement, key = _write(tmp_path, document, signer.public_key_pem())
    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1, result.output
    assert "ERROR   signature" in result.output
    differs = [line for line in result.output.splitlines() if line.startswith("DIFFERS")]
    assert len(differs) == 1 and "notes.txt" in differs[0], result.output


def test_another_public_key_fails_and_a_missing_one_is_a_usage_error(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    document = sign_statement(LocalKeySigner(), "freeze-manifest", _statement(bucket))
    statement, key = _write(tmp_path, document, LocalKeySigner().public_key_pem())
    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1
    assert "not by the given public key" in result.output

    assert _verify(local_aws, statement).exit_code == 2
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json")
    broken = _verify(local_aws, not_json, "--public-key", str(key))
    assert broken.exit_code == 1
    assert "not a readable JSON document" in broken.output


def test_an_unreadable_version_fails(local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path) -> None:
    signer = LocalKeySigner()
    content = _statement(bucket)
    content["objects"][0]["key"] = "disk/missing.raw"
    statement, key = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", content), signer.public_key_pem()
    )
    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1, result.output
    assert f"ERROR   object    s3://{bucket['name']}/disk/missing.raw" in result.output
    assert "cannot be read" in result.output


@pytest.fixture(scope="module")
def snapshot(local_aws: LocalAws) -> dict[str, str]:
    """A 1 GiB snapshot written through the EBS direct APIs: one block of data, the rest sparse (zeros)."""
    ebs = local_aws.client("ebs")
    snapshot_id = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    block = b"evidence" * (EBS_BLOCK // 8)
    ebs.put_snapshot_block(
        SnapshotId=snapshot_id,
        BlockIndex=3,
        BlockData=block,
        DataLength=len(block),
        Checksum=base64.b64encode(hashlib.sha256(block).digest()).decode(),
        ChecksumAlgorithm="SHA256",
    )
    ebs.complete_snapshot(SnapshotId=snapshot_id, ChangedBlocksCount=1)
    image = hashlib.sha256()
    zeros = bytes(EBS_BLOCK)
    for index in range(GIB // EBS_BLOCK):
        image.update(block if index == 3 else zeros)
    return {"snapshotId": snapshot_id, "sha256": image.hexdigest()}


def test_snapshots_are_rehashed_as_full_disk_images(
    local_aws: LocalAws, bucket: dict[str, Any], snapshot: dict[str, str], tmp_path: Path
) -> None:
    wrong = hashlib.sha256(b"another disk").hexdigest()
    signer = LocalKeySigner()
    content = _statement(
        bucket,
        snapshots=[
            snapshot,
            {"snapshotId": snapshot["snapshotId"], "sha256": wrong},
            {"snapshotId": "snap-ccccccccccccccccc", "sha256": None},
        ],
    )
    statement, key = _signed(tmp_path, signer, content)
    result = _verify(local_aws, statement, "--public-key", str(key))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert f"OK      snapshot  snapshot {snapshot['snapshotId']}: sha256 {snapshot['sha256']}" in lines
    assert (
        f"DIFFERS snapshot  snapshot {snapshot['snapshotId']}: sha256 differs: "
        f"expected {wrong}, actual {snapshot['sha256']}"
    ) in lines
    assert any(line.startswith("SKIPPED snapshot  snapshot snap-ccccccccccccccccc") for line in lines)

    signature_only = _verify(local_aws, statement, "--public-key", str(key), "--signature-only")
    assert signature_only.exit_code == 0, signature_only.output
    assert "snapshot" not in signature_only.output  # nothing re-hashed


# moto alone would hash a DIGEST again before signing; the local AWS launcher signs it as given, as AWS does
# (tools/local_aws/moto_server.py patch_kms_digest), so a holder of the public key can verify it.
def test_the_public_key_can_be_fetched_from_kms(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path
) -> None:
    kms = local_aws.client("kms")
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signer = KmsSigner(kms, key_id)
    statement, _ = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", _statement(bucket)), signer.public_key_pem()
    )
    result = _verify(local_aws, statement, "--fetch-public-key", "--trusted-key", signer.key_id)
    assert f"signing key {signer.key_id} (SHA256:" in result.output
    assert result.exit_code == 0, result.output


def test_the_verifier_acts_as_the_identity_of_its_own_run(
    local_aws: LocalAws, bucket: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's process-wide default session keeps the first credentials it resolved; a verifier run later
    in the same process (a notebook, a service) acts as the identity its own run is given, not as that."""
    kms = local_aws.client("kms")
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signer = KmsSigner(kms, key_id)
    statement, _ = _write(
        tmp_path, sign_statement(signer, "freeze-manifest", _statement(bucket)), signer.public_key_pem()
    )
    # Whoever used boto3 first in this process, with keys this local AWS does not know.
    monkeypatch.setattr(
        boto3,
        "DEFAULT_SESSION",
        boto3.session.Session(aws_access_key_id="AKIAEARLIER", aws_secret_access_key="x"),
    )
    result = _verify(local_aws, statement, "--fetch-public-key", "--trusted-key", signer.key_id)
    assert result.exit_code == 0, result.output
    assert f"signing key {signer.key_id} (SHA256:" in result.output
