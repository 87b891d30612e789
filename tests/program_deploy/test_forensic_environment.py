"""The whole forensic program, with the mandatory policy packs, on the real engine; AWS checked with boto3.

One room is deployed for the module and each property is a test of its own (the room's tests only read it,
but for the evidence object the write test puts); the destroy test runs last."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from service.config import Settings
from service.orchestration.messages import OperationKind, OperationRequest, OperationResult
from service.orchestration.stacks import run_operation
from tests.program_deploy.bad_variants import ROGUE_RESOURCES
from tests.support.deploy_targets import DeployTarget
from tests.support.persons import Endpoint, Person, declared_grant, make_person
from tests.support.policy_documents import as_list, parsed, statements_of
from tests.support.program_runs import program_config, run_program
from tools.local_aws.seed import operator_settings

pytestmark = pytest.mark.engine

# The investigation of the room the tests below share: deployed once for the module, read by one test per
# property while it stands, destroyed by the last. One xdist group keeps them on one worker, in file order.
ROOM = "it-full"
SHARED_ROOM = pytest.mark.xdist_group(name="forensic-environment-room")
# The bad variant tests read one `up` of the program with every bad addition: one worker makes it.
BAD_VARIANTS = pytest.mark.xdist_group(name="forensic-environment-bad-variants")
# The people who act in the room's roles, each through a grant the room is deployed with (as an approval
# declares it), bound to their own role.
RESPONDER, CUSTODIAN = "rita", "carl"


def _policy_docs(iam: Any, role_name: str) -> list[dict[str, Any]]:
    docs = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        docs.append(parsed(doc))
    return docs


def _allowed(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for doc in docs:
        out += [s for s in statements_of(doc) if s["Effect"] == "Allow"]
    return out


def _assert_dns_is_fenced(resolver: Any, vpc_id: str, region: str) -> None:
    """The VPC resolves through a DNS Firewall: its endpoints' names allowed, then every name NXDOMAIN."""
    (association,) = resolver.list_firewall_rule_group_associations(VpcId=vpc_id)[
        "FirewallRuleGroupAssociations"
    ]
    assert association["Status"] == "COMPLETE" and 101 <= association["Priority"] <= 9899
    rules = resolver.list_firewall_rules(FirewallRuleGroupId=association["FirewallRuleGroupId"])[
        "FirewallRules"
    ]
    rules.sort(key=lambda r: r["Priority"])
    assert [r["Action"] for r in rules] == ["ALLOW", "BLOCK"]
    allowed, block = rules
    assert block["BlockResponse"] == "NXDOMAIN"
    every = resolver.list_firewall_domains(FirewallDomainListId=block["FirewallDomainListId"])["Domains"]
    assert [d.rstrip(".") for d in every] == ["*"]
    names = resolver.list_firewall_domains(FirewallDomainListId=allowed["FirewallDomainListId"])["Domains"]
    names = [d.rstrip(".") for d in names]
    for service in ("s3", "ssm", "ssmmessages", "ec2messages", "kms", "logs"):
        assert f"{service}.{region}.amazonaws.com" in names
    assert "*" not in names


@dataclass
class Room:
    """The clean room this module deploys once (investigation ``it-full``), its stack's outputs and the
    people granted its roles."""

    target: DeployTarget
    out: dict[str, Any]
    people: dict[str, Person]
    destroyed: bool = False

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def client_as(self, person: str, role: str, service: str) -> Any:
        """A client of ``person``'s session of the room's ``role`` (what their tooling would hold)."""
        return self.people[person].client(self.out[f"{role}RoleArn"], ROOM, service)

    @property
    def role_names(self) -> dict[str, str]:
        return {
            role: self.out[f"{role}RoleArn"].rsplit("/", 1)[-1]
            for role in ("responder", "investigator", "custodian", "analyst")
        }


@pytest.fixture(scope="module")
def deployed(module_deploy_target: DeployTarget) -> Room:
    target = module_deploy_target
    endpoint = Endpoint.of(target.settings)
    people = {name: make_person(target.client, endpoint, name) for name in (RESPONDER, CUSTODIAN)}
    until = datetime.now(UTC) + timedelta(hours=2)
    granted = [
        declared_grant("responder", people[RESPONDER], until),
        declared_grant("custodian", people[CUSTODIAN], until),
    ]
    up = run_program(target, OperationKind.UP, ROOM, grants=granted)
    assert up.succeeded, (up.error, up.policy_violations)
    return Room(target, dict(up.outputs), people)


@pytest.fixture
def room(deployed: Room) -> Room:
    """The deployed room for a test that reads it while it stands."""
    if deployed.destroyed:
        pytest.fail("the shared room was already destroyed: the destroy test runs last in this module")
    return deployed


@dataclass
class Destroyed:
    room: Room
    result: OperationResult
    evidence_key: str
    evidence_version: str


@pytest.fixture(scope="module")
def destroyed(deployed: Room) -> Destroyed:
    """The room destroyed, after the responder put one evidence object in its bucket."""
    responder = deployed.client_as(RESPONDER, "responder", "s3")
    key = "incoming/evidence-artifacts/kept.raw"
    put = responder.put_object(
        Bucket=deployed.out["evidenceBucket"], Key=key, Body=b"kept past destroy", ChecksumAlgorithm="SHA256"
    )
    deployed.destroyed = True
    return Destroyed(
        deployed, run_program(deployed.target, OperationKind.DESTROY, ROOM), key, put["VersionId"]
    )


@SHARED_ROOM
def test_the_network_is_isolated(room: Room) -> None:
    """No internet gateway, NAT or default route, no public IPs, the endpoints present, flow logs on, DNS
    fenced, nothing inbound and only HTTPS out."""
    ec2, out = room.client("ec2"), room.out
    vpc_id = out["vpcId"]
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    assert igws["InternetGateways"] == []
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    assert [n for n in nats if n["State"] not in ("deleted", "deleting")] == []
    for table in ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]:
        for route in table["Routes"]:
            assert route.get("DestinationCidrBlock") != "0.0.0.0/0"
            assert route.get("DestinationIpv6CidrBlock") != "::/0"
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
        assert subnet["MapPublicIpOnLaunch"] is False
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    services = {e["ServiceName"].rsplit(".", 1)[-1]: e["VpcEndpointType"] for e in endpoints}
    assert services == {
        "s3": "Gateway",
        "ssm": "Interface",
        "ssmmessages": "Interface",
        "ec2messages": "Interface",
        "kms": "Interface",
        "logs": "Interface",
    }
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc_id]}])["FlowLogs"]
    assert [f["TrafficType"] for f in flow_logs] == ["ALL"]
    _assert_dns_is_fenced(room.client("route53resolver"), vpc_id, room.target.settings.aws_region)

    (sg,) = ec2.describe_security_groups(GroupIds=[out["securityGroupId"]])["SecurityGroups"]
    assert sg["IpPermissions"] == []  # nothing inbound
    for rule in sg["IpPermissionsEgress"]:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
        assert all(r["CidrIp"] != "0.0.0.0/0" for r in rule.get("IpRanges", []))


@SHARED_ROOM
def test_the_workstation_has_imdsv2_no_public_ip_no_key_pair_and_volumes_under_the_room_key(
    room: Room,
) -> None:
    ec2, kms, out = room.client("ec2"), room.client("kms"), room.out
    key_arn = out["kmsKeyArn"]
    (reservation,) = ec2.describe_instances(InstanceIds=[out["instanceId"]])["Reservations"]
    (instance,) = reservation["Instances"]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert not instance.get("PublicIpAddress")
    assert not instance.get("KeyName")
    assert instance["ImageId"] == room.target.seeded["amiId"]
    volume_ids = [m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]]
    volumes = ec2.describe_volumes(VolumeIds=volume_ids)["Volumes"]
    assert volumes and all(v["Encrypted"] and v["KmsKeyId"] in (key_arn, out["kmsKeyId"]) for v in volumes)
    assert kms.get_key_rotation_status(KeyId=out["kmsKeyId"])["KeyRotationEnabled"] is True


@SHARED_ROOM
def test_the_evidence_is_a_copy_under_the_room_key_and_the_attached_volume_is_made_from_the_copy(
    room: Room,
) -> None:
    ec2, out = room.client("ec2"), room.out
    key_arn = out["kmsKeyArn"]
    source = room.target.seeded["snapshotId"]
    (evidence,) = out["evidence"].values()
    assert out["evidence"] == {source: evidence} and evidence["sourceSnapshotId"] == source
    copy_id = evidence["copySnapshotId"]
    (copy,) = ec2.describe_snapshots(SnapshotIds=[copy_id])["Snapshots"]
    assert copy_id != source and copy["State"] == "completed"
    assert copy["Encrypted"] and copy["KmsKeyId"] in (key_arn, out["kmsKeyId"])
    copy_tags = {t["Key"]: t["Value"] for t in copy["Tags"]}
    assert copy_tags["forensics:source-snapshot"] == source and copy_tags["forensics:artifact"] == source
    (evidence_volume_id,) = out["evidenceVolumeIds"]
    assert evidence_volume_id == evidence["volumeId"] and evidence["device"] == "/dev/sdf"
    (evidence_volume,) = ec2.describe_volumes(VolumeIds=[evidence_volume_id])["Volumes"]
    assert evidence_volume["SnapshotId"] == copy_id
    assert evidence_volume["Encrypted"]
    assert [a["InstanceId"] for a in evidence_volume["Attachments"]] == [out["instanceId"]]


@SHARED_ROOM
def test_the_evidence_bucket_has_object_lock_versioning_sse_kms_no_public_access_and_tls_only(
    room: Room,
) -> None:
    s3, out = room.client("s3"), room.out
    key_arn = out["kmsKeyArn"]
    bucket = out["evidenceBucket"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] in (key_arn, out["kmsKeyId"])
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert any(
        s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for s in policy["Statement"]
    )
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert {"incoming/evidence-artifacts/", "legal-hold/", "active-investigation/reports/"} <= keys


@SHARED_ROOM
def test_only_the_evidence_roles_write_and_even_the_custodian_cannot_delete_a_locked_version(
    room: Room,
) -> None:
    s3, out = room.client("s3"), room.out
    bucket = out["evidenceBucket"]
    # This (admin) principal is refused by the bucket policy.
    body = b"memory dump of host i-0abc"
    key = "incoming/evidence-artifacts/mem.raw"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "403")

    responder = room.client_as(RESPONDER, "responder", "s3")
    put = responder.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    custodian = room.client_as(CUSTODIAN, "custodian", "s3")
    with pytest.raises(ClientError) as denied:
        custodian.delete_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    head = custodian.head_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"]


@SHARED_ROOM
def test_four_roles_of_least_privilege_with_separated_duties(room: Room) -> None:
    iam = room.client("iam")
    actions: dict[str, set[str]] = {}
    for role, name in room.role_names.items():
        allows = _allowed(_policy_docs(iam, name))
        assert allows, f"{role} has no permissions"
        for statement in allows:
            assert "*" not in as_list(statement["Action"])
            assert "*" not in as_list(statement["Resource"])
        actions[role] = {a for s in allows for a in as_list(s["Action"])}
        assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert "s3:DeleteObject" not in actions["investigator"]
    assert "s3:DeleteObject" not in actions["analyst"] and "s3:PutObject" not in actions["analyst"]
    assert "s3:PutObjectLegalHold" in actions["custodian"]


@SHARED_ROOM
def test_destroy_removes_everything_but_the_retained_evidence(destroyed: Destroyed) -> None:
    """Runs last: the bucket, its objects and the evidence copies outlive the clean room."""
    assert destroyed.result.succeeded, destroyed.result.error
    room = destroyed.room
    ec2, s3, iam, out = room.client("ec2"), room.client("s3"), room.client("iam"), room.out
    vpc_id = out["vpcId"]
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"] == []
    resolver = room.client("route53resolver")
    assert resolver.list_firewall_rule_group_associations(VpcId=vpc_id)["FirewallRuleGroupAssociations"] == []
    state = ec2.describe_instances(InstanceIds=[out["instanceId"]])["Reservations"][0]["Instances"][0][
        "State"
    ]
    assert state["Name"] == "terminated"
    for name in room.role_names.values():
        with pytest.raises(ClientError):
            iam.get_role(RoleName=name)
    bucket = out["evidenceBucket"]
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The evidence copy is kept with the bucket; the working volume made from it is gone.
    (evidence,) = out["evidence"].values()
    copy_id = evidence["copySnapshotId"]
    assert ec2.describe_snapshots(SnapshotIds=[copy_id])["Snapshots"][0]["State"] == "completed"
    (evidence_volume_id,) = out["evidenceVolumeIds"]
    try:
        states = [v["State"] for v in ec2.describe_volumes(VolumeIds=[evidence_volume_id])["Volumes"]]
    except ClientError as gone:
        assert gone.response["Error"]["Code"] == "InvalidVolume.NotFound"
        states = []
    assert set(states) <= {"deleting", "deleted"}
    versions = s3.list_object_versions(Bucket=bucket, Prefix=destroyed.evidence_key)["Versions"]
    assert versions[0]["VersionId"] == destroyed.evidence_version


@pytest.fixture(scope="module")
def every_rogue_resource(module_deploy_target: DeployTarget) -> OperationResult:
    """One `up` of the program with every bad addition (tests/program_deploy/bad_variants.py)."""
    return run_program(
        module_deploy_target,
        OperationKind.UP,
        "it-bad-every",
        program="tests.program_deploy.bad_variants:with_every_rogue_resource",
    )


@BAD_VARIANTS
@pytest.mark.parametrize("addition", sorted(ROGUE_RESOURCES))
def test_bad_variant_is_stopped_before_aws(
    every_rogue_resource: OperationResult, module_deploy_target: DeployTarget, addition: str
) -> None:
    resource, policy = ROGUE_RESOURCES[addition]
    result = every_rogue_resource
    assert not result.succeeded
    assert result.error_code == "policy_violation"
    stopped = [v for v in result.policy_violations if (v.urn or "").endswith(f"::{resource}")]
    assert policy in {v.policy_name for v in stopped}, result.policy_violations
    ec2 = module_deploy_target.client("ec2")
    tagged = ec2.describe_vpcs(
        Filters=[{"Name": "tag:forensics:investigation-id", "Values": ["it-bad-every"]}]
    )
    assert tagged["Vpcs"] == []
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.99.0.0/16"]}])["Vpcs"] == []


def test_the_forensics_pack_cannot_be_configured_away(
    deploy_target: DeployTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``FORENSICS_POLICY_PACKS='[]'`` adds no pack and drops none: a violating program is still stopped
    before anything reaches AWS."""
    monkeypatch.setenv("FORENSICS_POLICY_PACKS", "[]")
    operator = operator_settings(deploy_target.settings)
    settings = Settings.model_validate(operator.model_dump(exclude={"policy_packs"}))
    investigation = "it-bad-nopacks"
    request = OperationRequest(
        kind=OperationKind.UP,
        stack_name=f"inv-{investigation}",
        config=program_config(deploy_target, investigation),
    )
    result = run_operation(
        settings, request, program="tests.program_deploy.bad_variants:with_internet_gateway"
    )
    assert not result.succeeded
    assert result.error_code == "policy_violation"
    assert "no-internet-gateway" in {v.policy_name for v in result.policy_violations}
    ec2 = deploy_target.client("ec2")
    tagged = ec2.describe_vpcs(
        Filters=[{"Name": "tag:forensics:investigation-id", "Values": [investigation]}]
    )
    assert tagged["Vpcs"] == []
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.99.0.0/16"]}])["Vpcs"] == []
