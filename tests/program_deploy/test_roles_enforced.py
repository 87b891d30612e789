"""The four people of a clean room, proven with real calls against a local AWS that enforces IAM.

The local AWS runs with moto's IAM enforcement on (``LocalAws(enforce_iam=True)``: every signed request is
checked against the caller's identity policies, ``sts:AssumeRole`` against the role's trust policy too). The
forensic program is deployed through the real engine and policy pack, as the local AWS's administrator
(``forensics-local-admin``, ``AdministratorAccess``), then each role is assumed the way a person would, from
the break-glass role (granted each role just in time, as one person per role), with a source identity
and the ``forensics-investigation`` session tag. The room is the enforced room
(tests/support/enforced_room.py): its four people sign in when it opens, and read it open and frozen.
Every "denied" below is an AccessDenied answered by the local AWS to that role's session; every denial has
a counterpart the same call shape is allowed for (another role, another prefix, or before the freeze), so
none passes because the call itself cannot work.

What the local AWS judges, and what not (``tools.local_aws.aws.LocalAws``, ``tools.local_aws.moto_server``):

- Identity policies: Action and Resource of every inline policy, and explicit Denies (the freeze's deny-all)
  on each request, live sessions included. Conditions in identity policies are not judged (moto has no
  request context for them): the responder's and analyst's ListBucket ``s3:prefix`` conditions would pass
  for any prefix, so listing is not asserted here.
- Trust: moto checks the trust policy at AssumeRole, but alone it skips every condition it cannot read (the
  session tag, ``Null`` on the source identity, MFA all pass) and compares the caller's *session* ARN with the
  principals (so no role's session could ever assume another role). The enforcing launcher judges trust as
  STS does: the request's session tags and source identity are the context, a missing key fails its
  condition, ``sts:TagSession`` / ``sts:SetSourceIdentity`` are needed for tags and a source identity, and a
  role's sessions are that role. The refusals below (no tag, another investigation's tag, no source identity
  and no MFA, a principal not named) come from that evaluation. MFA is never present locally, so the MFA
  path of the trust policy (the only standing one) is not exercised: each person here is a grant.
- S3 sub-resources are checked as their own IAM actions (``s3:PutObjectLegalHold``...): without the launcher
  moto would check a legal hold as ``s3:PutObject``.
- KMS: not judged behind S3. The evidence is SSE-KMS encrypted with the investigation key (asserted), but
  moto's S3 never calls KMS, so neither the key policy nor the roles' ``kms:`` permissions decide any S3
  read or write here; the key policy is judged on the deployed document in ``test_sealed_stack.py``.
- SSM: moto checks ``ssm:StartSession`` against ``*`` (not the instance or document), so only the custodian's
  refusal (no SSM permission at all) is meaningful; the investigator's logged-session grant is not asserted.
"""

from __future__ import annotations

import json

import boto3
import pytest

from programs.forensic_env.access import (
    FROZEN_DENY_POLICY,
    FROZEN_ROLES,
    INCOMING,
    INVESTIGATION_SESSION_TAG,
    NOTES,
    REPORTS,
)
from programs.forensic_env.trust import PERSON_ROLES
from tests.support.aws import denied, refusal
from tests.support.enforced_room import BREAK_GLASS, INVESTIGATION, ROOM_GROUP, EnforcedRoom, role_clients
from tests.support.targets import TARGET

pytestmark = [
    pytest.mark.engine,
    pytest.mark.xdist_group(name=ROOM_GROUP),
    pytest.mark.skipif(
        TARGET == "aws", reason="proves the local AWS's IAM enforcement; real AWS always enforces"
    ),
]


def test_roles_are_enforced_by_the_local_aws(open_room: EnforcedRoom) -> None:
    room = open_room
    target = room.target
    account = target.account_id
    aws = target.settings

    # The door is shut: moto's default keys belong to no IAM user.
    anonymous = boto3.client(
        "sts",
        endpoint_url=aws.aws_endpoint_url,
        region_name=aws.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        verify=False,
    )
    assert denied(anonymous.get_caller_identity) == "InvalidClientTokenId"

    # The standing statements admit break-glass with MFA only (never present locally), so each person below
    # is a just-in-time grant to break-glass, for that person as source identity (the room's grants).
    names = {role: f"arn:aws:iam::{account}:role/forensics-{INVESTIGATION}-{role}" for role in PERSON_ROLES}
    break_glass_arn = room.break_glass_arn
    assert break_glass_arn == f"arn:aws:iam::{account}:role/{BREAK_GLASS}"
    out = room.out
    role_arns = {role: out[f"{role}RoleArn"] for role in PERSON_ROLES}
    assert role_arns == names
    bucket = out["evidenceBucket"]
    glass = role_clients(
        target,
        target.client("sts").assume_role(RoleArn=break_glass_arn, RoleSessionName="on-call")["Credentials"],
    )("sts")
    this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]

    # Trust: the same call as `room.person`, short of one requirement, is refused by the trust policy (the
    # break-glass identity policy allows all of them).
    responder_arn = role_arns["responder"]
    assert (
        denied(glass.assume_role, RoleArn=responder_arn, RoleSessionName="ann", SourceIdentity="ann")
        == "AccessDenied"
    )
    assert (
        denied(
            glass.assume_role,
            RoleArn=responder_arn,
            RoleSessionName="ann",
            SourceIdentity="ann",
            Tags=[{"Key": INVESTIGATION_SESSION_TAG, "Value": "another-case"}],
        )
        == "AccessDenied"
    )
    assert (
        denied(glass.assume_role, RoleArn=responder_arn, RoleSessionName="ann", Tags=this_case)
        == "AccessDenied"
    )
    # A principal the trust policy does not name: the administrator (AdministratorAccess, so its own
    # policies allow sts:AssumeRole on any role).
    refused = refusal(
        lambda: target.client("sts").assume_role(
            RoleArn=responder_arn, RoleSessionName="ann", SourceIdentity="ann", Tags=this_case
        )
    )
    assert refused.code == "AccessDenied" and "forensics-local-admin" in refused.message, refused

    # One person per role, signed in through break-glass when the room opened (room.sessions).
    responder, investigator, custodian, analyst = (room.sessions[role] for role in PERSON_ROLES)
    investigator_name = role_arns["investigator"].rsplit("/", 1)[1]
    assert investigator("sts").get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{account}:assumed-role/{investigator_name}/investigator-1"
    )
    r_s3, i_s3, c_s3, a_s3 = (who("s3") for who in (responder, investigator, custodian, analyst))

    # Responder: hands evidence in, and nothing else.
    evidence, body = f"{INCOMING}mem.raw", b"memory image of i-0abc"
    put = r_s3.put_object(Bucket=bucket, Key=evidence, Body=body, ChecksumAlgorithm="SHA256")
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] in (out["kmsKeyArn"], out["kmsKeyId"])
    assert denied(r_s3.get_object, Bucket=bucket, Key=evidence) == "AccessDenied"
    assert denied(r_s3.put_object, Bucket=bucket, Key=f"{NOTES}responder.txt", Body=b"x") == "AccessDenied"
    assert denied(r_s3.delete_object, Bucket=bucket, Key=evidence) == "AccessDenied"

    # Investigator: reads evidence, writes notes and reports; never deletes, never touches the guard rails
    # or the legal hold.
    assert i_s3.get_object(Bucket=bucket, Key=evidence)["Body"].read() == body
    notes = f"{NOTES}timeline.md"
    i_s3.put_object(Bucket=bucket, Key=notes, Body=b"02:14 first beacon")
    report = f"{REPORTS}summary.md"
    i_s3.put_object(Bucket=bucket, Key=report, Body=b"root cause: leaked CI token")
    assert denied(i_s3.put_object, Bucket=bucket, Key=f"{INCOMING}planted.raw", Body=b"x") == "AccessDenied"
    assert denied(i_s3.delete_object, Bucket=bucket, Key=evidence) == "AccessDenied"
    assert (
        denied(i_s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17"}))
        == "AccessDenied"
    )
    # A legal hold is custody, even on the investigator's own notes (where s3:PutObject is allowed).
    assert (
        denied(i_s3.put_object_legal_hold, Bucket=bucket, Key=notes, LegalHold={"Status": "ON"})
        == "AccessDenied"
    )

    # Analyst: reads finished reports only.
    assert a_s3.get_object(Bucket=bucket, Key=report)["Body"].read() == b"root cause: leaked CI token"
    assert denied(a_s3.get_object, Bucket=bucket, Key=evidence) == "AccessDenied"
    assert denied(a_s3.get_object, Bucket=bucket, Key=notes) == "AccessDenied"
    assert denied(a_s3.put_object, Bucket=bucket, Key=f"{REPORTS}analyst.md", Body=b"x") == "AccessDenied"
    assert denied(a_s3.delete_object, Bucket=bucket, Key=report) == "AccessDenied"

    # Custodian: the chain of custody (legal hold, lock state, reading, delete markers), no workstation
    # session and no say over the bucket's guard rails.
    c_s3.put_object_legal_hold(Bucket=bucket, Key=evidence, LegalHold={"Status": "ON"})
    assert c_s3.get_object_legal_hold(Bucket=bucket, Key=evidence)["LegalHold"]["Status"] == "ON"
    head = c_s3.head_object(Bucket=bucket, Key=evidence)  # moto has no GetObjectRetention
    assert (head["ObjectLockMode"], head["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", "ON")
    assert c_s3.get_object(Bucket=bucket, Key=evidence)["Body"].read() == body
    c_s3.delete_object(Bucket=bucket, Key=notes)  # a delete marker: the locked version stays
    assert (
        denied(c_s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17"}))
        == "AccessDenied"
    )
    # SSM speaks JSON: AccessDeniedException, read as AccessDenied.
    assert denied(custodian("ssm").start_session, Target=out["instanceId"]) == "AccessDenied"


def test_a_freeze_takes_everything_from_investigator_and_analyst_live_sessions_included(
    frozen_room: EnforcedRoom,
) -> None:
    """Frozen: investigator and analyst lose everything at once, in the sessions they opened before the
    freeze (the same calls the test above makes allowed); the responder still hands evidence in and the
    custodian keeps custody."""
    room = frozen_room
    bucket, role_arns = room.out["evidenceBucket"], {r: room.out[f"{r}RoleArn"] for r in PERSON_ROLES}
    r_s3, i_s3, c_s3, a_s3 = (room.sessions[role]("s3") for role in PERSON_ROLES)
    evidence, body, report = room.before_freeze
    # Before the freeze the investigator and analyst read what they now may not.
    assert room.before_freeze_reads == {"investigator": body, "analyst": b"draft: lateral movement"}
    iam = room.client("iam")
    for role in FROZEN_ROLES:
        name = role_arns[role].rsplit("/", 1)[1]
        assert FROZEN_DENY_POLICY in iam.list_role_policies(RoleName=name)["PolicyNames"], role
    assert denied(i_s3.get_object, Bucket=bucket, Key=evidence) == "AccessDenied"
    assert denied(i_s3.put_object, Bucket=bucket, Key=f"{NOTES}after-freeze.md", Body=b"x") == "AccessDenied"
    assert denied(a_s3.get_object, Bucket=bucket, Key=report) == "AccessDenied"
    # The investigator's grant is left out of the frozen trust policy: no new session either.
    assert denied(lambda: room.person("investigator", "investigator-1")) == "AccessDenied"
    r_s3.put_object(Bucket=bucket, Key=f"{INCOMING}late.raw", Body=b"late evidence")
    assert c_s3.get_object(Bucket=bucket, Key=evidence)["Body"].read() == body
