"""The forensic program under mocks: resource graph, key properties, outputs, frozen and retained variants."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from programs.forensic_env import COMPONENT_TYPES, RESOURCE_TYPES, ConfigError
from programs.forensic_env.program import OUTPUT_NAMES
from programs.forensic_env.workstation import mount_script
from tests.programs.harness import (
    ACCOUNT,
    AMI_AGE_DAYS,
    AMI_ID,
    MISSING_AMI_ID,
    MISSING_SSM_PARAMETER,
    MISSING_TAG_VALUE,
    REGION,
    SNAPSHOTS,
    SSM_AMI_ID,
    TAG_AMI_ID,
    ProgramRun,
    run_program,
)
from tests.support.policy_documents import as_list, statements_of

KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "forensics-inv-test-01-evidence"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
# Resources without a tags property.
UNTAGGABLE = {
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:kms/alias:Alias",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:ec2/volumeAttachment:VolumeAttachment",
    "aws:ec2transitgateway/instanceState:InstanceState",
    "aws:route53/resolverFirewallRule:ResolverFirewallRule",
}


@pytest.fixture(scope="module")
def env() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS, tags={"team": "dfir"})


@pytest.fixture(scope="module")
def frozen() -> ProgramRun:
    return run_program(evidenceSnapshotIds=SNAPSHOTS, frozen=True)


def _role_policy(run: ProgramRun, role: str, policy_name: str | None = None) -> dict[str, Any]:
    role_name = f"forensics-inv-test-01-{role}"
    matches = [
        r
        for r in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == role_name and (policy_name is None or r.inputs["name"] == policy_name)
    ]
    assert len(matches) == 1, [m.inputs["name"] for m in matches]
    return json.loads(matches[0].inputs["policy"])


def _allowed_actions(doc: dict[str, Any]) -> set[str]:
    return {a for s in statements_of(doc) if s["Effect"] == "Allow" for a in as_list(s["Action"])}


# --- the graph ---


def test_only_contract_resource_types(env: ProgramRun, frozen: ProgramRun) -> None:
    for run in (env, frozen):
        used = {r.type for r in run.custom()}
        assert used <= set(RESOURCE_TYPES), used - set(RESOURCE_TYPES)
        assert {r.type for r in run.resources if not r.custom} <= set(COMPONENT_TYPES)
    assert set(RESOURCE_TYPES) == {r.type for r in frozen.custom()}  # the frozen stack uses every type
    assert len(RESOURCE_TYPES) == len(set(RESOURCE_TYPES)) == 32


def test_data_sources(env: ProgramRun) -> None:
    assert [token for token, _ in env.calls] == ["aws:ec2/getAmi:getAmi"]


def test_resource_counts(env: ProgramRun) -> None:
    counts = Counter(r.type for r in env.resources)
    assert counts["aws:ec2/vpc:Vpc"] == 1
    assert counts["aws:ec2/subnet:Subnet"] == 2
    assert counts["aws:ec2/routeTable:RouteTable"] == 1
    assert counts["aws:ec2/routeTableAssociation:RouteTableAssociation"] == 2
    assert counts["aws:ec2/securityGroup:SecurityGroup"] == 2
    assert counts["aws:ec2/vpcEndpoint:VpcEndpoint"] == 6
    assert counts["aws:ec2/flowLog:FlowLog"] == 1
    assert counts["aws:cloudwatch/logGroup:LogGroup"] == 2
    assert counts["aws:kms/key:Key"] == 1 and counts["aws:kms/alias:Alias"] == 1
    assert counts["aws:s3/bucket:Bucket"] == 1
    assert counts["aws:s3/bucketObjectv2:BucketObjectv2"] == 5
    assert counts["aws:iam/role:Role"] == 6  # four people, workstation, flow-log delivery
    assert counts["aws:iam/rolePolicy:RolePolicy"] == 6
    assert counts["aws:ec2/instance:Instance"] == 1
    assert counts["aws:ebs/volume:Volume"] == 2 and counts["aws:ec2/volumeAttachment:VolumeAttachment"] == 2
    assert counts["aws:ebs/snapshotCopy:SnapshotCopy"] == 2
    assert counts["aws:ebs/snapshot:Snapshot"] == 0
    assert counts["aws:ec2transitgateway/instanceState:InstanceState"] == 1  # declared "running"
    for forbidden in (
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/route:Route",
        "aws:ec2/keyPair:KeyPair",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ):
        assert counts[forbidden] == 0
    assert {t for t in COMPONENT_TYPES} == {r.type for r in env.resources if not r.custom}


def test_components_parent_their_resources(env: ProgramRun) -> None:
    for r in env.custom():
        assert "forensics:index:" in r.parent, (r.type, r.name, r.parent)


def test_tags_on_everything_taggable(env: ProgramRun) -> None:
    for r in env.custom():
        if r.type in UNTAGGABLE:
            assert "tags" not in r.inputs, r.type
            continue
        tags = r.inputs.get("tags")
        assert tags, (r.type, r.name)
        assert tags["forensics:investigation-id"] == "inv-test-01"
        assert tags["forensics:ticket"] == "SEC-123"
        assert tags["managed-by"] == "forensic-cleanroom"
        assert tags["team"] == "dfir"


# --- network ---


def test_network_is_isolated(env: ProgramRun) -> None:
    vpc = env.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["cidrBlock"] == "10.77.0.0/16"
    assert vpc["enableDnsSupport"] is True and vpc["enableDnsHostnames"] is True
    subnets = sorted(env.of_type("aws:ec2/subnet:Subnet"), key=lambda s: s.inputs["availabilityZone"])
    assert [s.inputs["availabilityZone"] for s in subnets] == [f"{REGION}a", f"{REGION}b"]
    assert [s.inputs["cidrBlock"] for s in subnets] == ["10.77.0.0/20", "10.77.16.0/20"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    table = env.one("aws:ec2/routeTable:RouteTable").inputs
    assert not table.get("routes")
    associations = env.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert len({a.inputs["routeTableId"] for a in associations}) == 1
    assert {
        a.inputs["subnetId"] for a in env.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    } == set(env.outputs["subnetIds"])


def test_subnets_carved_from_a_small_cidr() -> None:
    run = run_program(vpcCidr="10.20.30.0/24")
    cidrs = sorted(s.inputs["cidrBlock"] for s in run.of_type("aws:ec2/subnet:Subnet"))
    assert cidrs == ["10.20.30.0/25", "10.20.30.128/25"]


def test_endpoints(env: ProgramRun) -> None:
    endpoints = env.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
    by_service = {e.inputs["serviceName"].rsplit(".", 1)[-1]: e.inputs for e in endpoints}
    assert set(by_service) == {"s3", "ssm", "ssmmessages", "ec2messages", "kms", "logs"}
    assert by_service["s3"]["vpcEndpointType"] == "Gateway"
    assert len(by_service["s3"]["routeTableIds"]) == 1
    endpoint_sg = env.one("aws:ec2/securityGroup:SecurityGroup", "endpoints").inputs
    for service in ("ssm", "ssmmessages", "ec2messages", "kms", "logs"):
        e = by_service[service]
        assert e["serviceName"] == f"com.amazonaws.{REGION}.{service}"
        assert e["vpcEndpointType"] == "Interface" and e["privateDnsEnabled"] is True
        assert sorted(e["subnetIds"]) == sorted(env.outputs["subnetIds"])
        assert len(e["securityGroupIds"]) == 1
    assert [(r["protocol"], r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in endpoint_sg["ingress"]] == [
        ("tcp", 443, 443, ["10.77.0.0/16"])
    ]
    assert not endpoint_sg.get("egress")
    assert set(env.outputs["endpointIds"]) == set(by_service)


def test_workstation_security_group(env: ProgramRun) -> None:
    sg = env.one("aws:ec2/securityGroup:SecurityGroup", "workstation").inputs
    assert not sg.get("ingress")
    assert [(r["protocol"], r["fromPort"], r["toPort"], r["cidrBlocks"]) for r in sg["egress"]] == [
        ("tcp", 443, 443, ["10.77.0.0/16"])
    ]


def test_flow_logs(env: ProgramRun) -> None:
    flow = env.one("aws:ec2/flowLog:FlowLog").inputs
    group = env.one("aws:cloudwatch/logGroup:LogGroup", "flow-logs").inputs
    assert flow["trafficType"] == "ALL"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group['name']}"
    assert group["kmsKeyId"] == KEY_ARN
    assert env.outputs["flowLogGroup"] == group["name"]
    role = env.one("aws:iam/role:Role", "flow-logs").inputs
    trust = json.loads(role["assumeRolePolicy"])
    assert statements_of(trust)[0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    policy = json.loads(env.one("aws:iam/rolePolicy:RolePolicy", "flow-logs").inputs["policy"])
    (statement,) = statements_of(policy)
    group_arn = flow["logDestination"]
    assert statement["Resource"] == [group_arn, f"{group_arn}:*"]


# --- the workstation ---


def test_instance_hardening(env: ProgramRun) -> None:
    instance = env.one("aws:ec2/instance:Instance").inputs
    assert instance["ami"] == AMI_ID
    assert instance["instanceType"] == "t3.large"
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert instance["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert instance["associatePublicIpAddress"] is False
    assert not instance.get("keyName")
    root = instance["rootBlockDevice"]
    assert root["encrypted"] is True and root["kmsKeyId"] == KEY_ARN
    assert instance["subnetId"] == env.outputs["subnetIds"][0]
    assert instance["vpcSecurityGroupIds"] == [env.outputs["securityGroupId"]]
    assert instance["iamInstanceProfile"] == "forensics-inv-test-01-workstation"
    script = instance["userData"]
    assert script.startswith("#!/bin/bash")
    assert "mount -o ro,noload" in script
    for sid, letter in zip(SNAPSHOTS, "fg", strict=True):
        assert f"mount_evidence {letter} {sid}" in script


def test_evidence_volumes_attached(env: ProgramRun) -> None:
    volumes = env.of_type("aws:ebs/volume:Volume")
    copies = env.of_type("aws:ebs/snapshotCopy:SnapshotCopy")
    assert sorted(c.inputs["sourceSnapshotId"] for c in copies) == sorted(SNAPSHOTS)
    # Made from the copies, never from the original snapshots.
    assert sorted(v.inputs["snapshotId"] for v in volumes) == sorted(
        e["copySnapshotId"] for e in env.outputs["evidence"].values()
    )
    assert not {v.inputs["snapshotId"] for v in volumes} & set(SNAPSHOTS)
    for v in volumes:
        assert v.inputs["encrypted"] is True and v.inputs["kmsKeyId"] == KEY_ARN
        assert v.inputs["availabilityZone"] == f"{REGION}a"
        assert v.inputs["tags"]["forensics:read-only"] == "true"
    attachments = env.of_type("aws:ec2/volumeAttachment:VolumeAttachment")
    assert sorted(a.inputs["deviceName"] for a in attachments) == ["/dev/sdf", "/dev/sdg"]
    assert {a.inputs["instanceId"] for a in attachments} == {env.outputs["instanceId"]}
    assert sorted(a.inputs["volumeId"] for a in attachments) == sorted(env.outputs["evidenceVolumeIds"])
    assert len(env.outputs["evidenceVolumeIds"]) == 2


def test_no_evidence_no_volumes() -> None:
    run = run_program()
    assert run.of_type("aws:ebs/volume:Volume") == []
    assert run.of_type("aws:ebs/snapshotCopy:SnapshotCopy") == []
    assert run.outputs["evidenceVolumeIds"] == [] and run.outputs["evidence"] == {}


def test_session_logging(env: ProgramRun) -> None:
    group = env.one("aws:cloudwatch/logGroup:LogGroup", "session").inputs
    assert group["kmsKeyId"] == KEY_ARN
    doc = env.one("aws:ssm/document:Document", "session-prefs").inputs
    assert doc["documentType"] == "Session"
    assert doc["name"] == "forensics-inv-test-01-session-prefs"
    content = json.loads(doc["content"])
    assert content["schemaVersion"] == "1.0" and content["sessionType"] == "Standard_Stream"
    assert content["inputs"]["cloudWatchLogGroupName"] == group["name"]
    assert content["inputs"]["cloudWatchEncryptionEnabled"] is True
    assert content["inputs"]["kmsKeyId"] == env.outputs["kmsKeyId"]
    topic = env.one("aws:sns/topic:Topic").inputs
    assert topic["kmsMasterKeyId"] == KEY_ARN
    assert env.outputs["sessionLogGroup"] == group["name"]


def test_workstation_role(env: ProgramRun) -> None:
    role = env.one("aws:iam/role:Role", "workstation").inputs
    assert statements_of(json.loads(role["assumeRolePolicy"]))[0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    profile = env.one("aws:iam/instanceProfile:InstanceProfile").inputs
    assert profile["role"] == role["name"]
    actions = _allowed_actions(_role_policy(env, "workstation"))
    assert {
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ec2messages:GetMessages",
        "s3:GetObject",
        "s3:ListBucket",
        "kms:Decrypt",
        "logs:PutLogEvents",
    } <= actions
    assert not {"s3:PutObject", "s3:DeleteObject"} & actions


# --- the AMI sources ---


def test_ami_age_output(env: ProgramRun) -> None:
    assert env.outputs["amiId"] == AMI_ID
    assert env.outputs["amiAgeDays"] == AMI_AGE_DAYS


def test_ami_from_ssm_parameter() -> None:
    run = run_program(amiId=None)
    assert [t for t, _ in run.calls] == ["aws:ssm/getParameter:getParameter", "aws:ec2/getAmi:getAmi"]
    assert run.calls[0][1]["name"] == "/forensics/golden-ami/latest"
    assert run.outputs["amiId"] == SSM_AMI_ID
    assert run.one("aws:ec2/instance:Instance").inputs["ami"] == SSM_AMI_ID


@pytest.mark.parametrize(
    "source", [{}, {"amiId": None}, {"amiId": None, "amiTag": "forensics:golden-ami=true"}]
)
def test_every_ami_lookup_is_limited_to_the_configured_owners(source: dict[str, object]) -> None:
    """An explicit id, a published parameter or a tag: the image must still belong to a configured owner."""
    for owners, expected in ((None, ["self"]), (["111122223333"], ["111122223333"])):
        extra = {"amiOwners": owners} if owners else {}
        run = run_program(**source, **extra)
        lookups = [args for token, args in run.calls if token == "aws:ec2/getAmi:getAmi"]
        assert lookups and all(args["owners"] == expected for args in lookups), lookups


def test_ami_by_tag() -> None:
    run = run_program(amiId=None, amiTag="forensics:golden-ami=true")
    ((token, args),) = run.calls
    assert token == "aws:ec2/getAmi:getAmi"
    assert args["mostRecent"] is True and args["owners"] == ["self"]
    assert {"name": "tag:forensics:golden-ami", "values": ["true"]} in args["filters"]
    assert run.outputs["amiId"] == TAG_AMI_ID


# --- evidence bucket ---


def test_bucket(env: ProgramRun) -> None:
    bucket = env.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == BUCKET
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.inputs["forceDestroy"] is False
    assert env.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"][
        "status"
    ] == ("Enabled")
    (rule,) = env.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY_ARN,
    }
    assert rule["bucketKeyEnabled"] is True
    block = env.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    lock = env.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs
    assert lock["rule"]["defaultRetention"] == {"mode": "GOVERNANCE", "days": 30}
    keys = {o.inputs["key"] for o in env.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert keys == {
        "incoming/evidence-artifacts/",
        "active-investigation/extracted-artifacts/",
        "active-investigation/notes/",
        "active-investigation/reports/",
        "legal-hold/",
    }
    assert env.outputs["evidenceBucket"] == BUCKET and env.outputs["evidenceBucketArn"] == BUCKET_ARN


def test_object_lock_from_config() -> None:
    run = run_program(objectLockMode="COMPLIANCE", objectLockRetentionDays=365)
    lock = run.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs
    assert lock["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 365}


def test_bucket_policy(env: ProgramRun) -> None:
    policy = env.policy("aws:s3/bucketPolicy:BucketPolicy", "")
    statements = statements_of(policy)
    assert all(s["Effect"] == "Deny" for s in statements)
    guardians = {f"arn:aws:iam::{ACCOUNT}:role/forensics-break-glass"}
    (rails,) = [s for s in statements if s["Sid"] == "DenyGuardRailChangesExceptBreakGlassAndDeployment"]
    assert {"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration"} <= set(
        rails["Action"]
    )
    assert {"s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:DeleteBucket"} <= set(
        rails["Action"]
    )
    assert rails["Resource"] == [BUCKET_ARN] and rails["Principal"] == "*"
    assert set(rails["Condition"]["StringNotLike"]["aws:PrincipalArn"]) == guardians
    (bypass,) = [s for s in statements if s["Action"] == ["s3:BypassGovernanceRetention"]]
    assert set(bypass["Condition"]["StringNotLike"]["aws:PrincipalArn"]) == guardians
    tls = [
        s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(tls) == 1 and tls[0]["Resource"] == [BUCKET_ARN, f"{BUCKET_ARN}/*"]
    (others,) = [s for s in statements if s["Sid"] == "DenyObjectAccessExceptEvidenceRoles"]
    allowed = set(others["Condition"]["StringNotLike"]["aws:PrincipalArn"])
    assert allowed == {
        f"arn:aws:iam::{ACCOUNT}:role/forensics-inv-test-01-{r}"
        for r in ("responder", "investigator", "custodian", "analyst", "workstation")
    }
    # Everything but the bucket itself and the empty folder markers.
    assert others["NotResource"][0] == BUCKET_ARN
    assert f"{BUCKET_ARN}/incoming/evidence-artifacts/" in others["NotResource"]
    assert all(r == BUCKET_ARN or r.endswith("/") for r in others["NotResource"])


def test_evidence_retained_by_default(env: ProgramRun) -> None:
    retained = {r.type for r in env.resources if r.retain_on_delete}
    assert retained == {
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "aws:ebs/snapshotCopy:SnapshotCopy",  # the copies of the evidence snapshots
        "aws:kms/key:Key",  # the retained evidence (and the freeze snapshots) stay decryptable
    }
    assert all(r.retain_on_delete for r in env.of_type("aws:s3/bucketObjectv2:BucketObjectv2"))


def test_evidence_not_retained_when_disabled() -> None:
    run = run_program(retainEvidenceBucket=False, evidenceSnapshotIds=SNAPSHOTS)
    # The key alone stays: freeze snapshots, kept for good, are encrypted with it.
    assert [r.type for r in run.resources if r.retain_on_delete] == ["aws:kms/key:Key"]


# --- access ---


def test_kms_key(env: ProgramRun) -> None:
    key = env.one("aws:kms/key:Key").inputs
    assert key["enableKeyRotation"] is True
    assert 7 <= key["deletionWindowInDays"] <= 30
    assert env.one("aws:kms/alias:Alias").inputs["name"] == "alias/forensics-inv-test-01"
    statements = statements_of(json.loads(key["policy"]))
    # No kms:* for anyone, and nothing at all for the account root.
    assert not [s for s in statements if {"kms:*", "*"} & set(as_list(s["Action"]))]
    assert ":root" not in json.dumps([s.get("Principal") for s in statements])
    allows = [s for s in statements if s["Effect"] == "Allow"]
    who_deletes = [s for s in allows if "kms:ScheduleKeyDeletion" in as_list(s["Action"])]
    assert [s["Principal"] for s in who_deletes] == [
        {"AWS": f"arn:aws:iam::{ACCOUNT}:role/forensics-break-glass"}
    ]
    (deny,) = [s for s in statements if s["Sid"] == "OnlyBreakGlassSchedulesDeletion"]
    assert deny["Effect"] == "Deny" and "kms:ScheduleKeyDeletion" in deny["Action"]
    # People use the key only through S3, on this investigation's bucket; the workstation only through EC2.
    for role in ("Responder", "Investigator", "Custodian", "Analyst"):
        (use,) = [s for s in allows if s["Sid"].startswith(role)]
        assert use["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"
        assert use["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [BUCKET_ARN]
        assert "kms:ReEncryptFrom" not in use["Action"]
    (disks,) = [s for s in allows if s["Sid"] == "WorkstationDisksThroughEc2"]
    assert disks["Condition"]["StringEquals"]["kms:ViaService"] == f"ec2.{REGION}.amazonaws.com"
    analyst = next(s for s in allows if s["Sid"].startswith("Analyst"))
    assert analyst["Action"] == ["kms:Decrypt"]
    logs = next(s for s in statements if s["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"})
    assert "kms:Decrypt" in logs["Action"]
    assert env.outputs["kmsKeyArn"] == KEY_ARN


def test_roles_trust_the_configured_principals() -> None:
    principals = ["arn:aws:iam::210987654321:role/IncidentResponse"]
    run = run_program(trustedPrincipals=principals)
    for role in ("responder", "investigator", "custodian", "analyst"):
        trust = statements_of(json.loads(run.one("aws:iam/role:Role", f"-{role}").inputs["assumeRolePolicy"]))
        assert [s["Principal"] for s in trust] == [{"AWS": principals}]
        # The standing way in needs MFA and this investigation's session tag; never just a source identity
        # (the caller chooses it): a named person comes in through a grant bound to their own identity.
        (standing,) = trust
        assert standing["Condition"]["StringEquals"] == {
            "aws:RequestTag/forensics-investigation": "inv-test-01"
        }
        assert standing["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}


def test_default_trust_is_break_glass_never_the_account_root(env: ProgramRun) -> None:
    trust = json.loads(env.one("aws:iam/role:Role", "-analyst").inputs["assumeRolePolicy"])
    assert {json.dumps(s["Principal"]) for s in statements_of(trust)} == {
        json.dumps({"AWS": [f"arn:aws:iam::{ACCOUNT}:role/forensics-break-glass"]})
    }
    with pytest.raises(Exception, match="root is refused"):
        run_program(trustedPrincipals=[f"arn:aws:iam::{ACCOUNT}:root"])


def test_least_privilege(env: ProgramRun) -> None:
    for r in env.of_type("aws:iam/rolePolicy:RolePolicy"):
        for s in statements_of(json.loads(r.inputs["policy"])):
            if s["Effect"] == "Deny":
                continue
            assert "*" not in as_list(s["Action"]), (r.name, s)
            assert "*" not in as_list(s["Resource"]), (r.name, s)
    roles = ("responder", "investigator", "custodian", "analyst")
    docs = {role: _role_policy(env, role) for role in roles}
    actions = {role: _allowed_actions(doc) for role, doc in docs.items()}
    for role in ("responder", "investigator", "analyst"):
        assert not {"s3:DeleteObject", "s3:DeleteObjectVersion"} & actions[role], role
    assert "s3:BypassGovernanceRetention" not in set().union(*actions.values())
    assert {"s3:PutObjectLegalHold", "s3:DeleteObject", "s3:PutObjectRetention"} <= actions["custodian"]
    assert actions["analyst"] & {a for a in actions["analyst"] if a.startswith("s3:Put")} == set()

    def resources(role: str, action: str) -> set[str]:
        return {
            res
            for s in statements_of(docs[role])
            if action in as_list(s["Action"])
            for res in as_list(s["Resource"])
        }

    assert resources("responder", "s3:PutObject") == {f"{BUCKET_ARN}/incoming/evidence-artifacts/*"}
    assert resources("investigator", "s3:PutObject") == {
        f"{BUCKET_ARN}/active-investigation/notes/*",
        f"{BUCKET_ARN}/active-investigation/reports/*",
    }
    assert resources("analyst", "s3:GetObject") == {f"{BUCKET_ARN}/active-investigation/reports/*"}
    start = resources("investigator", "ssm:StartSession")
    assert f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{env.outputs['instanceId']}" in start
    assert f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/forensics-inv-test-01-session-prefs" in start
    # Sessions only through the logged document: the access check is required, the default shell denied.
    (session,) = [
        s for s in statements_of(docs["investigator"]) if s["Sid"] == "StartLoggedSessionOnWorkstationOnly"
    ]
    assert session["Condition"] == {"Bool": {"ssm:SessionDocumentAccessCheck": "true"}}
    (shell,) = [s for s in statements_of(docs["investigator"]) if s["Sid"] == "NoUnloggedShell"]
    assert shell["Effect"] == "Deny"
    assert shell["Resource"] == [f"arn:aws:ssm:{REGION}::document/SSM-SessionManagerRunShell"]
    assert "kms:Decrypt" in actions["investigator"] and "kms:Decrypt" in actions["analyst"]


# --- outputs ---


def test_outputs(env: ProgramRun) -> None:
    assert set(env.outputs) == set(OUTPUT_NAMES)
    assert len(OUTPUT_NAMES) == 26
    assert env.outputs["investigationId"] == "inv-test-01" and env.outputs["ticket"] == "SEC-123"
    assert env.outputs["frozen"] is False and env.outputs["freezeSnapshotIds"] == []
    assert env.outputs["responderRoleArn"].endswith(":role/forensics-inv-test-01-responder")
    assert env.outputs["instanceProfileArn"].endswith(":instance-profile/forensics-inv-test-01-workstation")
    assert env.outputs["alertTopicArn"].startswith("arn:aws:sns:")
    assert all(v is not None for v in env.outputs.values())


def test_nothing_protected_when_not_frozen(env: ProgramRun) -> None:
    assert [r.name for r in env.resources if r.protect] == []


# --- frozen ---


def test_frozen_stops_and_snapshots(frozen: ProgramRun) -> None:
    state = frozen.one("aws:ec2transitgateway/instanceState:InstanceState").inputs
    assert state["state"] == "stopped"
    assert state["instanceId"] == frozen.outputs["instanceId"]
    snapshots = frozen.of_type("aws:ebs/snapshot:Snapshot")
    volume_ids = {s.inputs["volumeId"] for s in snapshots}
    assert volume_ids == {"vol-root0001", *frozen.outputs["evidenceVolumeIds"]}
    assert len(snapshots) == 3
    for s in snapshots:
        assert s.inputs["tags"]["forensics:investigation-id"] == "inv-test-01"
    assert len(frozen.outputs["freezeSnapshotIds"]) == 3
    assert all(sid.startswith("snap-") for sid in frozen.outputs["freezeSnapshotIds"])
    assert frozen.outputs["frozen"] is True


def test_frozen_bucket_retention_is_compliance(frozen: ProgramRun, env: ProgramRun) -> None:
    mode = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
    assert frozen.one(mode).inputs["rule"]["defaultRetention"]["mode"] == "COMPLIANCE"
    assert env.one(mode).inputs["rule"]["defaultRetention"]["mode"] == "GOVERNANCE"


def test_frozen_denies_examiners(frozen: ProgramRun) -> None:
    for role in ("investigator", "analyst"):
        doc = _role_policy(frozen, role, "deny-all-frozen")
        assert statements_of(doc) == [
            {"Sid": "FrozenDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}
        ]
    for role in ("responder", "custodian", "workstation"):
        names = [
            r.inputs["name"]
            for r in frozen.of_type("aws:iam/rolePolicy:RolePolicy")
            if r.inputs["role"] == f"forensics-inv-test-01-{role}"
        ]
        assert "deny-all-frozen" not in names


def test_frozen_legal_holds_are_changed_only_by_the_deployment_and_break_glass(
    frozen: ProgramRun, env: ProgramRun
) -> None:
    """Lifting a hold while frozen is a second person's decision: the bucket policy denies it to everyone
    but the deployment and break-glass, and the custodian's own policy denies it too."""
    name = "DenyLegalHoldChangesWhileFrozenExceptBreakGlassAndDeployment"
    (deny,) = [
        s for s in statements_of(frozen.policy("aws:s3/bucketPolicy:BucketPolicy", "")) if s["Sid"] == name
    ]
    assert (
        deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == ["s3:PutObjectLegalHold"]
    )
    assert deny["Resource"] == [f"{BUCKET_ARN}/*"]
    guardians = set(deny["Condition"]["StringNotLike"]["aws:PrincipalArn"])
    assert guardians == {f"arn:aws:iam::{ACCOUNT}:role/forensics-break-glass"}
    custodian = statements_of(_role_policy(frozen, "custodian", "forensics-custodian"))
    assert [s["Action"] for s in custodian if s["Effect"] == "Deny"] == [["s3:PutObjectLegalHold"]]
    # Not frozen: neither.
    assert name not in {s["Sid"] for s in statements_of(env.policy("aws:s3/bucketPolicy:BucketPolicy", ""))}
    assert all(
        s["Effect"] == "Allow" for s in statements_of(_role_policy(env, "custodian", "forensics-custodian"))
    )


def test_frozen_security_group_has_no_rules(frozen: ProgramRun) -> None:
    sg = frozen.one("aws:ec2/securityGroup:SecurityGroup", "workstation").inputs
    assert not sg.get("ingress") and not sg.get("egress")


def test_frozen_protects_everything(frozen: ProgramRun) -> None:
    unprotected = [(r.type, r.name) for r in frozen.resources if not r.protect]
    assert unprotected == []


# --- config errors surface before anything is built ---


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"vpcCidr": "10.0.0.0/33"}, "forensics:vpcCidr"),
        ({"instanceType": "large"}, "forensics:instanceType"),
        ({"investigationId": None}, "forensics:investigationId"),
        ({"ticket": None}, "forensics:ticket"),
        ({"investigationId": "Bad_Id"}, "forensics:investigationId"),
        ({"amiTag": "golden=true"}, "forensics:amiTag"),
        ({"amiId": None, "amiSsmParameter": ""}, "forensics:amiSsmParameter"),
        ({"objectLockMode": "STRICT"}, "forensics:objectLockMode"),
        ({"objectLockRetentionDays": 0}, "forensics:objectLockRetentionDays"),
        ({"ttlHours": -1}, "forensics:ttlHours"),
    ],
)
def test_program_config_errors(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program(**change)
    assert str(caught.value).startswith(f"{key}: ")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"amiId": MISSING_AMI_ID}, "forensics:amiId"),
        ({"amiId": None, "amiTag": f"Golden={MISSING_TAG_VALUE}"}, "forensics:amiTag"),
        ({"amiId": None, "amiSsmParameter": MISSING_SSM_PARAMETER}, "forensics:amiSsmParameter"),
    ],
)
def test_golden_ami_that_cannot_be_found_names_the_setting(change: dict[str, Any], key: str) -> None:
    registered: list[str] = []
    with pytest.raises(ConfigError) as caught:
        run_program(registered=registered, **change)
    assert str(caught.value).startswith(f"{key}: ") and "could not be found" in str(caught.value)
    assert registered == ["pulumi:pulumi:Stack"]  # nothing of the clean room declared, not even a component


def test_physical_names_fit_aws_limits_for_the_longest_id() -> None:
    longest = "a" * 41
    run = run_program(investigationId=longest)
    for role in run.of_type("aws:iam/role:Role"):
        assert len(role.inputs["name"]) <= 64, role.inputs["name"]
    assert len(run.one("aws:iam/instanceProfile:InstanceProfile").inputs["name"]) <= 128
    assert len(run.one("aws:s3/bucket:Bucket").inputs["bucket"]) <= 63
    assert run.outputs["investigationId"] == longest


def test_mount_command_takes_only_a_letter_and_a_snapshot_id(env: ProgramRun) -> None:
    # The service mounts evidence attached to a running workstation through this document and reads the
    # device's report line back; SSM refuses parameters outside these patterns before any shell sees them.
    doc = env.one("aws:ssm/document:Document", "mount-evidence").inputs
    assert doc["documentType"] == "Command"
    content = json.loads(doc["content"])
    assert content["parameters"] == {
        "action": {"type": "String", "allowedValues": ["mount", "report"]},
        "letter": {"type": "String", "allowedPattern": "^[f-p]$"},
        "snapshot": {"type": "String", "allowedPattern": "^snap-[0-9a-f]{8,17}$"},
    }
    (step,) = content["mainSteps"]
    script = "\n".join(step["inputs"]["runCommand"])
    assert mount_script().rstrip("\n") in script
    assert env.outputs["mountDocument"] == doc["name"]
