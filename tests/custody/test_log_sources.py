"""Each log source read for a window: the records about the instance inside it, none outside it, and the
exact calls that produced them; a source the account has not enabled says so.

VPC Flow Logs are read from the local AWS (moto serves DescribeFlowLogs, CloudWatch Logs and S3; the records
are written in the flow-log record format AWS documents, as the delivery would). The local AWS has no
CloudTrail event history, no Config history (moto returns the current item only), no GuardDuty findings and
a Security Hub GetFindings that ignores its filters: those sources run against botocore's Stubber, which
checks every call's parameters and every answer against the service's API model."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from service.custody import log_collection, log_sources
from service.custody.log_sources import Target, Window
from service.custody.schemas import LogsRequest
from service.investigations.actions import StepFailed
from tests.support import log_records
from tools.local_aws.aws import LocalAws

REGION = "eu-central-1"
ACCOUNT = "111122223333"
INSTANCE = "i-0123456789abcdef0"
ROLE = "web-app-role"
SINCE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WINDOW = Window(SINCE, UNTIL)
INSIDE = SINCE + timedelta(minutes=30)
# Outside: before, exactly at the (exclusive) end, after.
OUTSIDE = (SINCE - timedelta(minutes=1), UNTIL, UNTIL + timedelta(hours=1))
ABOUT = log_records.About(ACCOUNT, REGION, INSTANCE, ROLE)
TARGET = Target(
    account_id=ACCOUNT,
    region=REGION,
    instance_id=INSTANCE,
    network_interfaces=["eni-0aaaaaaaaaaaaaaa1"],
    subnets=["subnet-0bbbbbbbbbbbbbbb1"],
    vpcs=["vpc-0ccccccccccccccc1"],
    volumes=["vol-0ddddddddddddddd1", "vol-0ddddddddddddddd2"],
    security_groups=["sg-0eeeeeeeeeeeeeee1"],
    instance_profile_arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/web-app",
)


def _stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="stub", aws_secret_access_key="stub")
    return client, Stubber(client)


# CloudTrail


def _lookup(stub: Stubber, attribute: str, value: str, events: list[dict[str, Any]]) -> None:
    stub.add_response(
        "lookup_events",
        {"Events": events},
        {
            "LookupAttributes": [{"AttributeKey": attribute, "AttributeValue": value}],
            "StartTime": SINCE,
            "EndTime": UNTIL,
        },
    )


def test_cloudtrail_keeps_the_instance_its_role_and_its_keys_events_inside_the_window() -> None:
    client, stub = _stubbed("cloudtrail")
    stopped = log_records.trail_event(ABOUT, INSIDE, "StopInstances")
    late = log_records.trail_event(
        ABOUT, OUTSIDE[2], "StartInstances"
    )  # an answer beyond the window is still dropped
    role_change = log_records.trail_event(ABOUT, INSIDE + timedelta(minutes=5), "PutRolePolicy")
    own_call = log_records.trail_event(
        ABOUT, INSIDE + timedelta(minutes=1), "DescribeInstances", key="ASIAKEY1", user=INSTANCE
    )
    at_end = log_records.trail_event(ABOUT, OUTSIDE[1], "ListBuckets", key="ASIAKEY1", user=INSTANCE)
    by_key = log_records.trail_event(
        ABOUT, INSIDE + timedelta(minutes=9), "GetObject", key="ASIAKEY1", user=INSTANCE
    )
    _lookup(stub, "ResourceName", INSTANCE, [stopped, late])
    _lookup(stub, "ResourceName", ROLE, [role_change])
    _lookup(stub, "Username", INSTANCE, [own_call, at_end])
    _lookup(stub, "AccessKeyId", "ASIAKEY1", [own_call, by_key])  # the same event twice: kept once
    with stub:
        found = log_sources.cloudtrail(client, TARGET, ROLE, WINDOW)
        stub.assert_no_pending_responses()
    assert [r["eventName"] for r in found.records] == [
        "StopInstances",
        "DescribeInstances",
        "PutRolePolicy",
        "GetObject",
    ]
    assert found.not_enabled is None
    assert [q["params"]["LookupAttributes"][0]["AttributeValue"] for q in found.query] == [
        INSTANCE,
        ROLE,
        INSTANCE,
        "ASIAKEY1",
    ]
    assert found.query[0]["params"]["StartTime"] == SINCE.isoformat()


# AWS Config


def test_config_history_of_the_instance_its_volumes_and_groups() -> None:
    client, stub = _stubbed("config")
    stub.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [{"name": "default", "recording": True}]},
        {},
    )
    resources = [
        ("AWS::EC2::Instance", INSTANCE, [INSIDE, OUTSIDE[1]]),
        ("AWS::EC2::Volume", TARGET.volumes[0], [INSIDE]),
        ("AWS::EC2::Volume", TARGET.volumes[1], None),  # never recorded
        ("AWS::EC2::SecurityGroup", TARGET.security_groups[0], [INSIDE + timedelta(minutes=2)]),
    ]
    for resource_type, resource_id, times in resources:
        params = {
            "resourceType": resource_type,
            "resourceId": resource_id,
            "earlierTime": SINCE,
            "laterTime": UNTIL,
            "chronologicalOrder": "Forward",
        }
        if times is None:
            stub.add_client_error(
                "get_resource_config_history", "ResourceNotDiscoveredException", expected_params=params
            )
            continue
        items = [log_records.config_item(resource_type, resource_id, t) for t in times]
        stub.add_response("get_resource_config_history", {"configurationItems": items}, params)
    with stub:
        found = log_sources.config_history(client, TARGET, WINDOW)
        stub.assert_no_pending_responses()
    assert [(r["resourceType"], r["configurationItemCaptureTime"]) for r in found.records] == [
        ("AWS::EC2::Instance", INSIDE.isoformat()),
        ("AWS::EC2::Volume", INSIDE.isoformat()),
        ("AWS::EC2::SecurityGroup", (INSIDE + timedelta(minutes=2)).isoformat()),
    ]
    assert "ResourceNotDiscoveredException" in found.query[3]["result"]


def test_config_without_a_recorder_is_not_enabled() -> None:
    client, stub = _stubbed("config")
    stub.add_response(
        "describe_configuration_recorder_status",
        {"ConfigurationRecordersStatus": [{"name": "default", "recording": False}]},
        {},
    )
    with stub:
        found = log_sources.config_history(client, TARGET, WINDOW)
    assert found.records == [] and found.not_enabled and "recorder" in found.not_enabled


# Security Hub and GuardDuty


def _hub_filters() -> dict[str, Any]:
    return {
        "Filters": {
            "ResourceId": [{"Value": TARGET.arn, "Comparison": "EQUALS"}],
            "UpdatedAt": [{"Start": SINCE.isoformat(), "End": UNTIL.isoformat()}],
        }
    }


def test_security_hub_findings_about_the_instance() -> None:
    client, stub = _stubbed("securityhub")
    answer = [log_records.asff(ABOUT, "f-inside", INSIDE), log_records.asff(ABOUT, "f-before", OUTSIDE[0])]
    stub.add_response("get_findings", {"Findings": answer}, _hub_filters())
    with stub:
        found = log_sources.securityhub_findings(client, TARGET, WINDOW)
        stub.assert_no_pending_responses()
    assert [f["Id"] for f in found.records] == ["f-inside"]


def test_security_hub_not_subscribed_is_not_enabled() -> None:
    client, stub = _stubbed("securityhub")
    stub.add_client_error(
        "get_findings",
        "InvalidAccessException",
        "Account 111122223333 is not subscribed to AWS Security Hub",
        401,
        expected_params=_hub_filters(),
    )
    with stub:
        found = log_sources.securityhub_findings(client, TARGET, WINDOW)
    assert found.records == [] and found.not_enabled and "not subscribed" in found.not_enabled


def test_guardduty_findings_about_the_instance() -> None:
    client, stub = _stubbed("guardduty")
    stub.add_response("list_detectors", {"DetectorIds": ["d1"]}, {})
    stub.add_response(
        "get_detector", {"ServiceRole": "arn:aws:iam::1:role/x", "Status": "ENABLED"}, {"DetectorId": "d1"}
    )
    criteria = {
        "Criterion": {
            "resource.instanceDetails.instanceId": {"Equals": [INSTANCE]},
            "updatedAt": {
                "GreaterThanOrEqual": int(SINCE.timestamp() * 1000),
                "LessThan": int(UNTIL.timestamp() * 1000),
            },
        }
    }
    stub.add_response(
        "list_findings", {"FindingIds": ["g1", "g2"]}, {"DetectorId": "d1", "FindingCriteria": criteria}
    )
    stub.add_response(
        "get_findings",
        {
            "Findings": [
                log_records.guardduty_finding(ABOUT, "g1", INSIDE),
                log_records.guardduty_finding(ABOUT, "g2", OUTSIDE[2]),
            ]
        },
        {"DetectorId": "d1", "FindingIds": ["g1", "g2"]},
    )
    with stub:
        found = log_sources.guardduty_findings(client, TARGET, WINDOW)
        stub.assert_no_pending_responses()
    assert [f["Id"] for f in found.records] == ["g1"]


def test_guardduty_off_is_not_enabled() -> None:
    client, stub = _stubbed("guardduty")
    stub.add_response("list_detectors", {"DetectorIds": []}, {})
    with stub:
        found = log_sources.guardduty_findings(client, TARGET, WINDOW)
    assert found.not_enabled and "GuardDuty" in found.not_enabled


# VPC Flow Logs, on the local AWS


def _flow_line(eni: str, at: datetime, port: int) -> str:
    start = int(at.timestamp())
    return f"2 {ACCOUNT} {eni} 10.0.0.5 203.0.113.9 44321 {port} 6 10 840 {start} {start + 60} ACCEPT OK"


@pytest.fixture
def network(local_aws: LocalAws) -> Iterator[dict[str, Any]]:
    ec2 = local_aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    other = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    yield {"vpc": vpc, "subnet": subnet, "eni": eni, "other": other}
    for flow_log in ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [eni, subnet]}])[
        "FlowLogs"
    ]:
        ec2.delete_flow_logs(FlowLogIds=[flow_log["FlowLogId"]])


def test_flow_logs_from_cloudwatch_logs_and_s3_inside_the_window(
    local_aws: LocalAws, network: dict[str, Any]
) -> None:
    ec2, logs, s3 = local_aws.client("ec2"), local_aws.client("logs"), local_aws.client("s3")
    account = local_aws.client("sts").get_caller_identity()["Account"]
    now = datetime.now(UTC).replace(microsecond=0)
    window = Window(now - timedelta(hours=3), now - timedelta(hours=1))
    inside, before, after = now - timedelta(hours=2), now - timedelta(hours=4), now - timedelta(minutes=30)
    eni, other = network["eni"], network["other"]
    target = Target(
        account, local_aws.region, INSTANCE, [eni], [network["subnet"]], [network["vpc"]], [], [], None
    )

    # Delivered to CloudWatch Logs on the interface: one stream per interface.
    group = f"/flow/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)
    ec2.create_flow_logs(
        ResourceIds=[eni],
        ResourceType="NetworkInterface",
        TrafficType="ALL",
        LogGroupName=group,
        DeliverLogsPermissionArn=f"arn:aws:iam::{account}:role/flow-logs",
    )
    logs.create_log_stream(logGroupName=group, logStreamName=f"{eni}-all")
    logs.put_log_events(
        logGroupName=group,
        logStreamName=f"{eni}-all",
        logEvents=[
            {"timestamp": int(t.timestamp() * 1000), "message": _flow_line(eni, t, port)}
            for t, port in ((before, 21), (inside, 22), (after, 23))
        ],
    )
    # Delivered to S3 on the subnet: hourly gzip files with a header line, every interface of the subnet.
    bucket = f"flow-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    subnet_log = ec2.create_flow_logs(
        ResourceIds=[network["subnet"]],
        ResourceType="Subnet",
        TrafficType="ALL",
        LogDestinationType="s3",
        # moto refuses a destination with a key prefix (it looks for a bucket named "bucket/prefix"), which
        # AWS accepts: the bucket's root here.
        LogDestination=f"arn:aws:s3:::{bucket}",
    )["FlowLogIds"][0]
    records = [
        (inside, _flow_line(eni, inside, 443)),
        (inside, _flow_line(other, inside, 80)),  # another interface of the subnet
        (before, _flow_line(eni, before, 8080)),
    ]
    # Each record sits in the file of the day it was captured (AWS delivers a record once), so a window that
    # crosses midnight UTC reads two days' folders without finding a record twice.
    for day in {before.date(), inside.date()}:
        lines = [line for at, line in records if at.date() == day]
        body = gzip.compress(("\n".join([log_sources.DEFAULT_FLOW_LOG_FORMAT, *lines]) + "\n").encode())
        key = (
            f"AWSLogs/{account}/vpcflowlogs/{local_aws.region}/{day:%Y/%m/%d}/"
            f"{account}_vpcflowlogs_{local_aws.region}_{subnet_log}_{day:%Y%m%d}T0000Z_abcd1234.log.gz"
        )
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    found = log_sources.flow_logs(ec2, logs, s3, target, window)

    assert found.not_enabled is None
    ports = sorted(r["fields"]["dstport"] for r in found.records)
    assert ports == ["22", "443"]  # one inside the window from each destination; none outside, no other ENI
    assert {r["destination"].split(":", 1)[0] for r in found.records} == {"logs", "s3"}
    operations = [q["operation"] for q in found.query]
    assert operations[0] == "ec2:DescribeFlowLogs" and "logs:FilterLogEvents" in operations
    assert "s3:GetObject" in operations


def test_s3_flow_logs_under_a_key_prefix_plain_or_gzip_of_that_flow_log_only(local_aws: LocalAws) -> None:
    """AWS accepts a destination with a key prefix (moto's CreateFlowLogs does not): the files are read under
    it, gzip or plain, and another flow log's files in the same place are not this one's."""
    s3 = local_aws.client("s3")
    bucket = f"flow-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    eni = TARGET.network_interfaces[0]
    folder = f"vpc/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{INSIDE:%Y/%m/%d}/"
    header = log_sources.DEFAULT_FLOW_LOG_FORMAT
    files = {
        f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0aaa_{INSIDE:%Y%m%d}T1000Z_1.log.gz": gzip.compress(
            f"{header}\n{_flow_line(eni, INSIDE, 22)}\n{_flow_line(eni, OUTSIDE[1], 23)}\n".encode()
        ),
        f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0aaa_{INSIDE:%Y%m%d}T1005Z_2.log": (
            f"{header}\n{_flow_line(eni, INSIDE, 443)}\n".encode()
        ),
        f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0bbb_{INSIDE:%Y%m%d}T1000Z_3.log": (
            f"{header}\n{_flow_line(eni, INSIDE, 80)}\n".encode()
        ),
    }
    for name, body in files.items():
        s3.put_object(Bucket=bucket, Key=folder + name, Body=body)
    flow_log = {
        "FlowLogId": "fl-0aaa",
        "LogDestinationType": "s3",
        "LogDestination": f"arn:aws:s3:::{bucket}/vpc/",
    }
    found = log_sources.Collected(log_sources.FLOW_LOGS)
    fields = log_sources._flow_fields(None)
    got = list(log_sources._from_s3(found, s3, flow_log, fields, TARGET, WINDOW))
    assert sorted(r["fields"]["dstport"] for r in got) == ["22", "443"]
    assert found.query[0] == {"operation": "s3:ListObjectsV2", "params": {"Bucket": bucket, "Prefix": folder}}


def test_an_interface_no_flow_log_covers_is_not_enabled(local_aws: LocalAws, network: dict[str, Any]) -> None:
    target = Target(
        "123456789012",
        local_aws.region,
        INSTANCE,
        [network["other"]],
        [network["subnet"]],
        [network["vpc"]],
        [],
        [],
        None,
    )
    found = log_sources.flow_logs(
        local_aws.client("ec2"), local_aws.client("logs"), local_aws.client("s3"), target, WINDOW
    )
    assert found.records == [] and found.not_enabled and network["other"] in found.not_enabled


# The window


def _request(**window: Any) -> dict[str, Any]:
    return {"source_account_id": ACCOUNT, "region": REGION, "instance_id": INSTANCE, **window}


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"since": "2026-12-01T12:00:00Z", "until": "2026-12-01T10:00:00Z"}, "since must be before until"),
        ({"since": "2026-12-01T10:00:00Z", "until": "2026-12-01T10:00:00Z"}, "since must be before until"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "at most 90 days"),
        ({"since": "2026-12-01T10:00:00"}, "timezone"),
        ({"until": "yesterday"}, "datetime"),
    ],
)
def test_a_bad_window_is_refused_by_the_request(window: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LogsRequest.model_validate(_request(**window))


def test_the_window_defaults_to_the_24_hours_before_the_request() -> None:
    requested = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    window = log_collection.resolve_window(
        LogsRequest.model_validate(_request()).model_dump(mode="json"), requested
    )
    assert window == Window(requested - timedelta(hours=24), requested)
    only_since = LogsRequest.model_validate(_request(since="2026-12-06T08:00:00+02:00")).model_dump(
        mode="json"
    )
    assert log_collection.resolve_window(only_since, requested).since == datetime(2026, 12, 6, 6, tzinfo=UTC)
    with pytest.raises(StepFailed, match="not before its end"):
        late = LogsRequest.model_validate(_request(since="2026-12-07T00:00:00Z")).model_dump(mode="json")
        log_collection.resolve_window(late, requested)


def test_the_same_records_always_give_the_same_bytes() -> None:
    records = [{"b": 1, "a": datetime(2026, 12, 1, tzinfo=UTC)}, {"z": [1, 2]}]
    assert log_collection.jsonl(records) == b'{"a":"2026-12-01T00:00:00+00:00","b":1}\n{"z":[1,2]}\n'
