"""The scoped deploy role, proven with IAM enforced, on the session's day zero (``local_day_zero``,
tests/conftest.py: the bootstrap built the forensic account in a local AWS that enforces IAM and judges
resource ARNs and tag/boundary conditions, tools/local_aws/iam_resources.py). A clean room opened, frozen
and destroyed through THAT deploy role, no administrator involved, is proven by
test_local_day_zero_engine.py's room. Here: removing one action the clean room needs from the role's policy
makes the deployment fail with AccessDenied, and the role cannot make a role without the clean-room
boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.aws import clients_with
from tests.support.local_day_zero import DAY_ZERO_GROUP, DayZero
from tools.local_aws.aws import LocalAws

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(DAY_ZERO_GROUP)]

DEPLOY_POLICY = "forensics-deploy"


@dataclass(frozen=True)
class DeployRole:
    day_zero: DayZero
    aws: LocalAws
    settings: Settings  # the service's: every clean room through the bootstrap's deploy role
    deploy_role_arn: str
    boundary_arn: str
    external_id: str | None


@pytest.fixture
def deploy_role(local_day_zero: DayZero) -> DeployRole:
    """The day zero's deploy role, as the service's settings name it."""
    settings = local_day_zero.settings
    home = settings.accounts[settings.aws_region]
    assert home.deploy_role_arn and home.deploy_role_arn.endswith(":role/forensics-deploy")
    return DeployRole(
        day_zero=local_day_zero,
        aws=local_day_zero.aws,
        settings=settings,
        deploy_role_arn=home.deploy_role_arn,
        boundary_arn=f"arn:aws:iam::{home.account_id}:policy/forensics-cleanroom-boundary",
        external_id=home.external_id,
    )


@pytest.fixture
def deploy_policy(deploy_role: DeployRole) -> Iterator[dict[str, Any]]:
    """The deploy role's policy as the bootstrap made it, put back after the test."""
    iam = deploy_role.aws.client("iam")
    role = deploy_role.deploy_role_arn.rsplit("/", 1)[1]
    document = iam.get_role_policy(RoleName=role, PolicyName=DEPLOY_POLICY)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    yield document
    iam.put_role_policy(RoleName=role, PolicyName=DEPLOY_POLICY, PolicyDocument=json.dumps(document))


def _open(deploy_role: DeployRole, ticket: str) -> dict[str, Any]:
    """Open a clean room through the service: the operation."""
    with TestClient(create_app(deploy_role.settings)) as client:
        response = client.post("/v1/investigations", json=open_body(ticket), headers=ADMIN)
        assert response.status_code == 202, response.text
        return dict(wait_operation(client, response.json()["operation"]["id"], timeout=900))


def _as_deploy_role(deploy_role: DeployRole, service: str) -> Any:
    """A client acting as the deploy role, assumed as the service (the only principal its trust names)."""
    extra = {"ExternalId": deploy_role.external_id} if deploy_role.external_id else {}
    sts = deploy_role.day_zero.as_service("sts")
    credentials = sts.assume_role(
        RoleArn=deploy_role.deploy_role_arn, RoleSessionName="deploy-role-test", **extra
    )
    return clients_with(
        credentials["Credentials"], endpoint_url=deploy_role.aws.endpoint_url, region=deploy_role.aws.region
    )(service)


def test_one_action_taken_from_the_deploy_role_fails_the_clean_room_with_access_denied(
    deploy_role: DeployRole, deploy_policy: dict[str, Any]
) -> None:
    weakened = json.loads(json.dumps(deploy_policy))
    for statement in weakened["Statement"]:
        if statement["Effect"] == "Allow" and "ec2:CreateSecurityGroup" in statement["Action"]:
            statement["Action"].remove("ec2:CreateSecurityGroup")
    iam = deploy_role.aws.client("iam")
    iam.put_role_policy(
        RoleName=deploy_role.deploy_role_arn.rsplit("/", 1)[1],
        PolicyName=DEPLOY_POLICY,
        PolicyDocument=json.dumps(weakened),
    )
    op = _open(deploy_role, "SEC-961")
    assert op["state"] == "failed", op
    error = op["error"]["message"]
    assert "AccessDenied" in error and "ec2:CreateSecurityGroup" in error, error
    assert deploy_role.deploy_role_arn.split(":")[4] in error


def test_the_deploy_role_cannot_make_a_role_without_the_clean_room_boundary(deploy_role: DeployRole) -> None:
    iam = _as_deploy_role(deploy_role, "iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    refused = []
    for name, boundary in (
        ("forensics-unbounded", None),
        (
            "forensics-other-bound",
            f"arn:aws:iam::{deploy_role.settings.aws_account_id}:policy/forensics-deploy",
        ),
    ):
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        with pytest.raises(ClientError) as denied:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert "iam:CreateRole" in denied.value.response["Error"]["Message"]
        refused.append(name)
    names = {r["RoleName"] for r in deploy_role.aws.client("iam").list_roles()["Roles"]}
    assert not set(refused) & names
    bounded = iam.create_role(
        RoleName="forensics-bounded",
        AssumeRolePolicyDocument=trust,
        PermissionsBoundary=deploy_role.boundary_arn,
    )
    assert bounded["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == deploy_role.boundary_arn
    iam.delete_role(RoleName="forensics-bounded")
