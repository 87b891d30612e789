"""required-tags (golden-ami-fresh: test_golden_ami.py)."""

from __future__ import annotations

import json

import pytest

from .harness import TAGS, U_OBJ, U_STR, run_resource

VPC = "aws:ec2/vpc:Vpc"


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
