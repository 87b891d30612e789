"""The sealed clean room on the real engine: the key, bucket, trust and session policies as DEPLOYED (read
back with boto3), judged by an IAM policy evaluator (moto's, with the local launcher's condition operators:
the same code that judges bucket policies in the local AWS). The local AWS does not evaluate key policies,
role trust conditions or SSM session documents itself, so these are checked on the deployed documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.orchestration.messages import OperationKind
from tests.program_deploy.test_forensic_environment import _run
from tests.support.deploy_targets import DeployTarget
from tests.support.policy_documents import as_list, statements_of

pytestmark = pytest.mark.engine

INVESTIGATION = "it-seal"


def _evaluate(document: dict[str, Any] | str, action: str, resource: str, principal_arn: str) -> str:
    """PERMITTED, DENIED or NEUTRAL for one request, as IAM's evaluation logic decides from this document."""
    from moto.iam.access_control import IAMPolicy

    from tools.local_aws import moto_server

    moto_server.install()  # condition operators (StringNotLike, ArnLike, Bool...) as the local AWS has them
    text = document if isinstance(document, str) else json.dumps(document)
    result = IAMPolicy(text).is_action_permitted(
        action,
        resource,
        incoming_condition_values={"aws:PrincipalArn": principal_arn, "aws:SecureTransport": "true"},
    )
    return str(result.name)


def test_deployed_policies_seal_the_clean_room(deploy_target: DeployTarget) -> None:
    target = deploy_target
    account = target.account_id
    up = _run(target, OperationKind.UP, INVESTIGATION)
    assert up.succeeded, up.error
    try:
        out = up.outputs
        role = {r: out[f"{r}RoleArn"] for r in ("responder", "investigator", "custodian", "analyst")}
        break_glass = f"arn:aws:iam::{account}:role/forensics-break-glass"
        root = f"arn:aws:iam::{account}:root"

        # The key: no kms:* for anyone, nothing for the account root, deletion by break-glass alone.
        kms = target.client("kms")
        key_policy = json.loads(kms.get_key_policy(KeyId=out["kmsKeyArn"], PolicyName="default")["Policy"])
        statements = statements_of(key_policy)
        assert not [s for s in statements if {"kms:*", "*"} & set(as_list(s["Action"]))]
        assert root not in json.dumps([s.get("Principal") for s in statements])
        for who in (role["custodian"], role["investigator"], root):
            assert _evaluate(key_policy, "kms:ScheduleKeyDeletion", "*", who) == "DENIED", who
        assert _evaluate(key_policy, "kms:ScheduleKeyDeletion", "*", break_glass) == "PERMITTED"

        # The bucket: its guard rails and retention bypass are denied to the custodian, not to break-glass.
        s3 = target.client("s3")
        bucket = out["evidenceBucket"]
        bucket_arn = f"arn:aws:s3:::{bucket}"
        bucket_policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        for action in ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration"):
            assert _evaluate(bucket_policy, action, bucket_arn, role["custodian"]) == "DENIED", action
            assert _evaluate(bucket_policy, action, bucket_arn, break_glass) != "DENIED", action
        bypass = _evaluate(
            bucket_policy, "s3:BypassGovernanceRetention", f"{bucket_arn}/x", role["custodian"]
        )
        assert bypass == "DENIED"
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"

        # Trust: never the account root; MFA or a source identity, and this investigation's session tag.
        iam = target.client("iam")
        for name, arn in role.items():
            trust = iam.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
            trust = json.loads(trust) if isinstance(trust, str) else trust
            assert root not in json.dumps(trust), name
            for s in statements_of(trust):
                assert s["Condition"]["StringEquals"] == {
                    "aws:RequestTag/forensics-investigation": INVESTIGATION
                }
                assert "Bool" in s["Condition"] or "Null" in s["Condition"], s

        # Sessions only through the logged document: the default shell is denied to the investigator.
        investigator = role["investigator"].rsplit("/", 1)[1]
        doc = iam.get_role_policy(RoleName=investigator, PolicyName="forensics-investigator")[
            "PolicyDocument"
        ]
        shell = f"arn:aws:ssm:{target.settings.aws_region}::document/SSM-SessionManagerRunShell"
        assert _evaluate(doc, "ssm:StartSession", shell, role["investigator"]) == "DENIED"

        # Frozen: new objects fall under COMPLIANCE retention.
        frozen = _run(target, OperationKind.UP, INVESTIGATION, frozen=True)
        assert frozen.succeeded, frozen.error
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
        assert _run(target, OperationKind.UP, INVESTIGATION, frozen=True, unprotect=True).succeeded
        assert _run(target, OperationKind.UP, INVESTIGATION).succeeded
    finally:
        _run(target, OperationKind.DESTROY, INVESTIGATION)
