"""Records in the formats AWS documents, about one instance, for the log sources the local AWS does not
serve (CloudTrail event history, Config history, Security Hub and GuardDuty findings): what a Stubber answers
with."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class About:
    """The instance the records are about."""

    account: str
    region: str
    instance: str
    role: str

    @property
    def arn(self) -> str:
        return f"arn:aws:ec2:{self.region}:{self.account}:instance/{self.instance}"


def trail_event(
    about: About, at: datetime, name: str, *, key: str | None = None, user: str | None = None
) -> dict[str, Any]:
    """A management event as CloudTrail records it, and how LookupEvents returns it; ``user``: made with a
    session of the instance's role (``key`` its access key)."""
    identity: dict[str, Any] = {"type": "AssumedRole", "accountId": about.account}
    if user:
        identity |= {
            "arn": f"arn:aws:sts::{about.account}:assumed-role/{about.role}/{user}",
            "principalId": f"AROAEXAMPLE:{user}",
            "accessKeyId": key,
        }
    record = {
        "eventVersion": "1.09",
        "eventID": str(uuid.uuid4()),
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": about.region,
        "userIdentity": identity,
        "requestParameters": {"instancesSet": {"items": [{"instanceId": about.instance}]}},
    }
    return {
        "EventId": record["eventID"],
        "EventName": name,
        "EventTime": at,
        "EventSource": "ec2.amazonaws.com",
        "CloudTrailEvent": json.dumps(record),
    }


def config_item(resource_type: str, resource_id: str, at: datetime) -> dict[str, Any]:
    """A configuration item as GetResourceConfigHistory returns it."""
    return {
        "resourceType": resource_type,
        "resourceId": resource_id,
        "configurationItemCaptureTime": at,
        "configurationItemStatus": "OK",
        "configuration": json.dumps({"id": resource_id}),
    }


def asff(about: About, finding_id: str, updated: datetime) -> dict[str, Any]:
    """A finding in the AWS Security Finding Format (its required fields) about the instance."""
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id,
        "ProductArn": f"arn:aws:securityhub:{about.region}::product/aws/guardduty",
        "GeneratorId": "guardduty",
        "AwsAccountId": about.account,
        "Types": ["TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS"],
        "CreatedAt": stamp,
        "UpdatedAt": stamp,
        "Severity": {"Label": "HIGH"},
        "Title": "EC2 instance querying a command and control domain",
        "Description": "the instance queried a domain associated with command and control",
        "Resources": [{"Type": "AwsEc2Instance", "Id": about.arn}],
    }


def guardduty_finding(about: About, finding_id: str, updated: datetime) -> dict[str, Any]:
    """A GuardDuty finding (its documented required fields) about the instance."""
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "AccountId": about.account,
        "Arn": f"arn:aws:guardduty:{about.region}:{about.account}:detector/d1/finding/{finding_id}",
        "CreatedAt": stamp,
        "Id": finding_id,
        "Region": about.region,
        "Resource": {"ResourceType": "Instance", "InstanceDetails": {"InstanceId": about.instance}},
        "SchemaVersion": "2.0",
        "Severity": 8.0,
        "Type": "Backdoor:EC2/C&CActivity.B!DNS",
        "UpdatedAt": stamp,
    }
