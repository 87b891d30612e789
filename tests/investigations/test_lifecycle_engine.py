"""End to end over HTTP on the real engine and moto; what AWS holds is checked with boto3."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from service.config import Settings
from service.orchestration import stacks
from tests.support.api import ADMIN, issue, open_body, wait_operation
from tests.support.persons import Person, grants, local_people, with_people
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

DEPLOY_TIMEOUT = 900


def _open(
    client: TestClient, ticket: str, headers: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    response = client.post(
        "/v1/investigations", json=open_body(ticket, **extra), headers={**ADMIN, **(headers or {})}
    )
    assert response.status_code in (200, 202), response.text
    return dict(response.json())


def _ready(client: TestClient, opened: dict[str, Any]) -> dict[str, Any]:
    op = wait_operation(client, opened["operation"]["id"], timeout=DEPLOY_TIMEOUT)
    assert op["state"] == "succeeded", op
    inv = client.get(f"/v1/investigations/{opened['investigation']['id']}", headers=ADMIN).json()
    assert inv["status"] == "ready", inv
    return dict(inv)


def _act(client: TestClient, inv_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"/v1/investigations/{inv_id}/{action}", json=body or {}, headers=ADMIN)
    assert response.status_code == 202, response.text
    op = wait_operation(client, response.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)
    assert op["state"] == "succeeded", op
    return dict(op)


# One room, opened once for the module: the first test reads it as opened, the fixture `frozen_room` freezes
# it for the next, which reads it frozen, and the last releases and destroys it. One xdist group keeps these
# on one worker, in file order; each also runs alone (the fixtures bring the room to the state it reads).
SHARED_ROOM = pytest.mark.xdist_group(name="lifecycle-room")
EVIDENCE_KEY = "incoming/evidence-artifacts/disk.001"
# The people who act in the room's AWS roles, each through a grant bound to their own role (their tokens'
# principals, tests.support.api.issue).
RESPONDER, CUSTODIAN = "responder@example.com", "data_custodian@example.com"


@pytest.fixture(scope="module")
def people(local_aws: LocalAws) -> dict[str, Person]:
    return local_people(local_aws, RESPONDER, CUSTODIAN)


@pytest.fixture(scope="module")
def module_engine_settings(module_engine_settings: Settings, people: dict[str, Person]) -> Settings:
    """The module's settings, binding its people to their own roles (where their grants point)."""
    return with_people(module_engine_settings, *people.values())


@pytest.fixture(scope="module")
def room(module_engine_client: TestClient) -> dict[str, Any]:
    """The module's room, open and ready (its outputs as the API reports them)."""
    return _ready(module_engine_client, _open(module_engine_client, "SEC-900"))


@pytest.fixture(scope="module")
def frozen_room(
    module_engine_client: TestClient, room: dict[str, Any], people: dict[str, Person]
) -> dict[str, Any]:
    """The room after the responder, granted their role (and the custodian theirs, which a freeze keeps),
    handed in evidence through it and froze the room (a responder may freeze)."""
    responder = issue(module_engine_client, "responder")
    custodian = issue(module_engine_client, "data_custodian")
    grants(module_engine_client, room["id"], [("responder", responder), ("custodian", custodian)], ADMIN)
    people[RESPONDER].client(room["outputs"]["responderRoleArn"], room["id"], "s3").put_object(
        Bucket=room["outputs"]["evidenceBucket"], Key=EVIDENCE_KEY, Body=b"disk image chunk",
        ChecksumAlgorithm="SHA256",
    )  # fmt: skip
    freeze = module_engine_client.post(f"/v1/investigations/{room['id']}/freeze", json={}, headers=responder)
    assert freeze.status_code == 202, freeze.text
    op = wait_operation(module_engine_client, freeze.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)
    assert op["state"] == "succeeded", op
    return room


@SHARED_ROOM
def test_an_opened_room_is_what_aws_holds_and_passed_the_gate(
    module_engine_client: TestClient, room: dict[str, Any], local_aws: LocalAws
) -> None:
    ec2, s3 = local_aws.client("ec2"), local_aws.client("s3")
    inv, out = room, room["outputs"]
    (vpc,) = ec2.describe_vpcs(VpcIds=[out["vpcId"]])["Vpcs"]
    assert {t["Key"]: t["Value"] for t in vpc["Tags"]}["forensics:ticket"] == "SEC-900"
    instance = ec2.describe_instances(InstanceIds=[out["instanceId"]])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    assert instance["VpcId"] == out["vpcId"]
    s3.head_bucket(Bucket=out["evidenceBucket"])
    # The gate really ran on the opening `up` and everything passed.
    assert inv["policy_results"]["action"] == "open" and inv["policy_results"]["passed"] is True
    assert inv["policy_results"]["violations"] == []
    assert inv["policy_results"]["operation_id"] == inv["timeline"][0]["id"]
    # Evidence is for the responder to hand in: the account's own admin may not write it.
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=out["evidenceBucket"], Key=EVIDENCE_KEY, Body=b"x", ChecksumAlgorithm="SHA256")
    assert denied.value.response["Error"]["Code"] in ("AccessDenied", "403")


@SHARED_ROOM
def test_a_frozen_room_is_stopped_snapshotted_denied_held_and_cannot_be_destroyed(
    module_engine_client: TestClient,
    frozen_room: dict[str, Any],
    local_aws: LocalAws,
    people: dict[str, Person],
) -> None:
    engine_client = module_engine_client
    ec2, s3, iam = local_aws.client("ec2"), local_aws.client("s3"), local_aws.client("iam")
    inv, out = frozen_room, frozen_room["outputs"]
    bucket = out["evidenceBucket"]
    frozen = engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert frozen["status"] == "frozen" and frozen["frozen"] is True

    instance = ec2.describe_instances(InstanceIds=[out["instanceId"]])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "stopped"
    snaps = ec2.describe_snapshots(
        OwnerIds=["self"],
        Filters=[{"Name": "tag:forensics:investigation-id", "Values": [out["investigationId"]]}],
    )["Snapshots"]
    attached_volumes = {m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
    assert attached_volumes and attached_volumes <= {s["VolumeId"] for s in snaps}
    for role_arn in (out["investigatorRoleArn"], out["analystRoleArn"]):
        role = role_arn.rsplit("/", 1)[-1]
        docs = [
            iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        ]
        docs = [json.loads(d) if isinstance(d, str) else d for d in docs]
        assert any(
            s["Effect"] == "Deny" and s["Action"] in ("*", ["*"]) and s["Resource"] in ("*", ["*"])
            for d in docs
            for s in (d["Statement"] if isinstance(d["Statement"], list) else [d["Statement"]])
        ), role
    (sg,) = ec2.describe_security_groups(GroupIds=[out["securityGroupId"]])["SecurityGroups"]
    assert sg["IpPermissions"] == [] and sg["IpPermissionsEgress"] == []
    custodian_s3 = people[CUSTODIAN].client(out["custodianRoleArn"], inv["id"], "s3")
    hold = custodian_s3.get_object_legal_hold(Bucket=bucket, Key=EVIDENCE_KEY)
    assert hold["LegalHold"]["Status"] == "ON"
    held = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="legal-hold/").get("Contents", [])]
    assert any(k.endswith("stack-export.json") for k in held) and any(
        k.endswith("manifest.signed.json") for k in held
    )

    refused = engine_client.post(f"/v1/investigations/{inv['id']}/destroy", json={}, headers=ADMIN)
    assert refused.status_code == 409
    assert "frozen" in refused.json()["error"]["message"]

    # the whole story is on the record, and the record is intact
    verify = engine_client.get("/v1/audit/verify", headers=ADMIN).json()
    assert verify["ok"] is True, verify
    actions = {
        e["action"]
        for e in engine_client.get("/v1/audit", params={"limit": 500}, headers=ADMIN).json()["items"]
    }
    assert {
        "investigation.open",
        "investigation.freeze",
        "operation.start",
        "operation.end",
    } <= actions


def test_same_create_twice_gives_one_stack_and_destroy_leaves_nothing_of_it(
    engine_client: TestClient, engine_settings: Settings, local_aws: LocalAws
) -> None:
    ec2, s3 = local_aws.client("ec2"), local_aws.client("s3")
    first = _open(engine_client, "SEC-910", headers={"Idempotency-Key": "key-910"})
    again = _open(engine_client, "SEC-910", headers={"Idempotency-Key": "key-910"})
    assert again["investigation"]["id"] == first["investigation"]["id"]
    inv = _ready(engine_client, first)
    listed = engine_client.get("/v1/investigations", params={"ticket": "SEC-910"}, headers=ADMIN).json()
    assert len(listed["items"]) == 1
    assert [
        s for s in stacks.stack_names(engine_settings) if s.endswith(first["investigation"]["stack_name"])
    ] != []
    assert len(stacks.stack_names(engine_settings)) == 1

    # open -> destroy (the room is not frozen): nothing of its clean room is left but its evidence bucket
    out = inv["outputs"]
    _act(engine_client, inv["id"], "destroy", {"reason": "closed"})
    gone = engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert gone["status"] == "destroyed"
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [out["vpcId"]]}])["Vpcs"] == []
    left = ec2.describe_instances(
        Filters=[{"Name": "tag:forensics:investigation-id", "Values": [out["investigationId"]]}]
    )["Reservations"]
    assert all(i["State"]["Name"] == "terminated" for r in left for i in r["Instances"])
    assert (
        ec2.describe_volumes(
            Filters=[{"Name": "tag:forensics:investigation-id", "Values": [out["investigationId"]]}]
        )["Volumes"]
        == []
    )
    s3.head_bucket(Bucket=out["evidenceBucket"])  # evidence outlives the clean room
    verify = engine_client.get("/v1/audit/verify", headers=ADMIN).json()
    assert verify["ok"] is True, verify
    actions = {
        e["action"]
        for e in engine_client.get("/v1/audit", params={"limit": 500}, headers=ADMIN).json()["items"]
    }
    assert {"investigation.open", "investigation.destroy", "operation.start", "operation.end"} <= actions


def test_three_at_once_and_ordered_operations(engine_client: TestClient) -> None:
    opened: list[dict[str, Any]] = []
    lock = threading.Lock()

    def open_one(ticket: str) -> None:
        result = _open(engine_client, ticket)
        with lock:
            opened.append(result)

    threads = [threading.Thread(target=open_one, args=(f"SEC-92{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a second operation on the first investigation queues behind its open
    preview = engine_client.post(
        f"/v1/investigations/{opened[0]['investigation']['id']}/preview", json={}, headers=ADMIN
    )
    assert preview.status_code == 202, preview.text
    invs = [_ready(engine_client, o) for o in opened]
    assert len({i["outputs"]["vpcId"] for i in invs}) == 3
    first = wait_operation(engine_client, opened[0]["operation"]["id"])
    second = wait_operation(engine_client, preview.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)
    assert second["state"] == "succeeded", second["error"]
    assert first["finished_at"] <= second["started_at"]
    # The preview ran the forensic program under the policy packs in an engine process of its own.
    assert second["pid"] is not None and second["pid"] != first["pid"]
    assert second["progress"]["planned"] > 0, second
    assert second["result"]["policy_violations"] == []


@SHARED_ROOM
def test_release_by_custodian_then_destroy(
    module_engine_client: TestClient, frozen_room: dict[str, Any], local_aws: LocalAws
) -> None:
    engine_client = module_engine_client
    ec2, s3, iam = local_aws.client("ec2"), local_aws.client("s3"), local_aws.client("iam")
    responder = issue(engine_client, "responder")
    custodian = issue(engine_client, "data_custodian")
    inv, out = frozen_room, frozen_room["outputs"]
    frozen_snapshots = {
        s["SnapshotId"]
        for s in ec2.describe_snapshots(
            OwnerIds=["self"],
            Filters=[{"Name": "tag:forensics:investigation-id", "Values": [out["investigationId"]]}],
        )["Snapshots"]
    }
    assert frozen_snapshots

    # a responder may freeze but not release; the custodian may, and must say why
    denied = engine_client.post(
        f"/v1/investigations/{inv['id']}/release", json={"reason": "done"}, headers=responder
    )
    assert denied.status_code == 403
    no_reason = engine_client.post(f"/v1/investigations/{inv['id']}/release", json={}, headers=custodian)
    assert no_reason.status_code == 422
    release = engine_client.post(
        f"/v1/investigations/{inv['id']}/release",
        json={"reason": "counsel cleared the hold"},
        headers=custodian,
    )
    assert release.status_code == 202, release.text
    # Lifting a legal hold waits for a second custodian.
    second = issue(engine_client, "data_custodian", "second@example.com")
    approved = engine_client.post(f"/v1/approvals/{release.json()['approval']['id']}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    op = wait_operation(engine_client, approved.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)
    assert op["state"] == "succeeded", op
    released = engine_client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert released["status"] == "ready" and released["frozen"] is False

    instance = ec2.describe_instances(InstanceIds=[out["instanceId"]])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    investigator = out["investigatorRoleArn"].rsplit("/", 1)[-1]
    assert all(
        "deny" not in name.lower() for name in iam.list_role_policies(RoleName=investigator)["PolicyNames"]
    )
    legal_hold = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=out["evidenceBucket"], Prefix="legal-hold/").get("Contents", [])
    ]
    assert legal_hold  # the freeze record stays

    _act(engine_client, inv["id"], "destroy", {"reason": "closed"})
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [out["vpcId"]]}])["Vpcs"] == []
    # the frozen state's snapshots are evidence: they outlive the release and the destroy
    remaining = {
        s["SnapshotId"] for s in ec2.describe_snapshots(SnapshotIds=sorted(frozen_snapshots))["Snapshots"]
    }
    assert remaining == frozen_snapshots
    audit = engine_client.get(
        "/v1/audit", params={"action": "investigation.release", "limit": 10}, headers=ADMIN
    ).json()
    assert any("counsel cleared the hold" in json.dumps(e) for e in audit["items"])
