"""The four people of a clean room, proven with real calls against a local AWS that enforces IAM.

The shared local AWS checks nothing: any credentials may do anything the bucket policy does not deny. Here
a private one runs with moto's IAM enforcement on (``LocalAws(enforce_iam=True)``: every signed request is
checked against the caller's identity policies, ``sts:AssumeRole`` against the role's trust policy too). The
forensic program is deployed through the real engine and policy pack, as the local AWS's administrator
(``forensics-local-admin``, ``AdministratorAccess``), then each role is assumed the way a person would, from
the break-glass role (granted each role just in time, as one person per role), with a source identity
and the ``forensics-investigation`` session tag. Every "denied" below is an AccessDenied answered by the local
AWS to that role's session; every denial has a counterpart the same call shape is allowed for (another role,
another prefix, or before the freeze), so none passes because the call itself cannot work.

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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from programs.forensic_env.access import (
    FROZEN_DENY_POLICY,
    FROZEN_ROLES,
    INCOMING,
    INVESTIGATION_SESSION_TAG,
    NOTES,
    REPORTS,
)
from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from service.orchestration.messages import OperationKind
from tests.program_deploy.test_forensic_environment import _run
from tests.support.aws import Clients, clients_with, denied, refusal
from tests.support.deploy_targets import DeployTarget
from tools.local_aws.aws import LocalAws

pytestmark = pytest.mark.engine

INVESTIGATION = "it-enforced"
ROLES = ("responder", "investigator", "custodian", "analyst")
BREAK_GLASS = "forensics-break-glass"


def _clients(target: DeployTarget, credentials: dict[str, Any]) -> Clients:
    return clients_with(
        credentials,
        endpoint_url=target.settings.aws_endpoint_url,
        region=target.settings.aws_region,
        config=Config(s3={"addressing_style": "path"}),
    )


def _break_glass(target: DeployTarget, role_arns: dict[str, str]) -> str:
    """The break-glass role, trusted by the administrator, allowed to assume (with tags and a source
    identity) this investigation's four roles and nothing else."""
    iam = target.client("iam")
    admin = target.client("sts").get_caller_identity()["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": admin},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            }
        ],
    }
    arn = str(
        iam.create_role(RoleName=BREAK_GLASS, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    )
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Resource": sorted(role_arns.values()),
            }
        ],
    }
    iam.put_role_policy(
        RoleName=BREAK_GLASS, PolicyName="assume-clean-room-roles", PolicyDocument=json.dumps(permissions)
    )
    return arn


def test_roles_are_enforced_by_the_local_aws(enforced_target: DeployTarget, enforcing_aws: LocalAws) -> None:
    target = enforced_target
    account = target.account_id

    # The door is shut: moto's default keys belong to no IAM user.
    anonymous = boto3.client(
        "sts",
        endpoint_url=enforcing_aws.endpoint_url,
        region_name=enforcing_aws.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        verify=False,
    )
    assert denied(anonymous.get_caller_identity) == "InvalidClientTokenId"

    # The standing statements admit break-glass with MFA only (never present locally), so each person below
    # is a just-in-time grant to break-glass, for that person as source identity.
    names = {role: f"arn:aws:iam::{account}:role/forensics-{INVESTIGATION}-{role}" for role in ROLES}
    break_glass_arn = _break_glass(target, names)
    assert break_glass_arn == f"arn:aws:iam::{account}:role/{BREAK_GLASS}"
    until = (datetime.now(UTC) + timedelta(hours=2)).strftime(GRANT_EXPIRY_FORMAT)
    grants = [
        {"role": role, "principalArn": break_glass_arn, "person": f"{role}-1", "expiresAt": until}
        for role in ROLES
    ]
    up = _run(target, OperationKind.UP, INVESTIGATION, grants=grants)
    assert up.succeeded, (up.error, up.policy_violations)
    try:
        out = up.outputs
        role_arns = {role: out[f"{role}RoleArn"] for role in ROLES}
        assert role_arns == names
        bucket = out["evidenceBucket"]
        glass = _clients(
            target,
            target.client("sts").assume_role(RoleArn=break_glass_arn, RoleSessionName="on-call")[
                "Credentials"
            ],
        )("sts")
        this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]

        def person(role: str, name: str) -> Callable[[str], Any]:
            credentials = glass.assume_role(
                RoleArn=role_arns[role], RoleSessionName=name, SourceIdentity=name, Tags=this_case
            )["Credentials"]
            return _clients(target, credentials)

        # Trust: the same call as `person`, short of one requirement, is refused by the trust policy (the
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

        responder, investigator, custodian, analyst = (person(role, f"{role}-1") for role in ROLES)
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
        assert (
            denied(r_s3.put_object, Bucket=bucket, Key=f"{NOTES}responder.txt", Body=b"x") == "AccessDenied"
        )
        assert denied(r_s3.delete_object, Bucket=bucket, Key=evidence) == "AccessDenied"

        # Investigator: reads evidence, writes notes and reports; never deletes, never touches the guard rails
        # or the legal hold.
        assert i_s3.get_object(Bucket=bucket, Key=evidence)["Body"].read() == body
        notes = f"{NOTES}timeline.md"
        i_s3.put_object(Bucket=bucket, Key=notes, Body=b"02:14 first beacon")
        report = f"{REPORTS}summary.md"
        i_s3.put_object(Bucket=bucket, Key=report, Body=b"root cause: leaked CI token")
        assert (
            denied(i_s3.put_object, Bucket=bucket, Key=f"{INCOMING}planted.raw", Body=b"x") == "AccessDenied"
        )
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

        # Frozen: investigator and analyst lose everything at once, live sessions included; the responder
        # still hands evidence in and the custodian keeps custody.
        frozen = _run(target, OperationKind.UP, INVESTIGATION, frozen=True, grants=grants)
        assert frozen.succeeded, (frozen.error, frozen.policy_violations)
        iam = target.client("iam")
        for role in FROZEN_ROLES:
            name = role_arns[role].rsplit("/", 1)[1]
            assert FROZEN_DENY_POLICY in iam.list_role_policies(RoleName=name)["PolicyNames"], role
        assert denied(i_s3.get_object, Bucket=bucket, Key=evidence) == "AccessDenied"
        assert (
            denied(i_s3.put_object, Bucket=bucket, Key=f"{NOTES}after-freeze.md", Body=b"x") == "AccessDenied"
        )
        assert denied(a_s3.get_object, Bucket=bucket, Key=report) == "AccessDenied"
        # The investigator's grant is left out of the frozen trust policy: no new session either.
        assert denied(lambda: person("investigator", "investigator-1")) == "AccessDenied"
        r_s3.put_object(Bucket=bucket, Key=f"{INCOMING}late.raw", Body=b"late evidence")
        assert c_s3.get_object(Bucket=bucket, Key=evidence)["Body"].read() == body
    finally:
        released = _run(target, OperationKind.UP, INVESTIGATION, frozen=True, unprotect=True, grants=grants)
        destroyed = _run(target, OperationKind.DESTROY, INVESTIGATION)
    assert released.succeeded, released.error
    assert destroyed.succeeded, destroyed.error
