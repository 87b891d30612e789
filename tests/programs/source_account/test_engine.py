"""The source-account program deployed through the real engine by the session's day zero
(``local_day_zero``, tests/conftest.py: `make run`'s bootstrap builds it in the sample affected account,
through the organization's member-account role, in a local AWS that enforces IAM), judged with boto3: the
evidence role's trust and permissions read back as permissions.py declares them; assuming it needs the
service's principal and the external id; as the role, acquisition's calls are allowed and anything else
(terminating an instance, deleting a snapshot, IAM) is refused by the local AWS. The second run, which
changes nothing, is tests/bootstrap/test_local_day_zero_engine.py's."""

from __future__ import annotations

import json

import pytest

from programs.source_account import response
from programs.source_account.permissions import (
    EVIDENCE_POLICY_NAME,
    EVIDENCE_ROLE_NAME,
    evidence_policy,
    evidence_trust,
)
from service.containment import isolation
from tests.support.aws import clients_with, denied
from tests.support.iam_audit import in_account
from tests.support.local_day_zero import DAY_ZERO_GROUP, DayZero

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(DAY_ZERO_GROUP)]

OUTSIDER = "outsider"

# How the local AWS refuses a call (query protocols: UnauthorizedOperation for EC2).
REFUSED = ("AccessDenied", "UnauthorizedOperation")


def test_the_evidence_role_is_what_permissions_py_says_and_no_more(local_day_zero: DayZero) -> None:
    aws, done = local_day_zero.aws, local_day_zero.done
    account, external_id = done.source_account_id, local_day_zero.source_external_id
    forensic_account = local_day_zero.forensic_account_id
    service_principal = done.service_arn
    (stack,) = [s for s in done.result.stacks if s.program == "source_account"]
    outputs = stack.outputs
    role_arn = outputs["evidenceRoleArn"]
    assert role_arn == f"arn:aws:iam::{account}:role/{EVIDENCE_ROLE_NAME}"
    assert (outputs["accountId"], outputs["externalId"]) == (account, external_id)

    iam = in_account(aws, account, "iam")
    role = iam.get_role(RoleName=EVIDENCE_ROLE_NAME)["Role"]
    assert role["AssumeRolePolicyDocument"] == evidence_trust([service_principal], external_id)
    assert iam.list_role_policies(RoleName=EVIDENCE_ROLE_NAME)["PolicyNames"] == [EVIDENCE_POLICY_NAME]
    document = iam.get_role_policy(RoleName=EVIDENCE_ROLE_NAME, PolicyName=EVIDENCE_POLICY_NAME)
    assert document["PolicyDocument"] == evidence_policy(account, [forensic_account])
    assert iam.list_attached_role_policies(RoleName=EVIDENCE_ROLE_NAME)["AttachedPolicies"] == []

    # Trust: without the external id, or with another, the service itself is refused.
    sts = local_day_zero.as_service("sts")
    assert denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="no-external-id")) in REFUSED
    wrong = {"RoleSessionName": "wrong", "ExternalId": "x" + external_id}
    assert denied(sts.assume_role, RoleArn=role_arn, **wrong) in REFUSED
    # Another identity of the account, allowed sts:AssumeRole by its own policy and holding the external
    # id, is refused too: the trust names the service's principals only.
    iam.create_user(UserName=OUTSIDER)
    try:
        iam.put_user_policy(
            UserName=OUTSIDER,
            PolicyName="assume-anything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName=OUTSIDER)["AccessKey"]
        outsider = clients_with(key, endpoint_url=aws.endpoint_url, region=aws.region)("sts")
        assert outsider.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:user/{OUTSIDER}"
        as_outsider = {"RoleSessionName": "outsider", "ExternalId": external_id}
        assert denied(outsider.assume_role, RoleArn=role_arn, **as_outsider) in REFUSED
    finally:
        # The session's day zero is shared: the outsider leaves with the test.
        for listed in iam.list_access_keys(UserName=OUTSIDER)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=OUTSIDER, AccessKeyId=listed["AccessKeyId"])
        for policy_name in iam.list_user_policies(UserName=OUTSIDER)["PolicyNames"]:
            iam.delete_user_policy(UserName=OUTSIDER, PolicyName=policy_name)
        iam.delete_user(UserName=OUTSIDER)

    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="acquisition", ExternalId=external_id)
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
    assert profile_arn == f"arn:aws:iam::{account}:instance-profile/{response.DENY_ALL_PROFILE}"
    allow = {"PolicyName": "allow", "PolicyDocument": "{}"}
    assert denied(role_iam.put_role_policy, RoleName=response.DENY_ALL_PROFILE, **allow) in REFUSED
    ssm = in_account(aws, account, "ssm")
    memory_document = ssm.get_document(Name=response.MEMORY_DOCUMENT_NAME)
    assert json.loads(memory_document["Content"]) == json.loads(response.memory_document_content())
    assert memory_document["DocumentType"] == "Command"
    emptied = {"Content": "{}", "DocumentVersion": "$LATEST"}
    assert denied(as_role("ssm").update_document, Name=response.MEMORY_DOCUMENT_NAME, **emptied) in REFUSED
