"""A grant to a shared role is bound to the person's own session, enforced by the local STS.

An SSO permission set gives everyone assigned to it the same role (``AWSReservedSSO_<set>_<id>`` under
``/aws-reserved/sso.amazonaws.com/``); each person's session of it is named by their sign-in. Alice and Bob
both hold ``Investigators``. The caller of AssumeRole chooses its ``sts:SourceIdentity``, so a grant that
names Alice only by source identity lets Bob in as "alice" (shown first, with a grant of that old shape:
the attack is real on the local STS). The grant as the service declares it also requires
``aws:userid`` = ``<role id>:alice``: Bob's session is refused, Alice's admitted. Both grants are the
enforced room's (tests/support/enforced_room.py): the first at its OPEN stage, the second at GRANTED.

The launcher puts ``aws:userid`` in the trust-judging context (``tools.local_aws.caller_identity``); that moto
gives the role an ``AROA`` id and the session ``<role id>:<session name>`` is checked here with
GetCallerIdentity, as AWS reports it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.config import Config

from programs.forensic_env.access import INVESTIGATION_SESSION_TAG
from tests.support.aws import clients_with, denied, refusal
from tests.support.enforced_room import INVESTIGATION, ROOM_GROUP, EnforcedRoom
from tests.support.targets import TARGET

pytestmark = [
    pytest.mark.engine,
    pytest.mark.xdist_group(name=ROOM_GROUP),
    pytest.mark.skipif(
        TARGET == "aws", reason="proves the local AWS's IAM enforcement; real AWS always enforces"
    ),
]


def _signed_in(room: EnforcedRoom, session: str) -> Any:
    """A person's session of the permission-set role, named by their sign-in (as Identity Center names it)."""
    target = room.target
    credentials = target.client("sts").assume_role(RoleArn=room.permission_set[0], RoleSessionName=session)[
        "Credentials"
    ]
    return clients_with(
        credentials,
        endpoint_url=target.settings.aws_endpoint_url,
        region=target.settings.aws_region,
        config=Config(retries={"max_attempts": 1}),
    )("sts")


def _as_alice(sts: Any, room: EnforcedRoom) -> Any:
    this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]
    return sts.assume_role(
        RoleArn=room.role_arn("investigator"), RoleSessionName="alice", SourceIdentity="alice", Tags=this_case
    )


def test_a_grant_by_source_identity_alone_lets_another_person_of_the_permission_set_in(
    open_room: EnforcedRoom,
) -> None:
    """The old shape (the room's grant to the permission set names alice only as source identity): Bob
    claims it."""
    room = open_room
    _, role_id = room.permission_set
    alice, bob = _signed_in(room, "alice"), _signed_in(room, "bob")
    # The launcher's aws:userid is what AWS reports as the caller's UserId: <role id>:<session name>.
    assert role_id.startswith("AROA")
    assert bob.get_caller_identity()["UserId"] == f"{role_id}:bob"
    assert alice.get_caller_identity()["UserId"] == f"{role_id}:alice"
    assert _as_alice(bob, room)["AssumedRoleUser"]["Arn"].endswith("/alice")


def test_a_second_person_of_the_same_permission_set_cannot_use_anothers_grant(
    granted_room: EnforcedRoom,
) -> None:
    """The grant as the service declares it, bound to alice's own session of the permission set."""
    room = granted_room
    shared, _ = room.permission_set
    alice, bob = _signed_in(room, "alice"), _signed_in(room, "bob")
    investigator = room.role_arn("investigator")
    iam = room.client("iam")
    doc = iam.get_role(RoleName=investigator.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]
    deployed = json.loads(doc) if isinstance(doc, str) else doc
    (grant,) = [
        s
        for s in deployed["Statement"]
        if s["Sid"].startswith("AccessGrant") and s["Principal"] == {"AWS": shared}
    ]
    assert grant["Condition"]["StringLike"] == {"aws:userid": "*:alice"}

    refused = refusal(lambda: _as_alice(bob, room))

    assert refused.code == "AccessDenied" and "bob" in refused.message, refused
    this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]
    assert (
        denied(
            lambda: bob.assume_role(
                RoleArn=investigator, RoleSessionName="bob", SourceIdentity="bob", Tags=this_case
            )
        )
        == "AccessDenied"
    )
    session = _as_alice(alice, room)
    assert session["AssumedRoleUser"]["Arn"].endswith("/alice")
