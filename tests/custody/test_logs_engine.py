"""Log collection end to end, in a clean room on the real engine: an instance of the sample affected account
(with an instance profile, its interface covered by a VPC flow log) has records seeded inside and outside a
window; collecting that window writes one JSON Lines artifact per source holding exactly the records inside
it, each hashed, in the custody chain, in the freeze manifest, and re-hashed by `forensics verify`. An
analyst is refused (403, audited). The room is the custody features' shared one
(tests/support/custody_room.py): the freeze is its last stage.

Flow logs come from the local AWS (DescribeFlowLogs, CloudWatch Logs), the instance profile's role from its
IAM. CloudTrail's event history, Config history, Security Hub and GuardDuty findings are not served by the
local AWS: those clients are botocore Stubbers (every call and answer checked against the API model) that
answer with records both inside and outside the window (tests/support/log_records.py builds them)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from service import statement_signing
from service.cli import app as cli
from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from service.custody import log_collection
from tests.support import log_records as records
from tests.support.api import ADMIN, issue, wait_operation
from tests.support.aws import client_as
from tests.support.custody_room import CUSTODY_ROOM_GROUP, RESPONDER, CustodyRoom
from tests.support.disk_images import SOURCE_ROLE
from tests.support.targets import local_target
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=CUSTODY_ROOM_GROUP)]

TIMEOUT = 900
# This module's analyst: the audit entries of the refusal it looks for are its own.
ANALYST = "analyst@example.com"
runner = CliRunner()


def _flow_line(account: str, eni: str, at: datetime, port: int) -> str:
    start = int(at.timestamp())
    return f"2 {account} {eni} 10.0.0.5 203.0.113.9 44321 {port} 6 10 840 {start} {start + 60} ACCEPT OK"


def _sample_instance(local_aws: LocalAws) -> dict[str, Any]:
    """An instance of the affected account with an instance profile, its interface's flow log in CloudWatch
    Logs."""
    ec2, iam = client_as(local_aws, SOURCE_ROLE, "ec2"), client_as(local_aws, SOURCE_ROLE, "iam")
    suffix = uuid.uuid4().hex[:8]
    role = f"web-app-{suffix}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=role)
    iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": role}
    )["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][
        0
    ]
    return {
        "instance_id": instance["InstanceId"],
        "role": role,
        "eni": described["NetworkInterfaces"][0]["NetworkInterfaceId"],
        "volumes": sorted(m["Ebs"]["VolumeId"] for m in described["BlockDeviceMappings"]),
        "security_groups": sorted(g["GroupId"] for g in described["SecurityGroups"]),
    }


def _seed_flow_log(local_aws: LocalAws, eni: str, times: list[tuple[datetime, int]]) -> None:
    ec2, logs = client_as(local_aws, SOURCE_ROLE, "ec2"), client_as(local_aws, SOURCE_ROLE, "logs")
    group = f"/vpc/flow-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    ec2.create_flow_logs(
        ResourceIds=[eni],
        ResourceType="NetworkInterface",
        TrafficType="ALL",
        LogGroupName=group,
        DeliverLogsPermissionArn=f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/flow-logs-delivery",
    )
    logs.create_log_stream(logGroupName=group, logStreamName=f"{eni}-all")
    logs.put_log_events(
        logGroupName=group,
        logStreamName=f"{eni}-all",
        logEvents=[
            {"timestamp": int(t.timestamp() * 1000), "message": _flow_line(LOCAL_SOURCE_ACCOUNT, eni, t, p)}
            for t, p in times
        ],
    )


def _stubs(region: str, sample: dict[str, Any], since: datetime, until: datetime) -> dict[str, Stubber]:
    """The sources the local AWS does not serve, answering with records inside and outside the window (what
    the service asked for is checked by the Stubber: the window and the instance in every call)."""
    inside, before, after = since + timedelta(minutes=20), since - timedelta(minutes=5), until
    instance_id = sample["instance_id"]
    about = records.About(LOCAL_SOURCE_ACCOUNT, region, instance_id, sample["role"])

    def stub(service: str) -> Stubber:
        client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        return Stubber(client)

    trail = stub("cloudtrail")
    window = {"StartTime": since, "EndTime": until}

    def lookup(attribute: str, value: str, events: list[dict[str, Any]]) -> None:
        attributes = [{"AttributeKey": attribute, "AttributeValue": value}]
        trail.add_response("lookup_events", {"Events": events}, {"LookupAttributes": attributes, **window})

    lookup("ResourceName", instance_id, [records.trail_event(about, inside, "StopInstances")])
    lookup("ResourceName", sample["role"], [records.trail_event(about, before, "PutRolePolicy")])
    lookup(
        "Username",
        instance_id,
        [records.trail_event(about, after, "ListBuckets", key="ASIAK", user=instance_id)],
    )
    lookup(
        "AccessKeyId",
        "ASIAK",
        [
            records.trail_event(
                about, inside + timedelta(minutes=1), "GetObject", key="ASIAK", user=instance_id
            )
        ],
    )

    config = stub("config")
    config.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [{"name": "default", "recording": True}]},
        {},
    )
    config.add_response(
        "get_resource_config_history",
        {
            "configurationItems": [
                records.config_item("AWS::EC2::Instance", instance_id, t) for t in (before, inside, after)
            ]
        },
        {
            "resourceType": "AWS::EC2::Instance",
            "resourceId": instance_id,
            "earlierTime": since,
            "laterTime": until,
            "chronologicalOrder": "Forward",
        },
    )
    # Config has not recorded the volumes and groups (as for resources created before its recorder).
    others = [("AWS::EC2::Volume", v) for v in sample["volumes"]]
    others += [("AWS::EC2::SecurityGroup", g) for g in sample["security_groups"]]
    for resource_type, resource_id in others:
        params = {
            "resourceType": resource_type,
            "resourceId": resource_id,
            "earlierTime": since,
            "laterTime": until,
            "chronologicalOrder": "Forward",
        }
        config.add_client_error(
            "get_resource_config_history", "ResourceNotDiscoveredException", expected_params=params
        )
    hub = stub("securityhub")
    arn = f"arn:aws:ec2:{region}:{LOCAL_SOURCE_ACCOUNT}:instance/{instance_id}"
    hub.add_response(
        "get_findings",
        {"Findings": [records.asff(about, "sh-in", inside), records.asff(about, "sh-out", after)]},
        {
            "Filters": {
                "ResourceId": [{"Value": arn, "Comparison": "EQUALS"}],
                "UpdatedAt": [{"Start": since.isoformat(), "End": until.isoformat()}],
            }
        },
    )
    duty = stub("guardduty")
    duty.add_response("list_detectors", {"DetectorIds": ["d1"]}, {})
    duty.add_response("get_detector", {"ServiceRole": "arn:aws:iam::1:role/x", "Status": "ENABLED"}, None)
    duty.add_response("list_findings", {"FindingIds": ["g-in", "g-out"]}, None)
    duty.add_response(
        "get_findings",
        {
            "Findings": [
                records.guardduty_finding(about, "g-in", inside),
                records.guardduty_finding(about, "g-out", before),
            ]
        },
        None,
    )
    return {"cloudtrail": trail, "config": config, "securityhub": hub, "guardduty": duty}


def _sources_off(region: str, sample: dict[str, Any], since: datetime, until: datetime) -> dict[str, Stubber]:
    """An account where nothing names the instance in CloudTrail, Security Hub is not subscribed, GuardDuty
    has no detector, and Config refuses the role."""
    instance_id = sample["instance_id"]

    def stub(service: str) -> Stubber:
        client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        return Stubber(client)

    trail = stub("cloudtrail")
    for attribute, value in (
        ("ResourceName", instance_id),
        ("ResourceName", sample["role"]),
        ("Username", instance_id),
    ):
        attributes = [{"AttributeKey": attribute, "AttributeValue": value}]
        trail.add_response(
            "lookup_events",
            {"Events": []},
            {"LookupAttributes": attributes, "StartTime": since, "EndTime": until},
        )
    config = stub("config")
    config.add_client_error(
        "describe_configuration_recorder_status",
        "AccessDeniedException",
        "not authorized",
        400,
        expected_params={},
    )
    hub = stub("securityhub")
    hub.add_client_error(
        "get_findings", "InvalidAccessException", "Account is not subscribed to AWS Security Hub", 401
    )
    duty = stub("guardduty")
    duty.add_response("list_detectors", {"DetectorIds": []}, {})
    return {"cloudtrail": trail, "config": config, "securityhub": hub, "guardduty": duty}


def _verify(settings: Settings, local_aws: LocalAws, role_arn: str, statement: Path, key: Path) -> Any:
    target = local_target(settings, local_aws)
    creds = target.credentials_for(role_arn)
    return runner.invoke(
        cli,
        ["verify", str(statement), "--public-key", str(key), *target.verifier_arguments()],
        env={
            "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": creds["aws_session_token"],
            "AWS_PROFILE": None,
            "AWS_DEFAULT_REGION": None,
        },
    )


def _collect(
    room: CustodyRoom, local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> dict[str, dict[str, Any]]:
    """Two windows of a sample instance's logs collected (the second with sources off or refusing), and an
    analyst refused, checked on the way; returns the log artifacts of both windows."""
    engine_client, engine_settings, inv = room.service, room.service_settings, room.inv
    inv_id, region = inv["id"], inv["region"]
    sample = _sample_instance(local_aws)
    now = datetime.now(UTC).replace(microsecond=0)
    since, until = now - timedelta(hours=3), now - timedelta(hours=1)
    _seed_flow_log(
        local_aws,
        sample["eni"],
        [(since - timedelta(minutes=10), 21), (since + timedelta(minutes=1), 22), (until, 23)],
    )
    stubs = _stubs(region, sample, since, until)
    real_client = log_collection._client

    def client(ctx: Any, inv_row: Any, params: Any, service: str) -> Any:
        if service in stubs:
            stubs[service].activate()
            return stubs[service].client
        return real_client(ctx, inv_row, params, service)

    monkeypatch.setattr(log_collection, "_client", client)
    body = {
        "source_account_id": LOCAL_SOURCE_ACCOUNT,
        "region": region,
        "instance_id": sample["instance_id"],
        "since": since.isoformat(),
        "until": until.isoformat(),
    }

    # An analyst may not: 403, audited, nothing queued.
    analyst = issue(engine_client, "analyst", ANALYST)
    refused = engine_client.post(f"/v1/investigations/{inv_id}/logs", json=body, headers=analyst)
    assert refused.status_code == 403, refused.text
    audited = engine_client.get(f"/v1/audit?actor={ANALYST}", headers=ADMIN).json()["items"]
    assert [(e["action"], e["outcome"]) for e in audited] == [
        (f"POST /v1/investigations/{inv_id}/logs", "refused:forbidden")
    ]
    # A window that ends before it starts: 422, before anything runs.
    backwards = {**body, "since": body["until"], "until": body["since"]}
    bad = engine_client.post(f"/v1/investigations/{inv_id}/logs", json=backwards, headers=ADMIN)
    assert bad.status_code == 422 and "since must be before until" in bad.text

    responder = issue(engine_client, "responder", RESPONDER)
    accepted = engine_client.post(f"/v1/investigations/{inv_id}/logs", json=body, headers=responder)
    assert accepted.status_code == 202, accepted.text
    op = wait_operation(engine_client, accepted.json()["operation"]["id"], timeout=TIMEOUT)
    assert op["state"] == "succeeded", op["error"]
    for stub in stubs.values():
        stub.assert_no_pending_responses()

    artifacts = {
        a["source"]["log_source"]: a
        for a in engine_client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
        if a["kind"] == "log"
    }
    assert sorted(artifacts) == ["cloudtrail", "config", "flow_logs", "guardduty", "securityhub"]
    deploy_role = engine_settings.accounts[region].deploy_role_arn
    assert deploy_role
    s3 = client_as(local_aws, deploy_role, "s3")
    held: dict[str, list[dict[str, Any]]] = {}
    for name, artifact in artifacts.items():
        source = artifact["source"]
        assert source["window"] == {"since": since.isoformat(), "until": until.isoformat()}
        assert source["instance_id"] == sample["instance_id"] and source["query"]
        got = s3.get_object(Bucket=source["bucket"], Key=source["key"], VersionId=source["version_id"])
        content = got["Body"].read()
        assert hashlib.sha256(content).hexdigest() == artifact["sha256_source"] == artifact["sha256_copy"]
        assert artifact["status"] == "verified" and artifact["acquired_by"] == "rita@example.com"
        held[name] = [json.loads(line) for line in content.decode().splitlines()]
        assert len(held[name]) == source["record_count"]
        hold = s3.get_object_legal_hold(
            Bucket=source["bucket"], Key=source["key"], VersionId=source["version_id"]
        )
        assert hold["LegalHold"]["Status"] == "ON"

    # Exactly the records inside the window, from every source.
    assert [r["eventName"] for r in held["cloudtrail"]] == ["StopInstances", "GetObject"]
    assert [r["fields"]["dstport"] for r in held["flow_logs"]] == ["22"]
    assert len(held["config"]) == 1
    assert [f["Id"] for f in held["securityhub"]] == ["sh-in"]
    assert [f["Id"] for f in held["guardduty"]] == ["g-in"]

    # In the custody chain: acquired, with the hash, the query and the count.
    custody = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()
    assert custody["chain_ok"], custody["chain_problem"]
    acquired = {e["artifact_id"]: e for e in custody["events"] if e["event"] == "acquired"}
    for artifact in artifacts.values():
        event = acquired[artifact["id"]]
        assert event["hashes"]["sha256"] == artifact["sha256_source"]
        assert event["details"]["record_count"] == artifact["source"]["record_count"]
        assert event["details"]["query"] == artifact["source"]["query"]
        assert event["actor"] == "rita@example.com"

    # The next half hour, where Security Hub and GuardDuty are off and Config refuses the role: those are
    # custody entries without artifacts; the others are still collected; the operation fails naming Config.
    later = {**body, "since": until.isoformat(), "until": (until + timedelta(minutes=30)).isoformat()}
    stubs.clear()
    stubs.update(_sources_off(region, sample, until, until + timedelta(minutes=30)))
    again = engine_client.post(f"/v1/investigations/{inv_id}/logs", json=later, headers=responder)
    assert again.status_code == 202, again.text
    second = wait_operation(engine_client, again.json()["operation"]["id"], timeout=TIMEOUT)
    assert second["state"] == "failed" and second["error"]["code"] == "logs_failed"
    assert (
        "config (ClientError" in second["error"]["message"] and "AccessDenied" in second["error"]["message"]
    )
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    now_held = [
        a
        for a in engine_client.get(f"/v1/investigations/{inv_id}/evidence", headers=ADMIN).json()
        if a["kind"] == "log" and a["id"] not in {b["id"] for b in artifacts.values()}
    ]
    assert sorted(a["source"]["log_source"] for a in now_held) == ["cloudtrail", "flow_logs"]
    (flows,) = [a for a in now_held if a["source"]["log_source"] == "flow_logs"]
    assert flows["source"]["record_count"] == 1  # the flow at the first window's (exclusive) end
    events = engine_client.get(f"/v1/investigations/{inv_id}/custody", headers=ADMIN).json()["events"]
    absent = {e["details"]["log_source"]: e["details"] for e in events if e["event"] == "not_collected"}
    assert sorted(absent) == ["config", "guardduty", "securityhub"]
    assert "not subscribed" in absent["securityhub"]["not_enabled"]
    assert "no enabled detector" in absent["guardduty"]["not_enabled"]
    assert "AccessDenied" in absent["config"]["error"]
    artifacts.update({f"{a['source']['log_source']}-2": a for a in now_held})

    return artifacts


def test_logs_of_a_window_become_one_hashed_artifact_per_source(
    open_custody_room: CustodyRoom, local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = open_custody_room
    room.flow("logs", lambda: _collect(room, local_aws, monkeypatch))


def test_the_log_artifacts_are_in_the_signed_manifest_of_the_frozen_room(
    custody_room_to_freeze: CustodyRoom,
    local_aws: LocalAws,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    room = custody_room_to_freeze
    artifacts = room.flow("logs", lambda: _collect(room, local_aws, monkeypatch))
    engine_settings, region = room.service_settings, room.inv["region"]
    deploy_role = engine_settings.accounts[region].deploy_role_arn
    assert deploy_role
    s3 = client_as(local_aws, deploy_role, "s3")

    # Frozen: the manifest lists each log object with its hash; `forensics verify` re-hashes them.
    frozen = room.frozen(local_aws)
    bucket, key = frozen["result"]["legal_hold"]["manifest"].removeprefix("s3://").split("/", 1)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    listed = {(o["key"], o["versionId"]): o["sha256"] for o in manifest["statement"]["objects"]}
    for artifact in artifacts.values():
        source = artifact["source"]
        assert listed[(source["key"], source["version_id"])] == artifact["sha256_source"]
    in_manifest = {a["id"] for a in manifest["statement"]["artifacts"]}
    assert {a["id"] for a in artifacts.values()} <= in_manifest

    key_file = tmp_path / "signing-key.pem"
    key_file.write_text(statement_signing.signer_for(engine_settings, region).public_key_pem())
    manifest_file = tmp_path / "manifest.signed.json"
    manifest_file.write_text(json.dumps(manifest, indent=2))
    verified = _verify(engine_settings, local_aws, deploy_role, manifest_file, key_file)
    assert verified.exit_code == 0, verified.output
    for artifact in artifacts.values():
        assert artifact["source"]["key"] in verified.output
