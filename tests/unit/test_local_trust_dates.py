"""The enforcing local AWS judges date conditions on aws:CurrentTime as STS does: the time of the request.

A just-in-time grant is a trust statement with ``DateLessThan aws:CurrentTime <expiry>``; before the launcher
knew the date operators it could only refuse every such statement (an operator it cannot judge never grants),
and moto alone skips them (so an expired grant would still admit its person).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tools.local_aws.aws import LocalAws
from tools.local_aws.moto_server import (
    assume_role_request,
    conditions_hold,
    current_time_context,
    trust_permits,
)

ACCOUNT = "123456789012"
CALLER = f"arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Forensics_0a1b"
NOW = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(moment: datetime) -> dict[str, str]:
    return current_time_context(moment)


def test_the_request_context_carries_the_time_of_the_request() -> None:
    _, context = assume_role_request({"RoleSessionName": ["s"]}, CALLER, ACCOUNT)
    when = datetime.strptime(context["aws:CurrentTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(seconds=5)
    assert abs(int(context["aws:EpochTime"]) - when.timestamp()) < 1
    assert _at(NOW) == {"aws:CurrentTime": "2031-05-04T12:00:00Z", "aws:EpochTime": str(int(NOW.timestamp()))}


@pytest.mark.parametrize(
    ("operator", "value", "holds"),
    [
        ("DateLessThan", _iso(NOW + timedelta(minutes=1)), True),
        ("DateLessThan", _iso(NOW), False),
        ("DateLessThan", _iso(NOW - timedelta(minutes=1)), False),
        ("DateLessThanEquals", _iso(NOW), True),
        ("DateGreaterThan", _iso(NOW - timedelta(minutes=1)), True),
        ("DateGreaterThan", _iso(NOW), False),
        ("DateGreaterThanEquals", _iso(NOW), True),
        ("DateEquals", _iso(NOW), True),
        ("DateEquals", _iso(NOW + timedelta(seconds=1)), False),
        ("DateNotEquals", _iso(NOW + timedelta(seconds=1)), True),
        ("DateNotEquals", _iso(NOW), False),
        # Other spellings IAM reads: an offset, a bare date (midnight UTC), epoch seconds.
        ("DateLessThan", "2031-05-04T14:30:00+02:00", True),
        ("DateLessThan", "2031-05-04T13:30:00+02:00", False),
        ("DateLessThan", "2031-05-05", True),
        ("DateGreaterThan", "2031-05-04", True),
        ("DateLessThan", str(int((NOW + timedelta(hours=1)).timestamp())), True),
        # Several values: any of them.
        ("DateLessThan", [_iso(NOW - timedelta(hours=1)), _iso(NOW + timedelta(hours=1))], True),
    ],
)
def test_date_operators_against_aws_current_time(operator: str, value: Any, holds: bool) -> None:
    assert conditions_hold({operator: {"aws:CurrentTime": value}}, _at(NOW)) is holds


def test_date_operators_on_the_epoch_key_too() -> None:
    later = str(int((NOW + timedelta(minutes=5)).timestamp()))
    assert conditions_hold({"DateLessThan": {"aws:EpochTime": later}}, _at(NOW)) is True
    assert conditions_hold({"DateGreaterThan": {"aws:EpochTime": later}}, _at(NOW)) is False


def test_a_value_that_is_not_a_time_is_not_judged() -> None:
    """Not judged: never a grant, and a Deny with it still applies (``trust_permits``)."""
    assert conditions_hold({"DateLessThan": {"aws:CurrentTime": "next tuesday"}}, _at(NOW)) is None
    assert conditions_hold({"DateNotEquals": {"aws:CurrentTime": "soon"}}, _at(NOW)) is None


def test_a_missing_time_key_fails_unless_if_exists() -> None:
    expiry = _iso(NOW + timedelta(hours=1))
    assert conditions_hold({"DateLessThan": {"aws:TokenIssueTime": expiry}}, _at(NOW)) is False
    assert conditions_hold({"DateLessThanIfExists": {"aws:TokenIssueTime": expiry}}, _at(NOW)) is True


def _grant(expires_at: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": CALLER},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {
                    "DateLessThan": {"aws:CurrentTime": expires_at},
                    "StringEquals": {
                        "sts:SourceIdentity": "alice",
                        "aws:RequestTag/forensics-investigation": "inv-1",
                    },
                },
            }
        ],
    }


def _request(source_identity: str = "alice") -> dict[str, Any]:
    return {
        "RoleSessionName": ["alice"],
        "SourceIdentity": [source_identity],
        "Tags.member.1.Key": ["forensics-investigation"],
        "Tags.member.1.Value": ["inv-1"],
    }


def _permits(document: dict[str, Any], request: dict[str, Any]) -> bool:
    actions, context = assume_role_request(request, CALLER, ACCOUNT)
    return all(trust_permits(document, a, {CALLER}, ACCOUNT, context) for a in actions)


def test_a_grant_admits_its_person_until_the_expiry_only() -> None:
    now = datetime.now(UTC)
    assert _permits(_grant(_iso(now + timedelta(hours=1))), _request())
    assert not _permits(_grant(_iso(now - timedelta(minutes=1))), _request())
    # Before its expiry, still only as the person it names.
    assert not _permits(_grant(_iso(now + timedelta(hours=1))), _request("mallory"))


def test_a_deny_after_a_time_applies_and_one_that_cannot_be_judged_still_applies() -> None:
    now = datetime.now(UTC)
    allow = _grant(_iso(now + timedelta(hours=1)))["Statement"][0]

    def deny(after: str) -> dict[str, Any]:
        return {
            "Effect": "Deny",
            "Principal": {"AWS": CALLER},
            "Action": "sts:AssumeRole",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": after}},
        }

    def policy(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    assert _permits(policy(allow, deny(_iso(now + timedelta(minutes=30)))), _request())
    assert not _permits(policy(allow, deny(_iso(now - timedelta(minutes=30)))), _request())
    assert not _permits(policy(allow, deny("whenever")), _request())


# Live: the enforcing local AWS answers sts:AssumeRole with these rules.


@pytest.fixture(scope="module")
def enforcing() -> Iterator[LocalAws]:
    with LocalAws(enforce_iam=True) as aws:
        yield aws


def test_sts_refuses_a_grant_from_its_expiry_on(enforcing: LocalAws) -> None:
    iam, sts = enforcing.client("iam"), enforcing.client("sts")
    admin = sts.get_caller_identity()["Arn"]

    def trust(expires_at: datetime) -> str:
        statement = _grant(_iso(expires_at))
        statement["Statement"][0]["Principal"] = {"AWS": admin}
        return json.dumps(statement)

    now = datetime.now(UTC)
    arn = iam.create_role(RoleName="jit-grant", AssumeRolePolicyDocument=trust(now + timedelta(hours=1)))[
        "Role"
    ]["Arn"]
    tags = [{"Key": "forensics-investigation", "Value": "inv-1"}]

    def assume(person: str = "alice") -> dict[str, Any]:
        response: dict[str, Any] = sts.assume_role(
            RoleArn=arn, RoleSessionName="alice", SourceIdentity=person, Tags=tags
        )
        return response

    assert assume()["AssumedRoleUser"]["Arn"].endswith(":assumed-role/jit-grant/alice")
    with pytest.raises(ClientError) as other:
        assume("mallory")
    assert other.value.response["Error"]["Code"] == "AccessDenied"

    iam.update_assume_role_policy(RoleName="jit-grant", PolicyDocument=trust(now - timedelta(minutes=1)))
    with pytest.raises(ClientError) as expired:
        assume()
    assert expired.value.response["Error"]["Code"] == "AccessDenied"
