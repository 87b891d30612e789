"""The suite's shared local AWS (the ``local_aws`` fixture) really enforces IAM, and what the seed makes there
holds no administrator rights: the deploy role is the forensic account program's, refused whatever its policy
does not grant, and its policy is the program's document, not a copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from programs.forensic_account.config import BOUNDARY_POLICY_NAME, DEPLOY_POLICY_NAME
from programs.forensic_account.permissions import boundary_statements, deploy_statements
from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from tests.support.aws import denied, role_session
from tests.support.iam_audit import administrator_grants, in_account
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.organization_accounts import ADMINISTRATOR_ACCESS, MEMBER_ROLE_NAME
from tools.local_aws.seed import deploy_role_config, seed


@pytest.fixture(scope="module")
def seeded(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("enforced"), aws=local_aws)
    seed(settings)
    return settings


def _deploy_role(settings: Settings) -> str:
    role = settings.accounts[settings.aws_region].deploy_role_arn
    assert role is not None
    return role


def test_the_shared_local_aws_refuses_unknown_keys_and_the_deploy_role_beyond_its_policy(
    local_aws: LocalAws, seeded: Settings
) -> None:
    # moto's placeholder keys belong to nobody once the server enforces IAM.
    assert denied(lambda: local_aws._client("sts", "testing", "testing").get_caller_identity()) in (
        "InvalidClientTokenId",
        "AccessDenied",
    )
    # The settings a test builds act as the service's own identity, neither the operator nor moto's root
    # (tests/unit/test_suite_service_identity.py).
    assert seeded.aws_access_key_id not in (local_aws.access_key_id, "testing")
    deploy = role_session(local_aws, _deploy_role(seeded), "enforced")
    # Within its policy: reads it is granted.
    deploy("ec2").describe_vpcs()
    # Beyond it: IAM users, buckets outside the clean room's names, the golden image's parameter (a guardrail
    # deny), the role's own policy.
    assert denied(lambda: deploy("iam").create_user(UserName="intruder")) == "AccessDenied"
    assert denied(lambda: deploy("s3").create_bucket(Bucket="not-a-clean-room-bucket")) == "AccessDenied"
    assert (
        denied(
            lambda: deploy("ssm").put_parameter(
                Name=seeded.golden_ami_ssm_parameter, Value="ami-12345678", Type="String", Overwrite=True
            )
        )
        == "AccessDenied"
    )
    role_name = _deploy_role(seeded).rsplit("/", 1)[1]
    assert (
        denied(
            lambda: deploy("iam").put_role_policy(
                RoleName=role_name, PolicyName="more", PolicyDocument=json.dumps({"Statement": []})
            )
        )
        == "AccessDenied"
    )


def test_the_seeded_deploy_role_is_the_program_s_and_nothing_holds_administrator_rights(
    local_aws: LocalAws, seeded: Settings
) -> None:
    iam = local_aws.client("iam")
    role = _deploy_role(seeded)
    name = role.rsplit("/", 1)[1]
    # The program's documents, decided in one place (programs/forensic_account/permissions.py).
    cfg = deploy_role_config(seeded, seeded.aws_region, role)
    policy = iam.get_role_policy(RoleName=name, PolicyName=DEPLOY_POLICY_NAME)["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    assert policy["Statement"] == deploy_statements(cfg)
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    boundary = iam.get_policy(PolicyArn=cfg.boundary_policy_arn)["Policy"]
    assert boundary["PolicyName"] == BOUNDARY_POLICY_NAME
    document = iam.get_policy_version(PolicyArn=boundary["Arn"], VersionId=boundary["DefaultVersionId"])
    boundary_document = document["PolicyVersion"]["Document"]
    if isinstance(boundary_document, str):
        boundary_document = json.loads(boundary_document)
    assert boundary_document["Statement"] == boundary_statements(cfg)
    # The clean room's roles are made under that boundary (the local settings name it).
    assert seeded.accounts[seeded.aws_region].permissions_boundary_arn == cfg.boundary_policy_arn

    # No role or customer policy of ours grants administrator rights, in any account; the affected account
    # has only AWS's member-account role, the operator's way in.
    assert administrator_grants(iam) == []
    source_iam = in_account(local_aws, LOCAL_SOURCE_ACCOUNT, "iam")
    assert administrator_grants(source_iam) == [f"{MEMBER_ROLE_NAME} attaches"]
    attached = source_iam.list_attached_role_policies(RoleName=MEMBER_ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ADMINISTRATOR_ACCESS]


def test_seed_is_idempotent_under_enforcement(local_aws: LocalAws, seeded: Settings, tmp_path: Path) -> None:
    # A second test's settings (its own anchor bucket) seed the same accounts again without error.
    again = make_settings(tmp_path, aws=local_aws)
    assert seed(again)["amiId"] == seed(seeded)["amiId"]
