"""The source-account program deployed through the real engine (Automation API, a local workspace on
programs/source_account) into a local AWS that enforces IAM, judged with boto3: the evidence role's trust
and permissions read back as permissions.py declares them; assuming it needs the service's principal and the
external id; as the role, acquisition's calls are allowed and anything else (terminating an instance,
deleting a snapshot, IAM) is refused by the local AWS. A second run changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from programs.source_account import response
from programs.source_account.permissions import (
    EVIDENCE_POLICY_NAME,
    EVIDENCE_ROLE_NAME,
    evidence_policy,
    evidence_trust,
)
from service.config import PROJECT_ROOT, Settings
from service.containment import isolation
from tests.support.day_zero import program_stack
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

PROGRAM = PROJECT_ROOT / "programs" / "source_account"
ACCOUNT = "123456789012"  # the enforcing local AWS's administrator's account: the source account here
FORENSIC_ACCOUNT = "111122223333"
EXTERNAL_ID = "test-external-id-7f3a9c21d4e8"


def _client(aws: LocalAws, service: str, credentials: dict[str, str]) -> Any:
    return boto3.client(
        service, endpoint_url=aws.endpoint_url, region_name=aws.region, verify=False, **credentials
    )


def _refused(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    code = str(refused.value.response["Error"]["Code"])
    assert code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"), refused.value.response
    return code


def test_the_evidence_role_is_what_permissions_py_says_and_no_more(
    tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws
) -> None:
    aws = enforcing_aws
    settings = Settings(
        target="local",
        data_dir=tmp_path / "data",
        aws_endpoint_url=aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
        aws_access_key_id=aws.access_key_id,
        aws_secret_access_key=SecretStr(aws.secret_access_key),
    )
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
        _refused(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="no-external-id"))
        _refused(
            lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="wrong", ExternalId="x" + EXTERNAL_ID)
        )
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
        outsider = _client(
            aws,
            "sts",
            {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
        )
        _refused(
            lambda: outsider.assume_role(RoleArn=role_arn, RoleSessionName="outsider", ExternalId=EXTERNAL_ID)
        )

        assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="acquisition", ExternalId=EXTERNAL_ID)
        creds = assumed["Credentials"]
        as_role = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
        ec2 = _client(aws, "ec2", as_role)
        # What acquisition needs is allowed ...
        ec2.describe_volumes()
        ec2.describe_snapshots(OwnerIds=["self"])
        # ... and what it does not is refused by the local AWS.
        _refused(lambda: ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"]))
        _refused(lambda: ec2.delete_snapshot(SnapshotId="snap-0123456789abcdef0"))
        _refused(lambda: ec2.delete_volume(VolumeId="vol-0123456789abcdef0"))
        _refused(lambda: _client(aws, "iam", as_role).list_roles())

        # The response baseline: the deny-all profile containment checks and swaps in (read through the role,
        # which may not write it), and the memory document it may only run, exactly the project's file.
        role_iam = _client(aws, "iam", as_role)
        profile_arn = isolation.deny_all_profile(role_iam)
        assert profile_arn == f"arn:aws:iam::{ACCOUNT}:instance-profile/{response.DENY_ALL_PROFILE}"
        _refused(
            lambda: role_iam.put_role_policy(
                RoleName=response.DENY_ALL_PROFILE, PolicyName="allow", PolicyDocument="{}"
            )
        )
        ssm = aws.client("ssm")
        memory_document = ssm.get_document(Name=response.MEMORY_DOCUMENT_NAME)
        assert json.loads(memory_document["Content"]) == json.loads(response.memory_document_content())
        assert memory_document["DocumentType"] == "Command"
        _refused(
            lambda: _client(aws, "ssm", as_role).update_document(
                Name=response.MEMORY_DOCUMENT_NAME, Content="{}", DocumentVersion="$LATEST"
            )
        )

        # Re-running changes nothing.
        changes = stack.preview()
        assert set(changes) <= {"same"}, changes
