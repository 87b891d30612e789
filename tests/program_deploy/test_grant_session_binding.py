"""A grant to a shared role is bound to the person's own session, enforced by the local STS.

An SSO permission set gives everyone assigned to it the same role (``AWSReservedSSO_<set>_<id>`` under
``/aws-reserved/sso.amazonaws.com/``); each person's session of it is named by their sign-in. Alice and Bob
both hold ``Investigators``. The caller of AssumeRole chooses its ``sts:SourceIdentity``, so a grant that
names Alice only by source identity lets Bob in as "alice" (shown first, with a grant of that old shape:
the attack is real on the local STS). The grant as the service now declares it also requires
``aws:userid`` = ``<role id>:alice``: Bob's session is refused, Alice's admitted.

The launcher puts ``aws:userid`` in the trust-judging context (``tools.local_aws.caller_identity``); that moto
gives the role an ``AROA`` id and the session ``<role id>:<session name>`` is checked here with
GetCallerIdentity, as AWS reports it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config

from programs.forensic_env.access import INVESTIGATION_SESSION_TAG
from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from service.orchestration.messages import OperationKind
from tests.program_deploy.test_forensic_environment import _run
from tests.support.aws import clients_with, denied, refusal
from tests.support.deploy_targets import DeployTarget

pytestmark = pytest.mark.engine

INVESTIGATION = "it-sessions"


def _shared_permission_set_role(target: DeployTarget) -> tuple[str, str]:
    """An SSO-like permission-set role (its ARN and IAM role id) that may assume this clean room's roles."""
    iam = target.client("iam")
    admin = target.client("sts").get_caller_identity()["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(
        RoleName=f"AWSReservedSSO_Investigators_{uuid.uuid4().hex[:16]}",
        Path="/aws-reserved/sso.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps(trust),
    )["Role"]
    allowed = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Resource": f"arn:aws:iam::{target.account_id}:role/forensics-{INVESTIGATION}-*",
            }
        ],
    }
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="assume", PolicyDocument=json.dumps(allowed))
    return str(role["Arn"]), str(role["RoleId"])


def _signed_in(target: DeployTarget, role_arn: str, session: str) -> Any:
    """A person's session of the permission-set role, named by their sign-in (as Identity Center names it)."""
    credentials = target.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return clients_with(
        credentials,
        endpoint_url=target.settings.aws_endpoint_url,
        region=target.settings.aws_region,
        config=Config(retries={"max_attempts": 1}),
    )("sts")


def test_a_second_person_of_the_same_permission_set_cannot_use_anothers_grant(
    enforced_target: DeployTarget,
) -> None:
    target = enforced_target
    shared, role_id = _shared_permission_set_role(target)
    alice, bob = _signed_in(target, shared, "alice"), _signed_in(target, shared, "bob")
    # The launcher's aws:userid is what AWS reports as the caller's UserId: <role id>:<session name>.
    assert role_id.startswith("AROA")
    assert bob.get_caller_identity()["UserId"] == f"{role_id}:bob"
    assert alice.get_caller_identity()["UserId"] == f"{role_id}:alice"
    investigator = f"arn:aws:iam::{target.account_id}:role/forensics-{INVESTIGATION}-investigator"
    this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]

    def as_alice(sts: Any) -> Any:
        return sts.assume_role(
            RoleArn=investigator, RoleSessionName="alice", SourceIdentity="alice", Tags=this_case
        )

    until = (datetime.now(UTC) + timedelta(hours=1)).strftime(GRANT_EXPIRY_FORMAT)
    by_source_identity = {
        "role": "investigator",
        "principalArn": shared,
        "person": "alice",
        "expiresAt": until,
    }
    up = _run(target, OperationKind.UP, INVESTIGATION, grants=[by_source_identity])
    assert up.succeeded, (up.error, up.policy_violations)
    try:
        # The old shape: the source identity alone names the person, and Bob claims it.
        assert as_alice(bob)["AssumedRoleUser"]["Arn"].endswith("/alice")

        bound = _run(
            target,
            OperationKind.UP,
            INVESTIGATION,
            grants=[{**by_source_identity, "sessionName": "alice"}],
        )
        assert bound.succeeded, (bound.error, bound.policy_violations)
        iam = target.client("iam")
        doc = iam.get_role(RoleName=investigator.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
        deployed = json.loads(doc) if isinstance(doc, str) else doc
        (grant,) = [s for s in deployed["Statement"] if s["Sid"].startswith("AccessGrant")]
        assert grant["Condition"]["StringLike"] == {"aws:userid": "*:alice"}

        refused = refusal(lambda: as_alice(bob))

        assert refused.code == "AccessDenied" and "bob" in refused.message, refused
        assert (
            denied(
                lambda: bob.assume_role(
                    RoleArn=investigator, RoleSessionName="bob", SourceIdentity="bob", Tags=this_case
                )
            )
            == "AccessDenied"
        )
        session = as_alice(alice)
        assert session["AssumedRoleUser"]["Arn"].endswith("/alice")
    finally:
        destroyed = _run(target, OperationKind.DESTROY, INVESTIGATION)
        assert destroyed.succeeded, destroyed.error
