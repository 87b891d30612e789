"""Evidence given when a clean room is opened goes through acquisition, and another room's evidence is
never evidence (it would let one room read another's copy).

Room A (the custody features' shared room, tests/support/custody_room.py) is opened with a snapshot of the
affected account: once the opening `up` succeeded, the normal acquisition runs (owner and region checked,
hashed at source and copy, custody ledger), and its verified copy is attached. Then room B is opened the ways
an attacker would use A's evidence copy (its id is in A's outputs and evidence list): by bare
``evidence_snapshot_ids``, as evidence "from" the forensic account (also when the operator lists that account
as a source), "from" the source account, and with a public snapshot of an account nobody configured (a real
account of the organization, made as Organizations' CreateAccount makes one, so the refusal is the service's
and not a missing role's). Each is refused with 422 before anything is written: no room B, and the forensic
account holds no new snapshot or volume (boto3).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.config import LOCAL_SOURCE_ACCOUNT, SourceAccount
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.aws import client_as
from tests.support.custody_room import CUSTODY_ROOM_GROUP, CustodyRoom
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=CUSTODY_ROOM_GROUP)]

TIMEOUT = 900


def _stranger(local_aws: LocalAws) -> str:
    """An account of the organization that nobody configured as a source: made by CreateAccount (in the
    organization, made if there is none yet), with the member-account role its administrator enters by."""
    organizations = local_aws.client("organizations")
    try:
        organizations.create_organization(FeatureSet="ALL")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "AlreadyInOrganizationException":
            raise
    name = f"stranger-{uuid.uuid4().hex[:8]}"
    status = organizations.create_account(AccountName=name, Email=f"{name}@example.com")
    return str(status["CreateAccountStatus"]["AccountId"])


def _public_snapshot(local_aws: LocalAws, account_id: str) -> str:
    """A snapshot of ``account_id``, shared with everyone (createVolumePermission group all)."""
    ec2 = client_as(local_aws, local_aws.member_role_arn(account_id), "ec2")
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{local_aws.region}a")
    snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"], Description="public disk")["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
    )
    return str(snapshot)


def _forensic_inventory(ec2: Any) -> tuple[set[str], set[str]]:
    snapshots = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    volumes = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    return snapshots, volumes


def test_evidence_given_at_open_is_acquired_and_another_rooms_copy_is_refused(
    open_custody_room: CustodyRoom, local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = open_custody_room
    engine_client, engine_settings = room.service, room.service_settings
    source, expected = room.evidence, room.expected_sha256

    # Room A (the custody room): the opening `up`, then the acquisition queued behind it.
    inv_id = room.opened["investigation"]["id"]
    assert room.opened["operation"]["params"] == {"evidence": [source]}
    assert room.open_operation["state"] == "succeeded"
    timeline = engine_client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()["timeline"]
    (acquire,) = [
        op
        for op in timeline
        if op["action"] == "acquire" and op["params"].get("snapshot_id") == source["snapshot_id"]
    ]
    assert acquire["params"] == {**source, "region": "us-east-1"}
    done = wait_operation(engine_client, acquire["id"], timeout=TIMEOUT)
    assert done["state"] == "succeeded", done["error"]
    # The room's other features add evidence of their own: this is the one acquired from the snapshot.
    listed = engine_client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
    (artifact,) = [a for a in listed if a["source"].get("snapshot_id") == source["snapshot_id"]]
    assert artifact["status"] == "verified"
    assert artifact["sha256_source"] == expected == artifact["sha256_copy"]
    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"] is True
    assert [e["event"] for e in custody["events"] if e["artifact_id"] == artifact["id"]] == [
        "acquired", "hashed", "shared", "copied", "hashed", "attached", "mounted",
    ]  # fmt: skip
    a_copy = artifact["copy_snapshot_id"]

    forensic = engine_settings.accounts["us-east-1"]
    assert forensic.deploy_role_arn
    ec2 = client_as(local_aws, forensic.deploy_role_arn, "ec2")
    (copy,) = ec2.describe_snapshots(SnapshotIds=[a_copy])["Snapshots"]
    assert copy["OwnerId"] == forensic.account_id
    before = _forensic_inventory(ec2)
    stranger = _stranger(local_aws)
    assert stranger not in {LOCAL_SOURCE_ACCOUNT, forensic.account_id, *engine_settings.sources}
    public = _public_snapshot(local_aws, stranger)

    def open_b(**body: Any) -> Any:
        return engine_client.post("/v1/investigations", json=open_body("SEC-1102", **body), headers=ADMIN)

    old_field = open_b(evidence_snapshot_ids=[a_copy])
    assert old_field.status_code == 422 and '"evidence"' in old_field.json()["error"]["message"]
    from_forensic = open_b(evidence=[{"source_account_id": forensic.account_id, "snapshot_id": a_copy}])
    assert from_forensic.status_code == 422 and "is a forensic account" in from_forensic.text
    from_source = open_b(evidence=[{**source, "snapshot_id": a_copy}])
    assert from_source.status_code == 422 and "cannot be read in source account" in from_source.text
    shared_public = open_b(evidence=[{**source, "snapshot_id": public}])
    assert shared_public.status_code == 422 and f"belongs to {stranger}" in shared_public.text
    unlisted = open_b(evidence=[{"source_account_id": stranger, "snapshot_id": public}])
    assert unlisted.status_code == 422 and "not a configured evidence source" in unlisted.text
    # Listing the forensic account as a source as well changes nothing: its snapshots are clean rooms'.
    settings = engine_client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(
        settings,
        "source_accounts",
        {
            **settings.sources,
            forensic.account_id: SourceAccount(snapshot_role_arn=forensic.deploy_role_arn),
        },
    )
    listed = open_b(evidence=[{"source_account_id": forensic.account_id, "snapshot_id": a_copy}])
    assert listed.status_code == 422 and "is a forensic account" in listed.text
    # The acquisition endpoint refuses the same for room A itself.
    into_a = engine_client.post(
        f"/v1/investigations/{inv_id}/evidence",
        json={"source_account_id": forensic.account_id, "region": "us-east-1", "snapshot_id": a_copy},
        headers=ADMIN,
    )
    assert into_a.status_code == 422 and "is a forensic account" in into_a.text

    # Nothing was written or deployed for room B, and nothing of A's was copied or mounted anywhere.
    listed_rooms = engine_client.get("/v1/investigations", headers=ADMIN).json()["items"]
    assert [i["ticket"] for i in listed_rooms if i["ticket"] == "SEC-1102"] == []
    assert _forensic_inventory(ec2) == before
    made_from_a = [v for v in ec2.describe_volumes()["Volumes"] if v.get("SnapshotId") == a_copy]
    assert [v["VolumeId"] for v in made_from_a] == [artifact["volume_id"]]
