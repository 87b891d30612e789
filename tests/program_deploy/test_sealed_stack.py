"""The sealed clean room on the real engine: the key, bucket, trust and session policies as DEPLOYED (read
back with boto3), judged by an IAM policy evaluator (moto's, with the local launcher's condition operators:
the same code that judges bucket policies in the local AWS). The local AWS does not evaluate key policies,
role trust conditions or SSM session documents itself, so these are checked on the deployed documents. The
room is the enforced room (tests/support/enforced_room.py), read open and frozen; its last test releases,
thaws and destroys it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from programs.forensic_env.trust import GRANT_SID_PREFIX, session_tag_condition
from tests.support.enforced_room import INVESTIGATION, ROOM_GROUP, EnforcedRoom
from tests.support.policy_documents import as_list, statements_of

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group(name=ROOM_GROUP)]


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


def test_deployed_policies_seal_the_clean_room(open_room: EnforcedRoom) -> None:
    target = open_room.target
    account = target.account_id
    assert open_room.results["open"].succeeded
    out = open_room.out
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
    bypass = _evaluate(bucket_policy, "s3:BypassGovernanceRetention", f"{bucket_arn}/x", role["custodian"])
    assert bypass == "DENIED"
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"

    # Trust: never the account root; MFA or a source identity, and this investigation's session tag.
    iam = target.client("iam")
    for name, arn in role.items():
        trust = iam.get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        assert root not in json.dumps(trust), name
        standing = [s for s in statements_of(trust) if not s.get("Sid", "").startswith(GRANT_SID_PREFIX)]
        assert standing, name
        for s in standing:
            assert s["Condition"]["StringEquals"] == session_tag_condition(INVESTIGATION)
            assert "Bool" in s["Condition"] or "Null" in s["Condition"], s
        # A grant (the room's people hold some): a source identity, this investigation's tag, an end.
        for s in statements_of(trust):
            if s not in standing:
                equals = s["Condition"]["StringEquals"]
                assert equals == {
                    **session_tag_condition(INVESTIGATION),
                    "sts:SourceIdentity": equals.get("sts:SourceIdentity"),
                }
                assert equals["sts:SourceIdentity"] and "aws:CurrentTime" in s["Condition"]["DateLessThan"], s

    # Sessions only through the logged document: the default shell is denied to the investigator.
    investigator = role["investigator"].rsplit("/", 1)[1]
    doc = iam.get_role_policy(RoleName=investigator, PolicyName="forensics-investigator")["PolicyDocument"]
    shell = f"arn:aws:ssm:{target.settings.aws_region}::document/SSM-SessionManagerRunShell"
    assert _evaluate(doc, "ssm:StartSession", shell, role["investigator"]) == "DENIED"


def test_a_frozen_room_keeps_new_objects_under_compliance_retention(frozen_room: EnforcedRoom) -> None:
    s3 = frozen_room.client("s3")
    lock = s3.get_object_lock_configuration(Bucket=frozen_room.out["evidenceBucket"])[
        "ObjectLockConfiguration"
    ]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_the_frozen_room_is_released_thawed_and_destroyed(ended_room: EnforcedRoom) -> None:
    """Runs last: released (still frozen, protection lifted), thawed, destroyed."""
    results = ended_room.results
    for step in ("frozen", "released", "thawed", "destroyed"):
        assert results[step].succeeded, (step, results[step].error)
