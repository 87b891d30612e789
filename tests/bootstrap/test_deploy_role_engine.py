"""The scoped deploy role, proven with IAM enforced: `forensics bootstrap` builds the forensic account
(programs/forensic_account) in a local AWS that enforces IAM and judges resource ARNs and tag/boundary
conditions (tools/local_aws/iam_resources.py); the service then opens a clean room (programs/forensic_env on
the real engine) through THAT deploy role and freezes it, and opens and destroys another, no administrator
involved. Removing one action the clean room needs from the role's policy makes the deployment fail with
AccessDenied, and the role cannot make a role without the clean-room boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from programs.forensic_env.tags import TAG_INVESTIGATION
from service.bootstrap.programs import FORENSIC_ACCOUNT, BootstrapOptions
from service.bootstrap.run import bootstrap
from service.config import ForensicAccount, Settings
from service.main import create_app
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.aws import role_session
from tests.support.settings import make_engine_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed_account

pytestmark = pytest.mark.engine

DEPLOY_POLICY = "forensics-deploy"


@dataclass(frozen=True)
class DayZero:
    aws: LocalAws
    settings: Settings  # the service's: every clean room through the bootstrap's deploy role
    deploy_role_arn: str
    boundary_arn: str
    external_id: str | None


@pytest.fixture(scope="module")
def day_zero(enforcing_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path) -> DayZero:
    aws = enforcing_aws
    base = make_engine_settings(
        tmp_path_factory.mktemp("deploy-role"),
        aws,
        pulumi_cli,
        as_administrator=True,
        integrations_periodic_tasks=False,
        # The service's identity: the local AWS's administrator user, who is not the deploy role.
        service_principal_arns=[aws.admin_arn],
    )
    # The forensic account's program only: this proves its deploy role (the source accounts' row is proven in
    # test_bootstrap_engine.py, through an organization's member-account role this local AWS does not have).
    result = bootstrap(base, BootstrapOptions(golden_image_pipeline=False), programs=(FORENSIC_ACCOUNT,))
    # What the world has before day zero (a golden image and its parameter), made by the administrator.
    seed_account(base, base.aws_region, None)
    accounts = {
        region: ForensicAccount(**account)
        for region, account in json.loads(result.settings["FORENSICS_FORENSIC_ACCOUNTS"]).items()
    }
    home = accounts[base.aws_region]
    assert home.deploy_role_arn and home.deploy_role_arn.endswith(":role/forensics-deploy")
    return DayZero(
        aws=aws,
        settings=base.model_copy(update={"forensic_accounts": accounts}),
        deploy_role_arn=home.deploy_role_arn,
        boundary_arn=f"arn:aws:iam::{base.aws_account_id}:policy/forensics-cleanroom-boundary",
        external_id=home.external_id,
    )


@pytest.fixture
def deploy_policy(day_zero: DayZero) -> Iterator[dict[str, Any]]:
    """The deploy role's policy as the bootstrap made it, put back after the test."""
    iam = day_zero.aws.client("iam")
    role = day_zero.deploy_role_arn.rsplit("/", 1)[1]
    document = iam.get_role_policy(RoleName=role, PolicyName=DEPLOY_POLICY)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    yield document
    iam.put_role_policy(RoleName=role, PolicyName=DEPLOY_POLICY, PolicyDocument=json.dumps(document))


def _open(
    day_zero: DayZero, ticket: str, *, then: str | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Open a clean room through the service (then freeze or destroy it): the operations and the
    investigation."""
    after = None
    with TestClient(create_app(day_zero.settings)) as client:
        response = client.post("/v1/investigations", json=open_body(ticket), headers=ADMIN)
        assert response.status_code == 202, response.text
        op = wait_operation(client, response.json()["operation"]["id"], timeout=900)
        inv_id = response.json()["investigation"]["id"]
        if then and op["state"] == "succeeded":
            next_step = client.post(f"/v1/investigations/{inv_id}/{then}", headers=ADMIN)
            assert next_step.status_code == 202, next_step.text
            after = wait_operation(client, next_step.json()["operation"]["id"], timeout=900)
        inv = client.get(f"/v1/investigations/{inv_id}", headers=ADMIN).json()
    return op, inv, after


def _as_deploy_role(day_zero: DayZero, service: str) -> Any:
    extra = {"ExternalId": day_zero.external_id} if day_zero.external_id else {}
    return role_session(day_zero.aws, day_zero.deploy_role_arn, "deploy-role-test", **extra)(service)


def test_a_clean_room_opens_and_freezes_through_the_bootstrap_s_scoped_deploy_role(
    day_zero: DayZero, deploy_policy: dict[str, Any]
) -> None:
    # The role the service deploys through holds no administrator and no wildcard action.
    iam = day_zero.aws.client("iam")
    role = day_zero.deploy_role_arn.rsplit("/", 1)[1]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    for statement in deploy_policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert statement["Effect"] == "Deny" or not [a for a in actions if "*" in a], statement

    op, inv, frozen = _open(day_zero, "SEC-960", then="freeze")
    assert op["state"] == "succeeded", op
    assert frozen is not None and frozen["state"] == "succeeded", frozen
    assert inv["status"] == "frozen", inv
    assert inv["assume_role_arn"] == day_zero.deploy_role_arn
    outputs = inv["outputs"]
    ec2 = day_zero.aws.client("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[outputs["vpcId"]])["Vpcs"][0]
    assert {"Key": TAG_INVESTIGATION, "Value": inv["id"]} in vpc.get("Tags", []), vpc
    # Every role the clean room made carries the boundary (the deploy role could not make it otherwise).
    made = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"forensics-{inv['id']}")]
    assert made
    for cleanroom_role in made:
        got = iam.get_role(RoleName=cleanroom_role["RoleName"])["Role"]
        assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == day_zero.boundary_arn, got


def test_a_clean_room_is_destroyed_through_the_deploy_role(day_zero: DayZero) -> None:
    op, inv, destroyed = _open(day_zero, "SEC-962", then="destroy")
    assert op["state"] == "succeeded", op
    assert destroyed is not None and destroyed["state"] == "succeeded", destroyed
    ec2 = day_zero.aws.client("ec2")
    tagged = [{"Name": f"tag:{TAG_INVESTIGATION}", "Values": [inv["id"]]}]
    assert ec2.describe_vpcs(Filters=tagged)["Vpcs"] == []
    assert [
        i
        for r in ec2.describe_instances(Filters=tagged)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ] == []


def test_one_action_taken_from_the_deploy_role_fails_the_clean_room_with_access_denied(
    day_zero: DayZero, deploy_policy: dict[str, Any]
) -> None:
    weakened = json.loads(json.dumps(deploy_policy))
    for statement in weakened["Statement"]:
        if statement["Effect"] == "Allow" and "ec2:CreateSecurityGroup" in statement["Action"]:
            statement["Action"].remove("ec2:CreateSecurityGroup")
    iam = day_zero.aws.client("iam")
    iam.put_role_policy(
        RoleName=day_zero.deploy_role_arn.rsplit("/", 1)[1],
        PolicyName=DEPLOY_POLICY,
        PolicyDocument=json.dumps(weakened),
    )
    op, _, _ = _open(day_zero, "SEC-961")
    assert op["state"] == "failed", op
    error = op["error"]["message"]
    assert "AccessDenied" in error and "ec2:CreateSecurityGroup" in error, error
    assert day_zero.deploy_role_arn.split(":")[4] in error


def test_the_deploy_role_cannot_make_a_role_without_the_clean_room_boundary(day_zero: DayZero) -> None:
    iam = _as_deploy_role(day_zero, "iam")
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
        ("forensics-other-bound", f"arn:aws:iam::{day_zero.settings.aws_account_id}:policy/forensics-deploy"),
    ):
        extra = {"PermissionsBoundary": boundary} if boundary else {}
        with pytest.raises(ClientError) as denied:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **extra)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert "iam:CreateRole" in denied.value.response["Error"]["Message"]
        refused.append(name)
    names = {r["RoleName"] for r in day_zero.aws.client("iam").list_roles()["Roles"]}
    assert not set(refused) & names
    bounded = iam.create_role(
        RoleName="forensics-bounded",
        AssumeRolePolicyDocument=trust,
        PermissionsBoundary=day_zero.boundary_arn,
    )
    assert bounded["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == day_zero.boundary_arn
    iam.delete_role(RoleName="forensics-bounded")
