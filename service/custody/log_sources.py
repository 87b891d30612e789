"""Where an affected instance's logs are, and how each is read: one function per source, each returning the
records about the instance inside the window and the exact calls that produced them.

Sources (each read through the source account's snapshot role):
- ``cloudtrail``: management events (LookupEvents) naming the instance, its instance profile's role, made
  with the instance's role credentials (the session is named after the instance), or with the access keys
  those events show.
- ``flow_logs``: VPC Flow Logs covering the instance's network interfaces (on the interface, its subnet or
  its VPC), from CloudWatch Logs (the interface's streams) or S3 (the delivery's daily prefixes).
- ``config``: AWS Config configuration history of the instance, its volumes and its security groups.
- ``securityhub`` / ``guardduty``: findings naming the instance.

A source the account has not enabled (no flow log, no Config recorder recording, Security Hub or GuardDuty
off) answers ``not_enabled``; anything else that goes wrong raises. Every record is kept only when its own
time falls in the window (since inclusive, until exclusive), whatever the service's filter returned: an S3
flow-log file spans minutes either side, and Config's laterTime is inclusive.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from service.access.cloudtrail import lookup_events
from service.clock import as_utc

CLOUDTRAIL, FLOW_LOGS, CONFIG, SECURITY_HUB, GUARDDUTY = (
    "cloudtrail",
    "flow_logs",
    "config",
    "securityhub",
    "guardduty",
)
SOURCES = (CLOUDTRAIL, FLOW_LOGS, CONFIG, SECURITY_HUB, GUARDDUTY)

# The flow-log fields when a flow log declares no custom format (AWS's default, version 2).
DEFAULT_FLOW_LOG_FORMAT = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status"
)
# Keys the instance's credentials were seen with, looked up one by one: a bound, since each is one call.
MAX_ACCESS_KEYS = 20
# GuardDuty's GetFindings takes at most 50 ids per call.
GUARDDUTY_BATCH = 50


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    def holds(self, at: datetime | None) -> bool:
        return at is not None and self.since <= as_utc(at) < self.until

    def as_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


@dataclass(frozen=True)
class Target:
    """The instance as its account describes it now."""

    account_id: str
    region: str
    instance_id: str
    network_interfaces: list[str]
    subnets: list[str]
    vpcs: list[str]
    volumes: list[str]
    security_groups: list[str]
    instance_profile_arn: str | None

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account_id}:instance/{self.instance_id}"


@dataclass
class Collected:
    source: str
    # Each call that produced the records, as made (operation and parameters).
    query: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    # Why there is nothing to collect: the account does not have this source enabled.
    not_enabled: str | None = None

    def call(self, operation: str, **params: Any) -> None:
        self.query.append({"operation": operation, "params": _plain(params)})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A record as JSON can hold it (times as ISO 8601 in UTC)."""
    return _plain(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_target(ec2: Any, account_id: str, region: str, instance_id: str) -> Target:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance = reservations[0]["Instances"][0]
    interfaces = instance.get("NetworkInterfaces") or []
    return Target(
        account_id=account_id,
        region=region,
        instance_id=instance_id,
        network_interfaces=sorted({n["NetworkInterfaceId"] for n in interfaces}),
        subnets=sorted({n["SubnetId"] for n in interfaces if n.get("SubnetId")} | _one(instance, "SubnetId")),
        vpcs=sorted({n["VpcId"] for n in interfaces if n.get("VpcId")} | _one(instance, "VpcId")),
        volumes=sorted(
            {
                m["Ebs"]["VolumeId"]
                for m in instance.get("BlockDeviceMappings", [])
                if m.get("Ebs", {}).get("VolumeId")
            }
        ),
        security_groups=sorted({g["GroupId"] for g in instance.get("SecurityGroups", [])}),
        instance_profile_arn=(instance.get("IamInstanceProfile") or {}).get("Arn"),
    )


def _one(item: Mapping[str, Any], key: str) -> set[str]:
    return {str(item[key])} if item.get(key) else set()


# CloudTrail


def role_of_profile(iam: Any, profile_arn: str | None) -> str | None:
    """The role name of an instance profile (its ARN ends in the profile's name, after any path)."""
    if not profile_arn:
        return None
    name = profile_arn.rsplit("/", 1)[-1]
    roles = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"].get("Roles") or []
    return str(roles[0]["RoleName"]) if roles else None


def cloudtrail(client: Any, target: Target, role_name: str | None, window: Window) -> Collected:
    found = Collected(CLOUDTRAIL)
    events: dict[str, dict[str, Any]] = {}

    def look(attribute: str, value: str) -> list[dict[str, Any]]:
        found.call(
            "cloudtrail:LookupEvents",
            LookupAttributes=[{"AttributeKey": attribute, "AttributeValue": value}],
            StartTime=window.since,
            EndTime=window.until,
        )
        got = []
        for item in lookup_events(client, attribute, value, window.since, window.until):
            record = json.loads(str(item["CloudTrailEvent"]))
            events.setdefault(str(record.get("eventID") or item.get("EventId")), record)
            got.append(record)
        return got

    look("ResourceName", target.instance_id)
    if role_name:
        look("ResourceName", role_name)
    # An instance's role credentials are a session named after the instance: its calls carry that user name.
    own = look("Username", target.instance_id)
    keys = sorted({str(k) for r in own if (k := (r.get("userIdentity") or {}).get("accessKeyId"))})[
        :MAX_ACCESS_KEYS
    ]
    for key in keys:
        look("AccessKeyId", key)
    kept = [r for r in events.values() if window.holds(_time(r.get("eventTime")))]
    found.records = sorted(kept, key=lambda r: (str(r.get("eventTime")), str(r.get("eventID"))))
    return found


# VPC Flow Logs


def _flow_fields(log_format: str | None) -> list[str]:
    text = log_format or DEFAULT_FLOW_LOG_FORMAT
    return [word.strip("${}") for word in text.split()]


def _flow_record(fields: list[str], line: str) -> dict[str, str] | None:
    values = line.split()
    return dict(zip(fields, values, strict=True)) if len(values) == len(fields) else None


def _flow_time(parsed: Mapping[str, str] | None, fallback: datetime | None) -> datetime | None:
    start = (parsed or {}).get("start", "")
    return datetime.fromtimestamp(int(start), UTC) if start.isdigit() else fallback


def _ms(at: datetime) -> int:
    return int(as_utc(at).timestamp() * 1000)


def flow_logs(ec2: Any, logs: Any, s3: Any, target: Target, window: Window) -> Collected:
    found = Collected(FLOW_LOGS)
    covering = [*target.network_interfaces, *target.subnets, *target.vpcs]
    filters = [{"Name": "resource-id", "Values": covering}]
    found.call("ec2:DescribeFlowLogs", Filters=filters)
    flow_logs_found = [
        fl
        for page in ec2.get_paginator("describe_flow_logs").paginate(Filters=filters)
        for fl in page["FlowLogs"]
    ]
    if not flow_logs_found:
        found.not_enabled = (
            "no VPC flow log covers the instance's network interfaces "
            f"({', '.join(target.network_interfaces)}), their subnets or VPC"
        )
        return found
    for flow_log in sorted(flow_logs_found, key=lambda f: str(f["FlowLogId"])):
        fields = _flow_fields(flow_log.get("LogFormat"))
        kind = flow_log.get("LogDestinationType") or "cloud-watch-logs"
        if kind == "cloud-watch-logs":
            found.records.extend(_from_cloudwatch(found, logs, flow_log, fields, target, window))
        elif kind == "s3":
            found.records.extend(_from_s3(found, s3, flow_log, fields, target, window))
        else:
            raise ValueError(
                f"flow log {flow_log['FlowLogId']} delivers to {kind}, which the service cannot read back"
            )
    found.records.sort(key=lambda r: (r["time"], r["flow_log_id"], r["message"]))
    return found


def _from_cloudwatch(
    found: Collected,
    logs: Any,
    flow_log: Mapping[str, Any],
    fields: list[str],
    target: Target,
    window: Window,
) -> Iterator[dict[str, Any]]:
    group = str(flow_log["LogGroupName"])
    for eni in target.network_interfaces:
        params = {
            "logGroupName": group,
            "logStreamNamePrefix": eni,
            "startTime": _ms(window.since),
            "endTime": _ms(window.until) - 1,
        }
        found.call("logs:FilterLogEvents", **params)
        for page in logs.get_paginator("filter_log_events").paginate(**params):
            for event in page.get("events", []):
                message = str(event.get("message", "")).strip()
                parsed = _flow_record(fields, message)
                at = _flow_time(parsed, _time(int(event["timestamp"]) / 1000))
                if not window.holds(at):
                    continue
                yield {
                    "flow_log_id": flow_log["FlowLogId"],
                    "destination": f"logs:{group}/{event.get('logStreamName')}",
                    "time": at.isoformat() if at else None,
                    "message": message,
                    "fields": parsed,
                }


def _days(window: Window) -> Iterator[datetime]:
    day = datetime(window.since.year, window.since.month, window.since.day, tzinfo=UTC)
    while day < window.until:
        yield day
        day += timedelta(days=1)


def _from_s3(
    found: Collected, s3: Any, flow_log: Mapping[str, Any], fields: list[str], target: Target, window: Window
) -> Iterator[dict[str, Any]]:
    # arn:aws:s3:::bucket[/prefix]; files land under
    # <prefix>/AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/.
    bucket, _, prefix = str(flow_log["LogDestination"]).split(":::", 1)[1].partition("/")
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    enis = set(target.network_interfaces)
    for day in _days(window):
        folder = f"{base}AWSLogs/{target.account_id}/vpcflowlogs/{target.region}/{day:%Y/%m/%d}/"
        found.call("s3:ListObjectsV2", Bucket=bucket, Prefix=folder)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                if f"_{flow_log['FlowLogId']}_" not in key:
                    continue  # another flow log delivering to the same place
                found.call("s3:GetObject", Bucket=bucket, Key=key)
                raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
                for line in text.splitlines()[1:]:  # the first line names the fields
                    parsed = _flow_record(fields, line.strip())
                    if parsed is None or parsed.get("interface-id") not in enis:
                        continue
                    at = _flow_time(parsed, None)
                    if not window.holds(at):
                        continue
                    yield {
                        "flow_log_id": flow_log["FlowLogId"],
                        "destination": f"s3://{bucket}/{key}",
                        "time": at.isoformat() if at else None,
                        "message": line.strip(),
                        "fields": parsed,
                    }


# AWS Config


def config_history(client: Any, target: Target, window: Window) -> Collected:
    found = Collected(CONFIG)
    found.call("config:DescribeConfigurationRecorderStatus")
    statuses = client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    if not any(s.get("recording") for s in statuses):
        found.not_enabled = "no AWS Config recorder is recording in the account and region"
        return found
    resources = [
        ("AWS::EC2::Instance", target.instance_id),
        *(("AWS::EC2::Volume", v) for v in target.volumes),
        *(("AWS::EC2::SecurityGroup", g) for g in target.security_groups),
    ]
    for resource_type, resource_id in resources:
        params = {
            "resourceType": resource_type,
            "resourceId": resource_id,
            "earlierTime": window.since,
            "laterTime": window.until,
            "chronologicalOrder": "Forward",
        }
        found.call("config:GetResourceConfigHistory", **params)
        try:
            pages = client.get_paginator("get_resource_config_history").paginate(**params)
            for page in pages:
                for item in page.get("configurationItems", []):
                    if window.holds(_time(item.get("configurationItemCaptureTime"))):
                        found.records.append(plain(item))
        except ClientError as exc:
            if _code(exc) != "ResourceNotDiscoveredException":
                raise
            found.query[-1]["result"] = "ResourceNotDiscoveredException: Config has not recorded it"
    return found


# Security Hub and GuardDuty


def securityhub_findings(client: Any, target: Target, window: Window) -> Collected:
    found = Collected(SECURITY_HUB)
    filters = {
        "ResourceId": [{"Value": target.arn, "Comparison": "EQUALS"}],
        "UpdatedAt": [{"Start": window.since.isoformat(), "End": window.until.isoformat()}],
    }
    found.call("securityhub:GetFindings", Filters=filters)
    try:
        for page in client.get_paginator("get_findings").paginate(Filters=filters):
            for finding in page.get("Findings", []):
                if window.holds(_time(finding.get("UpdatedAt"))):
                    found.records.append(plain(finding))
    except ClientError as exc:
        if _code(exc) != "InvalidAccessException":
            raise
        found.not_enabled = f"Security Hub is not enabled in the account and region ({exc})"
    found.records.sort(key=lambda f: (str(f.get("UpdatedAt")), str(f.get("Id"))))
    return found


def guardduty_findings(client: Any, target: Target, window: Window) -> Collected:
    found = Collected(GUARDDUTY)
    found.call("guardduty:ListDetectors")
    detectors = [d for page in client.get_paginator("list_detectors").paginate() for d in page["DetectorIds"]]
    enabled = []
    for detector in detectors:
        found.call("guardduty:GetDetector", DetectorId=detector)
        if client.get_detector(DetectorId=detector).get("Status") == "ENABLED":
            enabled.append(detector)
    if not enabled:
        found.not_enabled = "GuardDuty has no enabled detector in the account and region"
        return found
    criteria = {
        "Criterion": {
            "resource.instanceDetails.instanceId": {"Equals": [target.instance_id]},
            "updatedAt": {"GreaterThanOrEqual": _ms(window.since), "LessThan": _ms(window.until)},
        }
    }
    for detector in enabled:
        found.call("guardduty:ListFindings", DetectorId=detector, FindingCriteria=criteria)
        pages = client.get_paginator("list_findings").paginate(DetectorId=detector, FindingCriteria=criteria)
        ids = [i for page in pages for i in page.get("FindingIds", [])]
        for start in range(0, len(ids), GUARDDUTY_BATCH):
            batch = ids[start : start + GUARDDUTY_BATCH]
            found.call("guardduty:GetFindings", DetectorId=detector, FindingIds=batch)
            for finding in client.get_findings(DetectorId=detector, FindingIds=batch).get("Findings", []):
                if window.holds(_time(finding.get("UpdatedAt"))):
                    found.records.append(plain(finding))
    found.records.sort(key=lambda f: (str(f.get("UpdatedAt")), str(f.get("Id"))))
    return found
