"""Containment end to end on the real engine and the local AWS: a sample affected instance in an Auto Scaling
group, behind a target group, with an instance profile, contained through REST and released (with a second
person's approval) back to exactly what was recorded, each checked with boto3 in the source account; the
record is then in the signed manifest of the frozen room. The room is the custody features' shared one
(tests/support/custody_room.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service import statement_signing
from service.cli import app as cli
from service.config import LOCAL_SOURCE_ACCOUNT
from service.containment import isolation
from service.containment import state as instance_state
from service.custody.models import EvidenceArtifact
from tests.support.api import ADMIN, issue, wait_operation
from tests.support.aws import assuming_keys, client_as
from tests.support.custody_room import CUSTODY_ROOM_GROUP, RESPONDER, CustodyRoom
from tests.support.disk_images import SOURCE_ADMIN
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=CUSTODY_ROOM_GROUP)]

TIMEOUT = 600


def _sample_instance(local_aws: LocalAws) -> dict[str, Any]:
    """What an affected web tier looks like: an instance of an Auto Scaling group registered in the group's
    target group, also registered directly in a second one, with its own instance profile and tags."""
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    autoscaling = client_as(local_aws, SOURCE_ADMIN, "autoscaling")
    elbv2 = client_as(local_aws, SOURCE_ADMIN, "elbv2")
    iam = client_as(local_aws, SOURCE_ADMIN, "iam")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone=f"{local_aws.region}a")
    subnet_id = subnet["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc)["GroupId"]
    admin = ec2.create_security_group(GroupName="admin", Description="ssh", VpcId=vpc)["GroupId"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="web-app", AssumeRolePolicyDocument=json.dumps(trust))
    profile = iam.create_instance_profile(InstanceProfileName="web-app")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="web-app", RoleName="web-app")
    group_tg = elbv2.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
    direct_tg = elbv2.create_target_group(Name="metrics", Protocol="HTTP", Port=9100, VpcId=vpc)
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnet_id,
        TargetGroupARNs=[group_tg["TargetGroupArn"]],
    )
    instance_id = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])[
        "AutoScalingGroups"
    ][0]["Instances"][0]["InstanceId"]
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    eni = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[web, admin])
    ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Arn": profile})
    elbv2.register_targets(
        TargetGroupArn=direct_tg["TargetGroups"][0]["TargetGroupArn"],
        Targets=[{"Id": instance_id, "Port": 9100}],
    )
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "app", "Value": "web"}])
    return {"instance_id": instance_id, "vpc": vpc, "profile": profile, "groups": sorted([web, admin])}


def _now(local_aws: LocalAws, instance_id: str) -> dict[str, Any]:
    clients = instance_state.SourceClients(
        **{
            name: client_as(local_aws, SOURCE_ADMIN, name)
            for name in ("ec2", "autoscaling", "elbv2", "elb", "iam")
        }
    )
    return instance_state.read(clients, instance_id, with_subnet_acls=True)


def _contain_and_release(room: CustodyRoom, local_aws: LocalAws) -> dict[str, Any]:
    """The containment of a sample instance and its release, checked on the way; returns its record (the
    evidence artifact holding the state before)."""
    sample = _sample_instance(local_aws)
    instance_id = sample["instance_id"]
    before = _now(local_aws, instance_id)
    assert before["autoScaling"] == {"group": "web", "lifecycleState": "InService"}
    assert len(before["targetGroups"]) == 2 and before["instanceProfile"]["arn"] == sample["profile"]

    engine_client, engine_settings, inv = room.service, room.service_settings, room.inv
    inv_id = inv["id"]
    responder = issue(engine_client, "responder", RESPONDER)
    colleague = issue(engine_client, "responder", "ron@example.com")
    analyst = issue(engine_client, "analyst", "ann@example.com")
    body = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "region": inv["region"], "instance_id": instance_id}

    refused = engine_client.post(f"/v1/investigations/{inv_id}/containment", json=body, headers=analyst)
    assert refused.status_code == 403
    missing = engine_client.post(
        f"/v1/investigations/{inv_id}/containment",
        json={**body, "instance_id": "i-0123456789abcdef0"},
        headers=responder,
    )
    assert missing.status_code == 422 and "cannot be read" in missing.text
    assert _now(local_aws, instance_id)["tags"] == before["tags"]  # nothing was touched by the refusals

    # The subnet too: its network ACL cuts the connections the security groups still track.
    accepted = engine_client.post(
        f"/v1/investigations/{inv_id}/containment",
        json={**body, "isolate_subnet_with_nacl": True},
        headers=responder,
    )
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]

    # boto3 in the source account: out of the group (which launched a replacement) and out of both target
    # groups, only the isolation group on its interface (a group with no rules), the deny-all profile,
    # protected, tagged; still running.
    ec2 = client_as(local_aws, SOURCE_ADMIN, "ec2")
    autoscaling = client_as(local_aws, SOURCE_ADMIN, "autoscaling")
    iam = client_as(local_aws, SOURCE_ADMIN, "iam")
    contained = _now(local_aws, instance_id)
    assert contained["autoScaling"] is None
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert instance_id not in [i["InstanceId"] for i in group["Instances"]] and len(group["Instances"]) == 2
    assert contained["targetGroups"] == []
    (isolation_group,) = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [sample["vpc"]]},
            {"Name": "group-name", "Values": ["forensics-isolation"]},
        ]
    )["SecurityGroups"]
    assert isolation_group["IpPermissions"] == [] and isolation_group["IpPermissionsEgress"] == []
    assert [e["groups"] for e in contained["networkInterfaces"]] == [[isolation_group["GroupId"]]]
    assert contained["instanceProfile"]["arn"].endswith(f":instance-profile/{isolation.DENY_ALL_PROFILE}")
    deny = iam.get_role_policy(RoleName=isolation.DENY_ALL_PROFILE, PolicyName="deny-all")["PolicyDocument"]
    assert deny["Statement"] == [{"Effect": "Deny", "Action": "*", "Resource": "*"}]
    assert contained["attributes"] == {
        "disableApiTermination": True,
        "disableApiStop": True,
        "instanceInitiatedShutdownBehavior": "stop",
    }
    assert contained["tags"][instance_state.TAG_CONTAINED] == "true"
    assert contained["tags"][instance_state.TAG_INVESTIGATION] == inv_id
    assert contained["state"] == "running"
    (acl,) = contained["subnetNetworkAcls"]
    assert acl["networkAclId"] != before["subnetNetworkAcls"][0]["networkAclId"]
    (deny_acl,) = ec2.describe_network_acls(NetworkAclIds=[acl["networkAclId"]])["NetworkAcls"]
    assert all(entry["RuleAction"] == "deny" for entry in deny_acl["Entries"])
    with pytest.raises(ec2.exceptions.ClientError, match="OperationNotPermitted"):
        ec2.terminate_instances(InstanceIds=[instance_id])

    # The record: an artifact in the evidence bucket, hashed, in the custody chain, holding the state before.
    artifacts = engine_client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
    (record,) = [a for a in artifacts if a["source"].get("instance_id") == instance_id]
    assert contained["tags"][instance_state.TAG_ARTIFACT] == record["id"]
    s3 = client_as(local_aws, engine_settings.accounts[inv["region"]].deploy_role_arn or "", "s3")
    stored = s3.get_object(
        Bucket=record["source"]["bucket"],
        Key=record["source"]["key"],
        VersionId=record["source"]["version_id"],
    )["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == record["sha256_source"]
    recorded = json.loads(stored)["state"]
    assert instance_state.comparable(recorded) == instance_state.comparable(
        json.loads(json.dumps(before, default=str))
    )
    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"], custody["chain_problem"]
    custody = custody["events"]
    steps = [e["details"].get("step") for e in custody if e["event"] == "contained"]
    assert steps == ["recorded", "protected", "out_of_service", "isolated", "credentials_denied", "tagged"]

    # A second containment of the same instance is refused (it would record the isolation as the original).
    again = engine_client.post(f"/v1/investigations/{inv_id}/containment", json=body, headers=responder)
    again_op = wait_operation(engine_client, again.json()["operation"]["id"], timeout=TIMEOUT)
    assert again_op["state"] == "failed" and again_op["error"]["code"] == "already_contained"

    # A record whose hash no longer matches what was recorded (someone edited the database) restores nothing.
    session_factory = engine_client.app.state.session_factory  # type: ignore[attr-defined]
    with session_factory() as session:
        session.get(EvidenceArtifact, record["id"]).sha256_source = "0" * 64
        session.commit()
    tampered = engine_client.post(
        f"/v1/investigations/{inv_id}/release-containment", json=body, headers=responder
    )
    approval = tampered.json()["approval"]["id"]
    approved = engine_client.post(f"/v1/approvals/{approval}/approve", headers=colleague)
    refused_op = wait_operation(engine_client, approved.json()["operation"]["id"], timeout=TIMEOUT)
    assert refused_op["state"] == "failed" and refused_op["error"]["code"] == "evidence_mismatch"
    assert _now(local_aws, instance_id)["autoScaling"] is None  # nothing restored
    with session_factory() as session:
        session.get(EvidenceArtifact, record["id"]).sha256_source = record["sha256_source"]
        session.commit()

    # Release: an analyst may not ask; the responder's request waits for a second person; the requester may
    # not approve it herself; a colleague does, and everything recorded comes back.
    assert (
        engine_client.post(
            f"/v1/investigations/{inv_id}/release-containment", json=body, headers=analyst
        ).status_code
        == 403
    )
    held = engine_client.post(
        f"/v1/investigations/{inv_id}/release-containment", json=body, headers=responder
    )
    assert held.status_code == 202 and "approval" in held.json(), held.text
    approval = held.json()["approval"]["id"]
    assert _now(local_aws, instance_id)["autoScaling"] is None  # nothing done until approved
    assert engine_client.post(f"/v1/approvals/{approval}/approve", headers=responder).status_code == 403
    approved = engine_client.post(f"/v1/approvals/{approval}/approve", headers=colleague)
    assert approved.status_code == 200, approved.text
    release_op = approved.json()["operation"]["id"]
    done = wait_operation(engine_client, release_op, timeout=TIMEOUT)
    assert done["state"] == "succeeded", done["error"]

    after = _now(local_aws, instance_id)
    assert instance_state.comparable(after) == instance_state.comparable(before)
    assert after["networkInterfaces"][0]["groups"] == sample["groups"]
    assert after["instanceProfile"]["arn"] == sample["profile"]
    assert after["autoScaling"] == {"group": "web", "lifecycleState": "InService"}
    assert after["tags"] == before["tags"] and after["attributes"] == before["attributes"]
    chain = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert chain["chain_ok"], chain["chain_problem"]
    restored = [e["details"].get("step") for e in chain["events"] if e["event"] == "restored"]
    assert restored == ["restored", "verified"]

    return record


def test_an_instance_is_contained_and_released_back_to_exactly_what_was_recorded(
    open_custody_room: CustodyRoom, local_aws: LocalAws
) -> None:
    open_custody_room.flow("containment", lambda: _contain_and_release(open_custody_room, local_aws))


def test_the_containment_record_is_in_the_signed_manifest_of_the_frozen_room(
    custody_room_to_freeze: CustodyRoom, local_aws: LocalAws, tmp_path: Path
) -> None:
    room = custody_room_to_freeze
    record = room.flow("containment", lambda: _contain_and_release(room, local_aws))
    engine_settings, inv = room.service_settings, room.inv
    s3 = client_as(local_aws, engine_settings.accounts[inv["region"]].deploy_role_arn or "", "s3")

    # Frozen: the record is in the signed manifest with its hash, and `forensics verify` re-hashes it.
    frozen_op = room.frozen(local_aws)
    bucket, key = frozen_op["result"]["legal_hold"]["manifest"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    held = [o for o in manifest["statement"]["objects"] if o["key"] == record["source"]["key"]]
    assert held == [
        {
            "bucket": record["source"]["bucket"],
            "key": record["source"]["key"],
            "versionId": record["source"]["version_id"],
            "sha256": record["sha256_source"],
        }
    ]
    assert record["id"] in json.dumps(manifest["statement"]["artifacts"])
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(statement_signing.signer_for(engine_settings, inv["region"]).public_key_pem())
    manifest_file = tmp_path / "manifest.signed.json"
    manifest_file.write_text(json.dumps(manifest))
    deploy = engine_settings.accounts[inv["region"]].deploy_role_arn or ""
    # The deploy role trusts only the service: the verifier here holds a session of it as the service does.
    sts = local_aws._client("sts", *assuming_keys(local_aws, deploy))
    creds = sts.assume_role(RoleArn=deploy, RoleSessionName="verifier")["Credentials"]
    verified = CliRunner().invoke(
        cli,
        ["verify", str(manifest_file), "--public-key", str(key_file),
         "--endpoint-url", local_aws.endpoint_url, "--no-verify-tls"],
        env={
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_PROFILE": None,
            "AWS_DEFAULT_REGION": None,
        },
    )  # fmt: skip
    assert verified.exit_code == 0, verified.output
