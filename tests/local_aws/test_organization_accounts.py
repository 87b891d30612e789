"""The local AWS's member accounts as AWS Organizations makes them (tools/local_aws/organization_accounts.py):
CreateAccount gives the account OrganizationAccountAccessRole with AdministratorAccess, trusting the
management account; a role in another account is assumed only as its trust allows, and one that does not
exist not at all. Checked with boto3 against a local AWS that enforces IAM."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.aws import clients_with
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import ADMINISTRATOR_ACCESS, MEMBER_ROLE_NAME

# One worker runs the module, so its own local AWS (`enforcing_aws`, a module fixture, about 5 CPU-s to start
# and stop) is started once, not once per worker that gets one of its tests.
pytestmark = pytest.mark.xdist_group(name="organization-accounts")


def _as(aws: LocalAws, credentials: dict[str, str], service: str) -> Any:
    return clients_with(credentials, endpoint_url=aws.endpoint_url, region=aws.region)(service)


@pytest.fixture(scope="module")
def member(enforcing_aws: LocalAws) -> str:
    organizations = enforcing_aws.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    status = organizations.create_account(AccountName="member", Email="member@example.com")
    return str(status["CreateAccountStatus"]["AccountId"])


def test_a_created_account_has_the_access_role_with_administrator_access(
    enforcing_aws: LocalAws, member: str
) -> None:
    role_arn = f"arn:aws:iam::{member}:role/{MEMBER_ROLE_NAME}"
    credentials = enforcing_aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="operator")[
        "Credentials"
    ]
    iam = _as(enforcing_aws, credentials, "iam")
    role = iam.get_role(RoleName=MEMBER_ROLE_NAME)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert [s["Principal"] for s in trust["Statement"]] == [{"AWS": "arn:aws:iam::123456789012:root"}]
    attached = iam.list_attached_role_policies(RoleName=MEMBER_ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMINISTRATOR_ACCESS]
    # The operator really administers the account through it.
    iam.create_user(UserName="made-by-the-operator")
    assert iam.get_user(UserName="made-by-the-operator")["User"]["Arn"].split(":")[4] == member


def test_cross_account_trust_is_judged_and_a_missing_role_is_refused(
    enforcing_aws: LocalAws, member: str
) -> None:
    operator = enforcing_aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member}:role/{MEMBER_ROLE_NAME}", RoleSessionName="operator"
    )["Credentials"]
    member_iam = _as(enforcing_aws, operator, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/trusted"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    member_iam.create_role(RoleName="narrow", AssumeRolePolicyDocument=json.dumps(trust))
    iam = enforcing_aws.client("iam")
    may_assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    keys = {}
    for name in ("trusted", "untrusted"):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(may_assume))
        keys[name] = iam.create_access_key(UserName=name)["AccessKey"]
    narrow = f"arn:aws:iam::{member}:role/narrow"
    assumed = _as(enforcing_aws, keys["trusted"], "sts").assume_role(RoleArn=narrow, RoleSessionName="ok")
    assert assumed["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{member}:assumed-role/narrow/")
    for role_arn, user in (
        (narrow, "untrusted"),  # the trust names another principal
        (f"arn:aws:iam::{member}:role/no-such-role", "trusted"),  # nothing to trust anyone
    ):
        with pytest.raises(ClientError) as refused:
            _as(enforcing_aws, keys[user], "sts").assume_role(RoleArn=role_arn, RoleSessionName="no")
        assert refused.value.response["Error"]["Code"] == "AccessDenied", role_arn
