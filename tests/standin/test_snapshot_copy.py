"""aws:ebs/snapshotCopy:SnapshotCopy against the local AWS: CopySnapshot with the investigation key, read,
replacement on the create-time arguments, tags and storage tier in place, a volume made from the copy, and
delete. The source snapshots are in the same account (moto copies those as EC2 does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.standin import REGION, Clients, Driver
from tools.aws_standin.base import StandinError
from tools.aws_standin.values import UNKNOWN

COPY = "aws:ebs/snapshotCopy:SnapshotCopy"
VOLUME = "aws:ebs/volume:Volume"
TAGS = {"forensics:investigation-id": "inv-copy", "managed-by": "forensic-cleanroom"}


@pytest.fixture
def source(aws: Clients) -> Iterator[str]:
    """An unencrypted 4 GiB snapshot, standing in for the incident's disk."""
    ec2 = aws("ec2")
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=4)["VolumeId"]
    snapshot = ec2.create_snapshot(
        VolumeId=volume,
        Description="incident disk",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "origin", "Value": "incident"}]}],
    )["SnapshotId"]
    yield snapshot
    ec2.delete_snapshot(SnapshotId=snapshot)
    ec2.delete_volume(VolumeId=volume)


@pytest.fixture
def key_arn(driver: Driver) -> Iterator[str]:
    key_id, key = driver.create("aws:kms/key:Key", "copy-key", {"description": "inv-copy", "tags": TAGS})
    yield str(key["arn"])
    driver.delete("aws:kms/key:Key", "copy-key", key_id, key)


def _inputs(source: str, key_arn: str, **extra: Any) -> dict[str, Any]:
    return {
        "sourceSnapshotId": source,
        "sourceRegion": REGION,
        "encrypted": True,
        "kmsKeyId": key_arn,
        "description": f"evidence disk-a: copy of {source}",
        "tags": {**TAGS, "forensics:artifact": "disk-a", "forensics:source-snapshot": source},
        **extra,
    }


def _snapshot(aws: Clients, snapshot_id: str) -> dict[str, Any]:
    found: dict[str, Any] = aws("ec2").describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    return found


def test_copy_is_a_new_encrypted_snapshot_and_the_source_is_untouched(
    driver: Driver, aws: Clients, source: str, key_arn: str
) -> None:
    inputs = _inputs(source, key_arn)
    copy_id, copy = driver.create(COPY, "copy", inputs)
    try:
        assert copy_id.startswith("snap-") and copy_id != source
        assert copy["arn"] == f"arn:aws:ec2:{REGION}::snapshot/{copy_id}"
        assert copy["encrypted"] is True and copy["kmsKeyId"] == key_arn
        assert copy["volumeSize"] == 4 and copy["storageTier"] == "standard"
        assert copy["ownerId"] == "123456789012" and copy["volumeId"]
        assert copy["description"] == inputs["description"]
        assert copy["tags"] == copy["tagsAll"] == inputs["tags"]
        assert {"dataEncryptionKeyId", "outpostArn", "ownerAlias"} <= set(copy)

        got = _snapshot(aws, copy_id)
        assert got["State"] == "completed" and got["Encrypted"] and got["KmsKeyId"] == key_arn
        assert {t["Key"]: t["Value"] for t in got["Tags"]} == inputs["tags"]
        original = _snapshot(aws, source)
        assert not original["Encrypted"] and not original.get("KmsKeyId")
        assert original["Description"] == "incident disk"
        assert {t["Key"]: t["Value"] for t in original["Tags"]} == {"origin": "incident"}

        # A refresh reads the same state back.
        rid, read, read_inputs = driver.read(COPY, "copy", copy_id, copy, inputs)
        assert rid == copy_id
        assert {k: read[k] for k in ("encrypted", "kmsKeyId", "volumeSize", "tagsAll")} == {
            k: copy[k] for k in ("encrypted", "kmsKeyId", "volumeSize", "tagsAll")
        }
        assert read_inputs["sourceSnapshotId"] == source
    finally:
        driver.delete(COPY, "copy", copy_id, copy)
    with pytest.raises(ClientError):
        aws("ec2").describe_snapshots(SnapshotIds=[copy_id])
    assert _snapshot(aws, source)["State"] == "completed"  # deleting the copy leaves the original
    assert driver.read(COPY, "copy", copy_id, copy)[0] == ""
    driver.delete(COPY, "copy", copy_id, copy)  # already gone: nothing to do


def test_volume_from_the_copy(driver: Driver, aws: Clients, source: str, key_arn: str) -> None:
    copy_id, copy = driver.create(COPY, "copy", _inputs(source, key_arn))
    volume_id, volume = driver.create(
        VOLUME,
        "evidence",
        {
            "availabilityZone": f"{REGION}a",
            "snapshotId": copy_id,
            "encrypted": True,
            "kmsKeyId": key_arn,
            "type": "gp3",
            "tags": TAGS,
        },
    )
    try:
        assert volume["snapshotId"] == copy_id and volume["size"] == 4
        described = aws("ec2").describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
        assert described["SnapshotId"] == copy_id != source
        assert described["Encrypted"] and described["KmsKeyId"] == key_arn
    finally:
        driver.delete(VOLUME, "evidence", volume_id, volume)
        driver.delete(COPY, "copy", copy_id, copy)


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"sourceSnapshotId": "snap-0aaaaaaaaaaaaaaaa"}, ["sourceSnapshotId"]),
        ({"sourceRegion": "eu-west-1"}, ["sourceRegion"]),
        ({"encrypted": False}, ["encrypted"]),
        ({"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/other"}, ["kmsKeyId"]),
        ({"description": "another"}, ["description"]),
        ({"completionDurationMinutes": 15}, ["completionDurationMinutes"]),
        ({"tags": {**TAGS, "extra": "1"}}, []),
        ({"storageTier": "archive"}, []),
        ({"temporaryRestoreDays": 3}, []),
        ({"permanentRestore": True}, []),
    ],
)
def test_create_time_arguments_force_a_new_copy(
    driver: Driver, source: str, change: dict[str, Any], replaces: list[str]
) -> None:
    """Diff only: the state is a copy as created (no AWS call is needed to judge a change)."""
    inputs = _inputs(source, "arn:aws:kms:us-east-1:123456789012:key/k")
    state = {
        **inputs,
        "tagsAll": inputs["tags"],
        "arn": f"arn:aws:ec2:{REGION}::snapshot/snap-0bbbbbbbbbbbbbbbb",
        "storageTier": "standard",
        "volumeSize": 4,
    }
    assert not driver.diff(COPY, "copy", "snap-0bbbbbbbbbbbbbbbb", state, inputs).changes
    diff = driver.diff(COPY, "copy", "snap-0bbbbbbbbbbbbbbbb", state, {**inputs, **change})
    assert diff.changes and sorted(diff.replaces) == replaces


def test_tags_and_storage_tier_change_in_place(
    driver: Driver, aws: Clients, source: str, key_arn: str
) -> None:
    inputs = _inputs(source, key_arn)
    copy_id, copy = driver.create(COPY, "copy", inputs)
    try:
        tags = {**TAGS, "forensics:artifact": "disk-a", "forensics:frozen": "true"}
        copy = driver.update(COPY, "copy", copy_id, copy, {**inputs, "tags": tags})
        assert copy["tagsAll"] == tags
        assert {t["Key"]: t["Value"] for t in _snapshot(aws, copy_id)["Tags"]} == tags

        archived = {**inputs, "tags": tags, "storageTier": "archive"}
        copy = driver.update(COPY, "copy", copy_id, copy, archived)
        assert copy["storageTier"] == "archive" and _snapshot(aws, copy_id)["StorageTier"] == "archive"

        restored = {**archived, "storageTier": "standard", "permanentRestore": True}
        copy = driver.update(COPY, "copy", copy_id, copy, restored)
        assert _snapshot(aws, copy_id)["StorageTier"] == "standard"
    finally:
        driver.delete(COPY, "copy", copy_id, copy)


def test_created_archived(driver: Driver, aws: Clients, source: str, key_arn: str) -> None:
    copy_id, copy = driver.create(COPY, "cold", _inputs(source, key_arn, storageTier="archive"))
    try:
        assert copy["storageTier"] == "archive" and _snapshot(aws, copy_id)["StorageTier"] == "archive"
    finally:
        driver.delete(COPY, "cold", copy_id, copy)


def test_preview_makes_no_copy(driver: Driver, aws: Clients, source: str) -> None:
    before = {s["SnapshotId"] for s in aws("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    copy_id, copy = driver.create(COPY, "copy", _inputs(source, UNKNOWN), preview=True)
    assert copy_id == ""
    assert copy["kmsKeyId"] is UNKNOWN and copy["encrypted"] is True
    assert all(
        copy[k] is UNKNOWN for k in ("arn", "volumeId", "volumeSize", "ownerId", "dataEncryptionKeyId")
    )
    assert copy["tagsAll"] == copy["tags"]
    after = {s["SnapshotId"] for s in aws("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert after == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"storageTier": "glacier"}, "storage_tier"),
        ({"completionDurationMinutes": 20}, "completion_duration_minutes"),
        ({"completionDurationMinutes": 2895}, "completion_duration_minutes"),
    ],
)
def test_invalid_arguments_are_refused_before_aws(
    driver: Driver, aws: Clients, source: str, extra: dict[str, Any], message: str
) -> None:
    before = len(aws("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"])
    with pytest.raises(StandinError, match=message):
        driver.create(COPY, "bad", _inputs(source, "arn:aws:kms:us-east-1:123456789012:key/k", **extra))
    assert len(aws("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]) == before


def test_missing_source_is_an_error(driver: Driver) -> None:
    with pytest.raises(ClientError):
        driver.create(
            COPY, "none", _inputs("snap-0ccccccccccccccc0", "arn:aws:kms:us-east-1:123456789012:key/k")
        )
