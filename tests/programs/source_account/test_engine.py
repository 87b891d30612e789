"""The source-account program deployed through the real engine (Automation API, a local workspace on
programs/source_account) into a local AWS that enforces IAM, judged with boto3: the evidence role's trust
and permissions read back as permissions.py declares them; assuming it needs the service's principal and the
external id; as the role, acquisition's calls are allowed and anything else (terminating an instance,
deleting a snapshot, IAM) is refused by the local AWS. A second run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from programs.source_account import response
from programs.source_account.permissions import (
    EVIDENCE_POLICY_NAME,
    EVIDENCE_ROLE_NAME,
    evidence_policy,
    evidence_trust,
)
from service.config import PROJECT_ROOT
from service.containment import isolation
from tests.support.aws import clients_with, denied
from tests.support.day_zero import program_stack
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

PROGRAM = PROJECT_ROOT / "programs" / "source_account"
ACCOUNT = "123456789012"  # the enforcing local AWS's administrator's account: the source account here
FORENSIC_ACCOUNT = "111122223333"
EXTERNAL_ID = "test-external-id-7f3a9c21d4e8"


# How the local AWS refuses a call (query protocols: UnauthorizedOperation for EC2).
REFUSED = ("AccessDenied", "UnauthorizedOperation")


def test_the_evidence_role_is_what_permissions_py_says_and_no_more(
    tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws
) -> None:
    aws = enforcing_aws
    settings = make_settings(tmp_path, aws=aws, as_administrator=True, pulumi_cli=pulumi_cli)
    assert aws.admin_arn
    service_principal = aws.admin_arn
    config = {
        "accountId": ACCOUNT,
        "servicePrincipalArns": [service_principal],
        "externalId": EXTERNAL_ID,
        "forensicAccountIds": [FORENSIC_ACCOUNT],
    }
    with program_stack(
        settings, PROGRAM, "programs.source_account.program:source_account", f"source-{ACCOUNT}", config
    ) as stack:
        outputs = stack.up()
        role_arn = outputs["evidenceRoleArn"]
        assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/{EVIDENCE_ROLE_NAME}"
        assert (outputs["accountId"], outputs["externalId"]) == (ACCOUNT, EXTERNAL_ID)

        iam = aws.client("iam")
        role = iam.get_role(RoleName=EVIDENCE_ROLE_NAME)["Role"]
        assert role["AssumeRolePolicyDocument"] == evidence_trust([service_principal], EXTERNAL_ID)
        assert iam.list_role_policies(RoleName=EVIDENCE_ROLE_NAME)["PolicyNames"] == [EVIDENCE_POLICY_NAME]
        document = iam.get_role_policy(RoleName=EVIDENCE_ROLE_NAME, PolicyName=EVIDENCE_POLICY_NAME)
        assert document["PolicyDocument"] == evidence_policy(ACCOUNT, [FORENSIC_ACCOUNT])
        assert iam.list_attached_role_policies(RoleName=EVIDENCE_ROLE_NAME)["AttachedPolicies"] == []

        # Trust: without the external id, or with another, the service itself is refused.
        sts = aws.client("sts")
        assert denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="no-external-id")) in REFUSED
        wrong = {"RoleSessionName": "wrong", "ExternalId": "x" + EXTERNAL_ID}
        assert denied(sts.assume_role, RoleArn=role_arn, **wrong) in REFUSED
        # Another identity of the account, allowed sts:AssumeRole by its own policy and holding the external
        # id, is refused too: the trust names the service's principals only.
        iam.create_user(UserName="outsider")
        iam.put_user_policy(
            UserName="outsider",
            PolicyName="assume-anything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="outsider")["AccessKey"]
        outsider = clients_with(key, endpoint_url=aws.endpoint_url, region=aws.region)("sts")
        as_outsider = {"RoleSessionName": "outsider", "ExternalId": EXTERNAL_ID}
        assert denied(outsider.assume_role, RoleArn=role_arn, **as_outsider) in REFUSED

        assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="acquisition", ExternalId=EXTERNAL_ID)
        as_role = clients_with(assumed["Credentials"], endpoint_url=aws.endpoint_url, region=aws.region)
        ec2 = as_role("ec2")
        # What acquisition needs is allowed ...
        ec2.describe_volumes()
        ec2.describe_snapshots(OwnerIds=["self"])
        # ... and what it does not is refused by the local AWS.
        assert denied(lambda: ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"])) in REFUSED
        assert denied(lambda: ec2.delete_snapshot(SnapshotId="snap-0123456789abcdef0")) in REFUSED
        assert denied(lambda: ec2.delete_volume(VolumeId="vol-0123456789abcdef0")) in REFUSED
        assert denied(lambda: as_role("iam").list_roles()) in REFUSED

        # The response baseline: the deny-all profile containment checks and swaps in (read through the role,
        # which may not write it), and the memory document it may only run, exactly the project's file.
        role_iam = as_role("iam")
        profile_arn = isolation.deny_all_profile(role_iam)
        assert profile_arn == f"arn:aws:iam::{ACCOUNT}:instance-profile/{response.DENY_ALL_PROFILE}"
        allow = {"PolicyName": "allow", "PolicyDocument": "{}"}
        assert denied(role_iam.put_role_policy, RoleName=response.DENY_ALL_PROFILE, **allow) in REFUSED
        ssm = aws.client("ssm")
        memory_document = ssm.get_document(Name=response.MEMORY_DOCUMENT_NAME)
        assert json.loads(memory_document["Content"]) == json.loads(response.memory_document_content())
        assert memory_document["DocumentType"] == "Command"
        emptied = {"Content": "{}", "DocumentVersion": "$LATEST"}
        assert (
            denied(as_role("ssm").update_document, Name=response.MEMORY_DOCUMENT_NAME, **emptied) in REFUSED
        )

        # Re-running changes nothing.
        changes = stack.preview()
        assert set(changes) <= {"same"}, changes
