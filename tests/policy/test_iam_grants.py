"""iam-no-wildcards on just-in-time grants: a person's role may trust a principal for one person until a
time, and every way of writing a grant that never ends, names nobody or anybody, or drops the session tag is
refused."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import doc, run_resource

ROLE = "aws:iam/role:Role"
PERSON_TAGS = {"forensics:role": "investigator"}
PRINCIPAL = {"AWS": "arn:aws:iam::123456789012:role/AWSReservedSSO_Forensics_0a1b"}
TAG = {"aws:RequestTag/forensics-investigation": "inv-1"}
EXPIRY = {"DateLessThan": {"aws:CurrentTime": "2031-05-04T13:00:00Z"}}
PERSON = {"sts:SourceIdentity": "alice@example.com"}
STANDING = {
    "Sid": "AssumeAsANamedPersonForThisInvestigation",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::123456789012:role/forensics-break-glass"]},
    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
    "Condition": {"StringEquals": TAG, "Null": {"sts:SourceIdentity": "false"}},
}


def _grant(condition: dict[str, Any], sid: str | None = "AccessGrantInvestigatorUntil20310504130000") -> Any:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": PRINCIPAL,
        "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        "Condition": condition,
    }
    if sid is not None:
        statement["Sid"] = sid
    return statement


def _messages(*statements: Any) -> list[str]:
    props = {"assumeRolePolicy": doc(*statements), "tags": PERSON_TAGS}
    return [v.message for v in run_resource("iam-no-wildcards", ROLE, props)]


@pytest.mark.parametrize(
    "condition",
    [
        {**EXPIRY, "StringEquals": {**PERSON, **TAG}},
        # Keys are case-insensitive in IAM; the time may carry a zone or be a date.
        {"DateLessThan": {"AWS:CurrentTime": "2031-05-04T13:00:00+00:00"}, "StringEquals": {**PERSON, **TAG}},
        {"DateLessThanEquals": {"aws:CurrentTime": "2031-05-04"}, "StringEquals": {**PERSON, **TAG}},
        # An extra lower bound (not before) does not weaken it.
        {
            **EXPIRY,
            "DateGreaterThan": {"aws:CurrentTime": "2031-05-04T12:00:00Z"},
            "StringEquals": {**PERSON, **TAG},
        },
    ],
)
def test_a_grant_with_an_expiry_a_person_and_the_tag_passes(condition: dict[str, Any]) -> None:
    assert _messages(STANDING, _grant(condition)) == []


@pytest.mark.parametrize(
    ("condition", "sid", "words"),
    [
        # Marked as a grant, but nothing ends it.
        ({"StringEquals": {**PERSON, **TAG}}, "AccessGrantX", "never expires"),
        ({"StringEquals": {**PERSON, **TAG}}, "accessgrantx", "never expires"),
        # Unmarked, but a particular person: still a grant, still without an end.
        ({"StringEquals": {**PERSON, **TAG}}, None, "never expires"),
        ({"StringEquals": {**PERSON, **TAG}}, "AssumeAsANamedPersonForThisInvestigation", "never expires"),
        # An end that is not one.
        (
            {
                "DateGreaterThan": {"aws:CurrentTime": "2031-05-04T13:00:00Z"},
                "StringEquals": {**PERSON, **TAG},
            },
            None,
            "never expires",
        ),
        (
            {
                "DateLessThanIfExists": {"aws:CurrentTime": "2031-05-04T13:00:00Z"},
                "StringEquals": {**PERSON, **TAG},
            },
            None,
            "never expires",
        ),
        (
            {
                "DateLessThan": {"aws:TokenIssueTime": "2031-05-04T13:00:00Z"},
                "StringEquals": {**PERSON, **TAG},
            },
            None,
            "never expires",
        ),
        (
            {"DateLessThan": {"aws:EpochTime": "1935666000"}, "StringEquals": {**PERSON, **TAG}},
            None,
            "never expires",
        ),
        (
            {"DateLessThan": {"aws:CurrentTime": "next tuesday"}, "StringEquals": {**PERSON, **TAG}},
            None,
            "not a time IAM can compare",
        ),
        ({"DateLessThan": {"aws:CurrentTime": []}, "StringEquals": {**PERSON, **TAG}}, None, "not a time"),
        # An end, but nobody in particular.
        (
            {**EXPIRY, "StringEquals": TAG, "Null": {"sts:SourceIdentity": "false"}},
            None,
            "names no one person",
        ),
        (
            {**EXPIRY, "StringEquals": TAG, "StringLike": {"sts:SourceIdentity": "*"}},
            None,
            "names no one person",
        ),
        ({**EXPIRY, "StringEquals": {"sts:SourceIdentity": "*", **TAG}}, None, "names no one person"),
        (
            {**EXPIRY, "StringEquals": {"sts:SourceIdentity": ["alice", "bob"], **TAG}},
            None,
            "names no one person",
        ),
        ({**EXPIRY, "StringEquals": {"sts:SourceIdentity": "", **TAG}}, None, "names no one person"),
        # MFA does not stand in for the person in a grant.
        (
            {**EXPIRY, "StringEquals": TAG, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
            None,
            "no one person",
        ),
        # Not tied to this investigation.
        ({**EXPIRY, "StringEquals": PERSON}, None, "forensics-investigation session tag"),
        ({**EXPIRY, "StringLike": TAG, "StringEquals": PERSON}, None, "forensics-investigation session tag"),
    ],
)
def test_a_grant_that_never_ends_or_names_nobody_is_refused(
    condition: dict[str, Any], sid: str | None, words: str
) -> None:
    messages = _messages(STANDING, _grant(condition, sid))
    assert messages and all("just-in-time" in m or "grant" in m for m in messages), messages
    assert any(words in m for m in messages), messages


def test_a_grant_without_any_condition_is_refused() -> None:
    messages = _messages(STANDING, _grant({}, sid="AccessGrantInvestigator"))
    assert any("never expires" in m for m in messages), messages
    assert any("names no one person" in m for m in messages), messages
    assert any("session tag" in m for m in messages), messages


def test_a_grant_to_a_root_is_still_refused_as_a_root() -> None:
    grant = {**_grant({**EXPIRY, "StringEquals": {**PERSON, **TAG}}), "Principal": {"AWS": "123456789012"}}
    assert any("account root" in m for m in _messages(STANDING, grant))


def test_the_grant_rules_are_for_peoples_roles_only() -> None:
    """A service's role (the workstation's) is not a person's: a time condition there is not a grant."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    }
    props = {"assumeRolePolicy": doc(statement), "tags": {}}
    assert run_resource("iam-no-wildcards", ROLE, props) == []
