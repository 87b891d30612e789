"""required-tags, golden-ami-fresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from .harness import TAGS, U_OBJ, U_STR, run_resource

VPC = "aws:ec2/vpc:Vpc"
INSTANCE = "aws:ec2/instance:Instance"


# ------------------------------------------------------------------------------------- required-tags
def test_tagged_resource_passes() -> None:
    assert run_resource("required-tags", VPC, {"tags": {**TAGS, "team": "dfir"}}) == []
    assert run_resource("required-tags", VPC, {"tags": U_OBJ}) == []
    assert run_resource("required-tags", VPC, {"tags": {**TAGS, "forensics:ticket": U_STR}}) == []
    # Non-taggable types are not checked.
    assert run_resource("required-tags", "aws:kms/alias:Alias", {"name": "alias/x"}) == []


def test_provider_default_tags_count() -> None:
    provider = {"region": "us-east-1", "defaultTags": json.dumps({"tags": TAGS})}
    assert run_resource("required-tags", VPC, {}, provider_props=provider) == []
    assert run_resource("required-tags", VPC, {}, provider_props={"defaultTags": {"tags": TAGS}}) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, "forensics:investigation-id, forensics:ticket, managed-by"),
        (
            {"tags": {"forensics:investigation-id": "case-1", "managed-by": "forensic-cleanroom"}},
            "forensics:ticket",
        ),
        ({"tags": {**TAGS, "forensics:ticket": ""}}, "forensics:ticket"),
        ({"tags": {**TAGS, "managed-by": "someone-else"}}, "managed-by='someone-else'"),
    ],
)
def test_missing_tags_are_violations(props: dict[str, object], expected: str) -> None:
    (found,) = run_resource("required-tags", "aws:ebs/volume:Volume", props, "scratch")
    assert expected in found.message


# ---------------------------------------------------------------------------------- golden-ami-fresh
AGE = "forensics:ami-age-days"
CREATED = "forensics:ami-creation-date"


@pytest.fixture(autouse=True)
def _no_env_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORENSICS_MAX_AMI_AGE_DAYS", raising=False)


def test_fresh_ami_passes() -> None:
    assert run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, AGE: "30"}}) == []
    assert run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, AGE: U_STR}}) == []


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (TAGS, "no forensics:ami-age-days tag"),
        ({**TAGS, AGE: "31"}, "31 days old; the limit is 30"),
        ({**TAGS, AGE: "old"}, "not a whole number"),
    ],
)
def test_stale_or_unknown_age_is_a_violation(tags: dict[str, str], expected: str) -> None:
    (found,) = run_resource("golden-ami-fresh", INSTANCE, {"tags": tags}, "ws")
    assert expected in found.message


def test_creation_date_tag_is_a_fallback() -> None:
    recent = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    stale = (datetime.now(UTC) - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, CREATED: recent}}) == []
    assert run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, CREATED: U_STR}}) == []
    (found,) = run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, CREATED: stale}})
    assert "90 days old" in found.message
    (found,) = run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, CREATED: "yesterday"}})
    assert "age is unknown" in found.message


def test_policy_config_overrides_the_limit() -> None:
    props = {"tags": {**TAGS, AGE: "45"}}
    assert run_resource("golden-ami-fresh", INSTANCE, props, config={"maxAmiAgeDays": 60}) == []
    assert run_resource(
        "golden-ami-fresh", INSTANCE, {"tags": {**TAGS, AGE: "8"}}, config={"maxAmiAgeDays": 7}
    )


def test_env_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORENSICS_MAX_AMI_AGE_DAYS", "5")
    (found,) = run_resource("golden-ami-fresh", INSTANCE, {"tags": {**TAGS, AGE: "6"}})
    assert "limit is 5" in found.message
