"""In the suite the service acts as its own least-privilege identity, as ``make run`` runs it: the IAM user
``forensics-service`` holding exactly ``service_identity.service_policy``, not the local AWS's administrator
(tests/conftest.py, ``local_aws``). What it does as itself rather than through a role is judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service import aws_clients
from service.bootstrap.service_identity import POLICY_NAME, service_policy
from service.config import LOCAL_SOURCE_ACCOUNT, ForensicAccount, Settings
from tests.support.aws import denied
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME
from tools.local_aws.seed import seed
from tools.local_aws.service_user import SERVICE_USER, merged_policy


@pytest.fixture(scope="module")
def seeded(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("identity"), aws=local_aws)
    seed(settings)
    return settings


def test_the_suite_s_service_is_forensics_service_not_the_operator(
    local_aws: LocalAws, seeded: Settings
) -> None:
    identity = aws_clients.client(seeded, "sts").get_caller_identity()
    operator = local_aws.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{operator['Account']}:user/{SERVICE_USER}"
    assert identity["Arn"] != operator["Arn"] == local_aws.admin_arn
    # Every Settings built from the environment (what a node or an engine child reads) is that identity.
    assert Settings().aws_access_key_id == seeded.aws_access_key_id


def test_the_service_holds_its_policy_and_no_administrator_rights(
    local_aws: LocalAws, seeded: Settings
) -> None:
    iam = local_aws.client("iam")
    assert iam.list_attached_user_policies(UserName=SERVICE_USER)["AttachedPolicies"] == []
    assert iam.list_groups_for_user(UserName=SERVICE_USER)["Groups"] == []
    assert iam.list_user_policies(UserName=SERVICE_USER)["PolicyNames"] == [POLICY_NAME]
    held = iam.get_user_policy(UserName=SERVICE_USER, PolicyName=POLICY_NAME)["PolicyDocument"]
    held = json.loads(held) if isinstance(held, str) else held
    # What these settings need is held (other modules of the worker may have added their accounts' roles)...
    assert merged_policy(held, service_policy(seeded)) == held
    # ...and nothing else: assuming the bootstrap's roles (and reading alerts, state, when configured).
    actions = {
        a for s in held["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "sts:AssumeRole" in actions
    assert not {a for a in actions if "*" in a}
    assert {s["Effect"] for s in held["Statement"]} == {"Allow"}
    roles = next(s["Resource"] for s in held["Statement"] if s["Sid"] == "AssumeDayZeroRoles")
    assert not any(role.endswith(f"/{MEMBER_ROLE_NAME}") or "*" in role for role in roles)


def test_the_enforcing_local_aws_refuses_the_service_what_its_policy_does_not_grant(
    local_aws: LocalAws, seeded: Settings, tmp_path: Path
) -> None:
    account = seeded.accounts[seeded.aws_region]
    # Through its deploy role, the service works in the forensic account...
    aws_clients.client(seeded, "ec2", role_arn=account.deploy_role_arn).describe_vpcs()
    # ...as itself, it can do nothing there: no bucket, no user, no reading the world.
    s3 = aws_clients.client(seeded, "s3")
    assert denied(lambda: s3.create_bucket(Bucket=f"not-through-a-role-{tmp_path.name[-8:].lower()}")) == (
        "AccessDenied"
    )
    assert (
        denied(lambda: aws_clients.client(seeded, "iam").create_user(UserName="intruder")) == "AccessDenied"
    )
    assert denied(lambda: aws_clients.client(seeded, "ec2").describe_vpcs()) in (
        "AccessDenied",
        "UnauthorizedOperation",
    )
    # Nor enter an account of the organization the way the operator does.
    member = f"arn:aws:iam::{LOCAL_SOURCE_ACCOUNT}:role/{MEMBER_ROLE_NAME}"
    assert denied(lambda: aws_clients.client(seeded, "sts", role_arn=member)) == "AccessDenied"


def test_a_grant_adds_another_settings_roles_without_widening_a_statement(tmp_path: Path) -> None:
    home = make_settings(tmp_path / "home", aws_endpoint_url="https://127.0.0.1:1")
    away = home.model_copy(
        update={
            "forensic_accounts": {"eu-west-1": ForensicAccount(account_id=LOCAL_SOURCE_ACCOUNT)},
            "pulumi_backend_url": "s3://shared-state?region=us-east-1",
        }
    )
    merged = merged_policy(service_policy(home), service_policy(away))
    by_sid = {s["Sid"]: s for s in merged["Statement"]}
    assert set(by_sid) == {"AssumeDayZeroRoles", "StateObjects", "StateBucket"}
    assert by_sid["AssumeDayZeroRoles"]["Action"] == "sts:AssumeRole"
    assert set(by_sid["AssumeDayZeroRoles"]["Resource"]) == set(
        service_policy(home)["Statement"][0]["Resource"] + service_policy(away)["Statement"][0]["Resource"]
    )
    assert by_sid["StateBucket"]["Resource"] == ["arn:aws:s3:::shared-state"]
    # Granting the same settings again changes nothing.
    assert merged_policy(merged, service_policy(away)) == merged
