"""Evidence acquisition end to end: a disk image made here (ext4 or XFS), in a source account of the local
AWS, acquired into a clean room on the real engine. Hashes are checked against `sha256sum` of the image file,
and what the forensic account holds (copy, volume, key, attachment) is checked with boto3.

Every test acquires its own evidence into ONE clean room the module opens (`room`): what a test checks is the
artifacts and custody events of its own evidence, so the others' do not change its outcome, and acquiring
into a room that already holds evidence (a flagged copy among it) is part of what is proven. The tests run
in file order on one worker (`xdist_group`); the one that detaches a volume behind the stack's back is
last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from service.custody import acquisition, disk_image, mounting
from service.investigations.models import Investigation
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.aws import client_as
from tests.support.disk_images import (
    HOST_FILES,
    SOURCE_ROLE,
    blank_image,
    encrypted_source_evidence,
    evidence_snapshot,
    sha256sum,
    source_evidence,
    xfs_image,
)
from tests.support.root import require_root
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name="acquisition-room")]

TIMEOUT = 900


@pytest.fixture(autouse=True)
def _mounts_need_root() -> None:
    require_root()  # the local AWS mounts the evidence on loop devices, as the workstation would


@pytest.fixture(scope="module")
def room(module_engine_client: TestClient) -> dict[str, Any]:
    """The module's clean room, open and ready, which every test acquires its own evidence into."""
    require_root()  # before deploying anything, for a skip that costs nothing
    return open_ready(module_engine_client, "SEC-1001", timeout=TIMEOUT)


def _acquire(client: TestClient, inv_id: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/v1/investigations/{inv_id}/evidence", json=body, headers=headers)


def _evidence_from(client: TestClient, inv_id: str, *snapshot_ids: str) -> list[dict[str, Any]]:
    """The room's artifacts acquired from these source snapshots (the room holds other tests' too)."""
    artifacts = client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
    return [a for a in artifacts if a["source"]["snapshot_id"] in snapshot_ids]


def _events_of(custody: dict[str, Any], *artifact_ids: str) -> list[dict[str, Any]]:
    return [e for e in custody["events"] if e["artifact_id"] in artifact_ids]


def test_acquired_evidence_is_hashed_copied_verified_and_attached_read_only(
    module_engine_client: TestClient,
    module_engine_settings: Settings,
    room: dict[str, Any],
    local_aws: LocalAws,
    tmp_path: Path,
) -> None:
    snapshot_id, expected = source_evidence(local_aws, tmp_path)
    inv = room
    responder = issue(module_engine_client, "responder", "rita@example.com")
    source = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "snapshot_id": snapshot_id}

    # Refused before anything runs: another region, an unknown account, a role without the permission.
    ec2_source = client_as(local_aws, SOURCE_ROLE, "ec2")
    other_region = _acquire(module_engine_client, inv["id"], responder, **{**source, "region": "eu-west-1"})
    assert other_region.status_code == 422 and "does not leave its region" in other_region.text
    unknown = _acquire(
        module_engine_client, inv["id"], responder, **{**source, "source_account_id": "999999999999"}
    )
    assert unknown.status_code == 422 and "not a configured evidence source" in unknown.text
    analyst = _acquire(module_engine_client, inv["id"], issue(module_engine_client, "analyst"), **source)
    assert analyst.status_code == 403
    attribute = ec2_source.describe_snapshot_attribute(
        SnapshotId=snapshot_id, Attribute="createVolumePermission"
    )
    assert attribute["CreateVolumePermissions"] == []  # nothing was shared by the refused requests

    accepted = _acquire(module_engine_client, inv["id"], responder, **source)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]

    (artifact,) = _evidence_from(module_engine_client, inv["id"], snapshot_id)
    assert artifact["status"] == "verified"
    assert artifact["sha256_source"] == expected == artifact["sha256_copy"]
    assert artifact["size_bytes"] == 1024**3
    assert artifact["source"]["snapshot_id"] == snapshot_id
    assert artifact["acquired_by"] == "rita@example.com"

    # In the forensic account: the copy is encrypted with the investigation's key, the attached volume is made
    # from the copy, and no volume anywhere is made from the original.
    detail = module_engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    outputs = detail["outputs"]
    deploy_role = module_engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    ec2 = client_as(local_aws, deploy_role, "ec2")
    (copy,) = ec2.describe_snapshots(SnapshotIds=[artifact["copy_snapshot_id"]])["Snapshots"]
    assert copy["SnapshotId"] != snapshot_id and copy["Encrypted"] is True
    assert copy["KmsKeyId"] in (outputs["kmsKeyArn"], outputs["kmsKeyId"])
    (volume,) = ec2.describe_volumes(VolumeIds=[artifact["volume_id"]])["Volumes"]
    assert volume["SnapshotId"] == artifact["copy_snapshot_id"]
    assert volume["Encrypted"] is True and volume["KmsKeyId"] in (outputs["kmsKeyArn"], outputs["kmsKeyId"])
    assert [a["InstanceId"] for a in volume["Attachments"]] == [outputs["instanceId"]]
    for account_ec2 in (ec2, ec2_source):
        made_from = {v.get("SnapshotId") for v in account_ec2.describe_volumes()["Volumes"]}
        assert snapshot_id not in made_from

    # The custody chain, in order, intact, and mirrored under legal hold in the evidence bucket.
    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True
    events = [
        (e["event"], e["hashes"].get("of")) for e in custody["events"] if e["artifact_id"] == artifact["id"]
    ]
    assert events == [
        ("acquired", None),
        ("hashed", "source"),
        ("shared", None),
        ("copied", None),
        ("hashed", "copy"),
        ("attached", None),
        ("mounted", None),
    ]
    hashed = [e for e in _events_of(custody, artifact["id"]) if e["event"] == "hashed"]
    assert {e["hashes"]["sha256"] for e in hashed} == {expected}
    s3 = client_as(local_aws, deploy_role, "s3")
    for event in custody["events"]:
        assert event["mirrored_key"], event
        held = s3.get_object_legal_hold(Bucket=outputs["evidenceBucket"], Key=event["mirrored_key"])
        assert held["LegalHold"]["Status"] == "ON"


def test_a_copy_that_differs_from_its_source_is_flagged_and_never_attached(
    module_engine_client: TestClient, module_engine_settings: Settings, room: dict[str, Any],
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    snapshot_id, expected = source_evidence(local_aws, tmp_path)
    inv = room
    deploy_role = module_engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    # A faulty or hostile copy path: after the source was hashed, what gets copied is the source with one
    # block changed (a child snapshot in the source account, written through the EBS direct APIs). The
    # service's own hash of the copy must notice.
    source_ebs = client_as(local_aws, SOURCE_ROLE, "ebs")
    child = source_ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=snapshot_id, Description="altered")
    block = b"\xde\xad\xbe\xef" * (disk_image.BLOCK_SIZE // 4)
    source_ebs.put_snapshot_block(
        SnapshotId=child["SnapshotId"], BlockIndex=7, BlockData=block, DataLength=len(block),
        Checksum=disk_image.block_checksum(block), ChecksumAlgorithm="SHA256",
    )  # fmt: skip
    source_ebs.complete_snapshot(SnapshotId=child["SnapshotId"], ChangedBlocksCount=1)
    altered = child["SnapshotId"]
    real_acquire = acquisition.acquire_source

    def acquire_then_swap(ctx: Any, inv_row: Any, params: Any, run: Any) -> None:
        real_acquire(ctx, inv_row, params, run)
        client_as(local_aws, SOURCE_ROLE, "ec2").modify_snapshot_attribute(
            SnapshotId=altered, Attribute="createVolumePermission", OperationType="add",
            UserIds=[module_engine_settings.accounts[inv["region"]].account_id],
        )  # fmt: skip
        with ctx.unit_of_work() as uow:
            row = uow.session.get(Investigation, inv_row.id)
            # Only this acquisition's entry: the room's other evidence stays as it was.
            row.evidence = [
                {**e, "snapshotId": altered} if e["snapshotId"] == snapshot_id else e for e in row.evidence
            ]

    monkeypatch.setattr(acquisition, "acquire_source", acquire_then_swap)
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "snapshot_id": snapshot_id}
    accepted = _acquire(module_engine_client, inv["id"], ADMIN, **body)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "failed" and op["error"]["code"] == "evidence_mismatch", op["error"]

    (artifact,) = _evidence_from(module_engine_client, inv["id"], snapshot_id)
    assert artifact["status"] == "mismatch"
    assert artifact["sha256_source"] == expected != artifact["sha256_copy"]
    assert artifact["volume_id"] is None
    ec2 = client_as(local_aws, deploy_role, "ec2")
    assert artifact["copy_snapshot_id"] in op["error"]["message"]
    made_from = {v.get("SnapshotId") for v in ec2.describe_volumes()["Volumes"]}
    assert artifact["copy_snapshot_id"] not in made_from and snapshot_id not in made_from
    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    flagged = [e for e in _events_of(custody, artifact["id"]) if e["event"] == "flagged"]
    assert len(flagged) == 1 and flagged[0]["hashes"] == {"source": expected, "copy": artifact["sha256_copy"]}
    # The clean room itself is still usable.
    assert (
        module_engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "ready"
    )


def test_an_instance_is_acquired_volume_by_volume(
    module_engine_client: TestClient,
    module_engine_settings: Settings,
    room: dict[str, Any],
    local_aws: LocalAws,
    tmp_path: Path,
) -> None:
    # A compromised host in the affected account with two disks, each made from a disk image with a file
    # system: an ext4 root disk and an XFS data disk. Each is snapshotted now, and each becomes its own
    # artifact, hashed, copied, verified, attached and mounted read-only as the file system it holds.
    require_root("mkfs.xfs")  # the XFS image is written through a loop mount
    root_disk, root_sha = source_evidence(local_aws, tmp_path)
    xfs = xfs_image(tmp_path, HOST_FILES, size="1G")  # the volume's whole size: sha256sum is its hash
    data_disk, data_sha = evidence_snapshot(local_aws, xfs, "compromised host data disk"), sha256sum(xfs)
    ec2_source = client_as(local_aws, SOURCE_ROLE, "ec2")
    image = ec2_source.describe_images(Owners=["amazon"])["Images"][0]
    instance = ec2_source.run_instances(
        ImageId=image["ImageId"], MinCount=1, MaxCount=1,
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 1, "SnapshotId": root_disk}},
            {"DeviceName": "/dev/sdb", "Ebs": {"VolumeSize": 1, "SnapshotId": data_disk}},
        ],
    )["Instances"][0]  # fmt: skip
    inv = room
    body = {
        "source_account_id": LOCAL_SOURCE_ACCOUNT,
        "region": inv["region"],
        "instance_id": instance["InstanceId"],
    }
    accepted = _acquire(module_engine_client, inv["id"], ADMIN, **body)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]

    artifacts = [
        a
        for a in module_engine_client.get(f"/v1/investigations/{inv['id']}/evidence", headers=ADMIN).json()
        if a["source"].get("instance_id") == instance["InstanceId"]
    ]
    mappings = ec2_source.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0][
        "Instances"
    ][0]["BlockDeviceMappings"]
    # What each source volume holds: (its image's sha256sum, its file system).
    holds = {"/dev/xvda": (root_sha, "ext4"), "/dev/sdb": (data_sha, "xfs")}
    expected = {m["Ebs"]["VolumeId"]: holds[m["DeviceName"]] for m in mappings}
    assert {a["source"]["volume_id"] for a in artifacts} == set(expected) and len(artifacts) == 2
    for artifact in artifacts:
        assert (
            artifact["status"] == "verified" and artifact["source"]["instance_id"] == instance["InstanceId"]
        )
        sha, _ = expected[artifact["source"]["volume_id"]]
        assert artifact["sha256_source"] == artifact["sha256_copy"] == sha  # what each disk holds
        (snapshot,) = ec2_source.describe_snapshots(SnapshotIds=[artifact["source"]["snapshot_id"]])[
            "Snapshots"
        ]
        tags = {t["Key"]: t["Value"] for t in snapshot.get("Tags", [])}
        assert tags["forensics:investigation"] == inv["id"]
    assert len({a["device"] for a in artifacts}) == 2
    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    mounted = {
        e["artifact_id"]: e["details"]
        for e in _events_of(custody, *(a["id"] for a in artifacts))
        if e["event"] == "mounted"
    }
    assert sorted(mounted) == sorted(a["id"] for a in artifacts)
    for artifact in artifacts:
        _, fstype = expected[artifact["source"]["volume_id"]]
        assert mounted[artifact["id"]]["fstype"] == fstype and mounted[artifact["id"]]["readonly"] is True


def test_a_disk_without_a_file_system_is_not_mounted_and_fails_the_acquisition(
    module_engine_client: TestClient,
    module_engine_settings: Settings,
    room: dict[str, Any],
    local_aws: LocalAws,
    tmp_path: Path,
) -> None:
    # A blank 1 GiB disk: it hashes and copies like any other, but the workstation's mount script finds no
    # file system on it, and the service says so instead of recording it mounted.
    snapshot_id = evidence_snapshot(local_aws, blank_image(tmp_path), "blank disk")
    inv = room
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "snapshot_id": snapshot_id}
    accepted = _acquire(module_engine_client, inv["id"], ADMIN, **body)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "failed" and op["error"]["code"] == "evidence_mount_failed", op["error"]
    assert "no filesystem found (blkid reports no TYPE) and no partitions" in op["error"]["message"]
    (artifact,) = _evidence_from(module_engine_client, inv["id"], snapshot_id)
    assert artifact["status"] == "verified" and artifact["flag_reason"]
    assert "no filesystem found" in artifact["flag_reason"]
    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    events = [e for e in custody["events"] if e["artifact_id"] == artifact["id"]]
    assert [e["event"] for e in events][-2:] == ["attached", "flagged"]
    assert "mounted" not in [e["event"] for e in events]


def test_encrypted_evidence_is_acquired_as_aws_allows_it(
    module_engine_client: TestClient,
    module_engine_settings: Settings,
    room: dict[str, Any],
    local_aws: LocalAws,
    tmp_path: Path,
) -> None:
    """A customer-key source is shared with a grant on its key; an aws/ebs source (which AWS never shares)
    is first copied in its account under a key made for the purpose. Both end verified, hashes equal to
    ``sha256sum`` of the image, and the custody chain says each step."""
    customer, customer_hash, customer_key = encrypted_source_evidence(local_aws, tmp_path / "c", "customer")
    managed, managed_hash, managed_key = encrypted_source_evidence(local_aws, tmp_path / "m", "aws/ebs")
    inv = room
    responder = issue(module_engine_client, "responder", "rita@example.com")
    forensic_account = module_engine_settings.accounts[inv["region"]].account_id
    for snapshot_id in (customer, managed):
        source = {
            "source_account_id": LOCAL_SOURCE_ACCOUNT,
            "region": inv["region"],
            "snapshot_id": snapshot_id,
        }
        accepted = _acquire(module_engine_client, inv["id"], responder, **source)
        assert accepted.status_code == 202, accepted.text
        op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
        assert op["state"] == "succeeded", op["error"]

    artifacts = _evidence_from(module_engine_client, inv["id"], customer, managed)
    assert len(artifacts) == 2
    by_source = {a["source"]["snapshot_id"]: a for a in artifacts}
    for snapshot_id, expected in ((customer, customer_hash), (managed, managed_hash)):
        artifact = by_source[snapshot_id]
        assert artifact["status"] == "verified"
        assert artifact["sha256_source"] == expected == artifact["sha256_copy"]

    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True

    def steps(artifact_id: str) -> list[tuple[str, str | None]]:
        return [
            (e["event"], e["hashes"].get("of")) for e in custody["events"] if e["artifact_id"] == artifact_id
        ]

    ec2_source = client_as(local_aws, SOURCE_ROLE, "ec2")
    kms_source = client_as(local_aws, SOURCE_ROLE, "kms")
    # Customer key: the source itself is shared, and its key by a grant to the forensic account.
    assert steps(by_source[customer]["id"]) == [
        ("acquired", None),
        ("hashed", "source"),
        ("shared", None),
        ("shared", None),
        ("copied", None),
        ("hashed", "copy"),
        ("attached", None),
        ("mounted", None),
    ]
    grants = kms_source.list_grants(KeyId=customer_key)["Grants"]
    assert [g["GranteePrincipal"] for g in grants] == [f"arn:aws:iam::{forensic_account}:root"]
    shared = ec2_source.describe_snapshot_attribute(SnapshotId=customer, Attribute="createVolumePermission")
    assert shared["CreateVolumePermissions"] == [{"UserId": forensic_account}]

    # aws/ebs: never shared itself; a copy under a key made for the purpose is, hashed equal to the source.
    assert steps(by_source[managed]["id"]) == [
        ("acquired", None),
        ("hashed", "source"),
        ("copied", None),
        ("hashed", "re-encrypted source"),
        ("shared", None),
        ("shared", None),
        ("copied", None),
        ("hashed", "copy"),
        ("attached", None),
        ("mounted", None),
    ]
    assert kms_source.describe_key(KeyId=managed_key)["KeyMetadata"]["KeyManager"] == "AWS"
    unshared = ec2_source.describe_snapshot_attribute(SnapshotId=managed, Attribute="createVolumePermission")
    assert unshared["CreateVolumePermissions"] == []
    reencrypted = by_source[managed]["source"]["reencrypted_snapshot_id"]
    (copy,) = ec2_source.describe_snapshots(SnapshotIds=[reencrypted])["Snapshots"]
    assert copy["Encrypted"] is True and copy["KmsKeyId"] == by_source[managed]["source"]["kms_key_id"]
    assert kms_source.describe_key(KeyId=copy["KmsKeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    hashed = [e for e in _events_of(custody, *(a["id"] for a in artifacts)) if e["event"] == "hashed"]
    assert {e["hashes"]["sha256"] for e in hashed} == {customer_hash, managed_hash}


def test_evidence_that_cannot_be_mounted_read_only_fails_the_acquisition(
    module_engine_client: TestClient, module_engine_settings: Settings, room: dict[str, Any],
    local_aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # Last in the module: it force-detaches its volume from the shared room's workstation behind the
    # stack's back. The device is gone by the time the mount command runs on the workstation: the mount
    # script's report (through SSM) says so, and the operation fails with its message instead of declaring
    # the evidence ready.
    snapshot_id, _ = source_evidence(local_aws, tmp_path)
    inv = room
    deploy_role = module_engine_settings.accounts[inv["region"]].deploy_role_arn
    assert deploy_role
    ec2 = client_as(local_aws, deploy_role, "ec2")
    real_run = mounting.run

    def detach_then_mount(ssm: Any, document: str, instance_id: str, **kwargs: Any) -> Any:
        device = f"/dev/sd{kwargs['letter']}"
        for volume in ec2.describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}]
        )["Volumes"]:
            if any(a["Device"] == device for a in volume["Attachments"]):
                ec2.detach_volume(
                    VolumeId=volume["VolumeId"], InstanceId=instance_id, Device=device, Force=True
                )
        return real_run(ssm, document, instance_id, **kwargs)

    monkeypatch.setattr(mounting, "run", detach_then_mount)
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "snapshot_id": snapshot_id}
    accepted = _acquire(module_engine_client, inv["id"], ADMIN, **body)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(module_engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "failed" and op["error"]["code"] == "evidence_mount_failed", op["error"]
    assert "did not appear" in op["error"]["message"] and snapshot_id in op["error"]["message"]
    (artifact,) = _evidence_from(module_engine_client, inv["id"], snapshot_id)
    assert artifact["flag_reason"] and "not mounted" in artifact["flag_reason"]
    custody = module_engine_client.get(f"/v1/investigations/{inv['id']}/custody", headers=ADMIN).json()
    assert [e["event"] for e in _events_of(custody, artifact["id"])][-2:] == ["attached", "flagged"]
