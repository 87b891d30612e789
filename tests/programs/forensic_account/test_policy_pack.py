"""The policy pack on the forensic account program: what it declares passes the rules that judge it, and the
day-zero rules refuse an unbounded CreateRole, an unvalidated trail and an admin policy."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.policy.harness import run_resource

from .harness import run_account

RULES = ("iam-no-wildcards", "no-aws-managed-admin", "roles-bounded", "trail-validated")
DEPLOY_POLICY = "aws:iam/rolePolicy:RolePolicy"


@pytest.fixture(scope="module")
def resources() -> list[Any]:
    return run_account().custom()


def test_the_program_passes_the_rules_that_judge_it(resources: list[Any]) -> None:
    found = [
        (rule, r.type, v.message)
        for r in resources
        for rule in RULES
        for v in run_resource(rule, r.type, copy.deepcopy(r.inputs), r.name)
    ]
    assert found == []


def _deploy_policy(resources: list[Any]) -> dict[str, Any]:
    policy = next(r for r in resources if r.type == DEPLOY_POLICY and "deploy" in r.name)
    document: dict[str, Any] = json.loads(policy.inputs["policy"])
    return document


def test_a_create_role_without_the_boundary_condition_is_refused(resources: list[Any]) -> None:
    document = _deploy_policy(resources)
    for statement in document["Statement"]:
        if statement.get("Sid") == "RoleCreateBounded":
            del statement["Condition"]
    found = run_resource("roles-bounded", DEPLOY_POLICY, {"policy": json.dumps(document)}, "deploy-policy")
    assert len(found) == 1 and "iam:CreateRole, iam:PutRolePermissionsBoundary" in found[0].message


@pytest.mark.parametrize("action", ["iam:*", "iam:Create*", "*", "IAM:CREATEROLE"])
def test_wildcards_that_take_in_create_role_need_the_boundary_too(action: str) -> None:
    statement = {
        "Effect": "Allow",
        "Action": action,
        "Resource": "arn:aws:iam::123456789012:role/forensics-*",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert run_resource("roles-bounded", DEPLOY_POLICY, {"policy": document})


def test_a_boundary_condition_with_a_wildcard_arn_does_not_count() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "iam:CreateRole",
        "Resource": "arn:aws:iam::123456789012:role/forensics-*",
        "Condition": {"StringLike": {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/*"}},
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert run_resource("roles-bounded", DEPLOY_POLICY, {"policy": document})


def test_allowing_a_boundary_to_be_lifted_is_refused() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "iam:DeleteRolePermissionsBoundary",
        "Resource": "arn:aws:iam::123456789012:role/forensics-*",
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    found = run_resource("roles-bounded", DEPLOY_POLICY, {"policy": document})
    assert "iam:DeleteRolePermissionsBoundary" in found[0].message


@pytest.mark.parametrize(
    ("prop", "value"),
    [("enableLogFileValidation", False), ("isMultiRegionTrail", False), ("enableLogging", False)],
)
def test_a_trail_without_validation_or_every_region_is_refused(
    resources: list[Any], prop: str, value: Any
) -> None:
    trail = next(r for r in resources if r.type == "aws:cloudtrail/trail:Trail")
    props = {**copy.deepcopy(trail.inputs), prop: value}
    assert run_resource("trail-validated", trail.type, props, trail.name)


def test_an_admin_policy_on_any_role_is_refused() -> None:
    found = run_resource(
        "no-aws-managed-admin",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "forensics-deploy", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    assert found
    star = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]}
    )
    assert run_resource("iam-no-wildcards", DEPLOY_POLICY, {"policy": star})


def test_a_public_key_read_by_anyone_outside_the_organization_is_refused(resources: list[Any]) -> None:
    key = next(r for r in resources if r.type == "aws:kms/key:Key" and "signing" in r.name)
    document = json.loads(key.inputs["policy"])
    for statement in document["Statement"]:
        if statement["Sid"] == "OrganizationVerifies":
            del statement["Condition"]
    found = run_resource(
        "iam-no-wildcards", key.type, {**key.inputs, "policy": json.dumps(document)}, key.name
    )
    assert any("Principal '*'" in v.message for v in found)


def _everything(resources: list[Any]) -> dict[str, list[str]]:
    from tests.policy.harness import Res, run_everything

    declared = [Res(r.type, r.name, copy.deepcopy(r.inputs)) for r in resources]
    return {name: [v.message for v in found] for name, found in run_everything(declared).items() if found}


def test_the_whole_pack_passes_a_day_zero_stack(
    resources: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORENSICS_POLICY_STACK_KIND", "day-zero")
    assert _everything(resources) == {}


def test_only_the_service_declares_a_day_zero_stack(
    resources: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judged as a clean room (no kind declared), the baseline's resources lack the investigation tags: a
    clean-room program cannot shed them by tagging itself a baseline."""
    monkeypatch.delenv("FORENSICS_POLICY_STACK_KIND", raising=False)
    assert set(_everything(resources)) == {"required-tags"}


def test_kms_rotation_spares_asymmetric_keys_only() -> None:
    signing = {
        "customerMasterKeySpec": "ECC_NIST_P256",
        "keyUsage": "SIGN_VERIFY",
        "enableKeyRotation": False,
    }
    assert run_resource("kms-rotation", "aws:kms/key:Key", signing) == []
    symmetric = {"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "enableKeyRotation": False}
    assert run_resource("kms-rotation", "aws:kms/key:Key", symmetric)
    assert run_resource("kms-rotation", "aws:kms/key:Key", {"enableKeyRotation": False})


def _one(statement: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]})


@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        # Reads AWS authorizes on no resource type: "*" is the only Resource that matches them.
        ({"Action": ["ec2:DescribeInstances", "cloudtrail:LookupEvents"], "Resource": "*"}, False),
        # A read with resource types: "*" would take in every object.
        ({"Action": ["s3:GetObject"], "Resource": "*"}, True),
        # Mixed with a write: refused as a whole.
        ({"Action": ["ec2:DescribeInstances", "ec2:TerminateInstances"], "Resource": "*"}, True),
        # A resource-less create only when the call must tag what it creates.
        ({"Action": ["kms:CreateKey"], "Resource": "*"}, True),
        (
            {
                "Action": ["kms:CreateKey"],
                "Resource": "*",
                "Condition": {"Null": {"aws:RequestTag/forensics:investigation-id": "false"}},
            },
            False,
        ),
        ({"Action": ["ec2:Describe*"], "Resource": "*"}, True),
    ],
)
def test_every_resource_only_for_actions_aws_authorizes_on_none(
    statement: dict[str, Any], refused: bool
) -> None:
    found = run_resource("iam-no-wildcards", DEPLOY_POLICY, {"policy": _one(statement)})
    assert bool(found) is refused, found
