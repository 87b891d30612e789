"""Just-in-time grants, enforced by AWS itself: the program deployed through the real engine and policy pack
into a local AWS that enforces IAM and judges trust as STS does (``tools.local_aws.moto_server``), then
assumed the way a person would.

The people are roles made in the local AWS (what an SSO permission set gives each person): ``alice`` is
granted the investigator role, ``bob`` the custodian role, ``mallory`` nothing. Each may call
sts:AssumeRole on the clean room's roles by their own identity policy, so every refusal below comes from the
clean room's trust policy. Each assumes with their own name as the source identity and the investigation's
session tag, as the grant requires.

- Without a grant alice is refused (AccessDenied from STS); with a one-hour grant she gets in, only as
  herself and only with the tag; mallory never does.
- The deployed grant's condition alone refuses her once its time has passed: the trust policy read back
  from IAM, judged at the expiry plus a minute with the launcher's evaluator. A grant that expired a minute
  ago (bob's, to the analyst role) is deployed (its statement is there) and STS refuses it.
- Frozen: every grant but the custodians' is gone from the trust policies (read with boto3); bob's custodian
  grant stays and still works.

The grants are the enforced room's (tests/support/enforced_room.py), beside those of the other tests that
read it: alice holds nothing at its OPEN stage; at GRANTED and FROZEN alice holds the investigator role and
bob the custodian role for an hour and the analyst role until a minute ago. Each statement is found by its
principal, this test's person.

That the service removes an expired grant from the declared state (scheduler, test clock) is
tests/access/test_access.py; here the program, the pack and AWS's own refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from programs.forensic_env.access import INVESTIGATION_SESSION_TAG
from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from tests.support.aws import denied, refusal
from tests.support.enforced_room import INVESTIGATION, ROOM_GROUP, EnforcedRoom
from tests.support.persons import Person
from tests.support.policy_documents import grant_statements, parsed, statements_of
from tests.support.targets import TARGET
from tools.local_aws.moto_server import assume_role_request, current_time_context, trust_permits

pytestmark = [
    pytest.mark.engine,
    pytest.mark.xdist_group(name=ROOM_GROUP),
    pytest.mark.skipif(
        TARGET == "aws", reason="proves the local AWS's IAM enforcement; real AWS always enforces"
    ),
]


def _trust(room: EnforcedRoom, role: str) -> dict[str, Any]:
    role_name = room.role_arn(role).rsplit("/", 1)[1]
    return parsed(room.client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])


def _grants_of(room: EnforcedRoom, role: str, person: Person) -> list[dict[str, Any]]:
    """The grant statements of ``role``'s deployed trust policy that name ``person``'s principal."""
    grants = grant_statements(statements_of(_trust(room, role)))
    return [s for s in grants if s["Principal"] == {"AWS": person.principal_arn}]


def _assume(
    person: Person, role_arn: str, as_person: str | None = None, tag: str | None = None
) -> Callable[[], Any]:
    return lambda: person.assume(role_arn, INVESTIGATION, as_person=as_person, tag=tag)


def test_without_a_grant_alice_is_refused(open_room: EnforcedRoom) -> None:
    alice = open_room.people["alice"]
    assert _grants_of(open_room, "investigator", alice) == []
    # No grant: the trust policy names other principals only.
    refused = refusal(_assume(alice, open_room.role_arn("investigator")))
    assert refused.code == "AccessDenied" and alice.principal_arn.rsplit("/", 1)[1] in refused.message, (
        refused
    )


def test_grants_are_enforced_by_the_local_aws(granted_room: EnforcedRoom) -> None:
    room = granted_room
    alice, bob, mallory = (room.people[p] for p in ("alice", "bob", "mallory"))
    investigator, custodian = room.role_arn("investigator"), room.role_arn("custodian")
    in_an_hour = room.until

    # A one-hour grant, as an approval declares it.
    session = _assume(alice, investigator)()
    assert session["AssumedRoleUser"]["Arn"].endswith(
        f":assumed-role/forensics-{INVESTIGATION}-investigator/alice"
    )
    # Only as herself, only for this investigation; nobody else through her grant.
    assert denied(_assume(alice, investigator, "mallory")) == "AccessDenied"
    assert denied(_assume(alice, investigator, tag="other")) == "AccessDenied"
    assert denied(_assume(mallory, investigator)) == "AccessDenied"
    assert denied(_assume(mallory, investigator, "alice")) == "AccessDenied"
    # A grant is for one role: alice's does not open the custodian's.
    assert denied(_assume(alice, custodian)) == "AccessDenied"
    assert _assume(bob, custodian)()["Credentials"]["AccessKeyId"]

    # The deployed condition alone refuses her once the time passed (the statement judged as STS would
    # at the expiry plus a minute): nothing needs to remove it for AWS to say no.
    deployed = _trust(room, "investigator")
    (statement,) = _grants_of(room, "investigator", alice)
    assert statement["Principal"] == {"AWS": alice.principal_arn}
    assert statement["Condition"]["DateLessThan"] == {
        "aws:CurrentTime": in_an_hour.strftime(GRANT_EXPIRY_FORMAT)
    }
    request = {
        "RoleSessionName": ["alice"],
        "SourceIdentity": ["alice"],
        "Tags.member.1.Key": [INVESTIGATION_SESSION_TAG],
        "Tags.member.1.Value": [INVESTIGATION],
    }
    actions, context = assume_role_request(request, alice.principal_arn, room.target.account_id)

    def judged(at: datetime) -> bool:
        at_that_time = {**context, **current_time_context(at)}
        return all(
            trust_permits(deployed, a, {alice.principal_arn}, room.target.account_id, at_that_time)
            for a in actions
        )

    assert judged(datetime.now(UTC)) is True
    assert judged(in_an_hour - timedelta(seconds=1)) is True
    assert judged(in_an_hour) is False
    assert judged(in_an_hour + timedelta(minutes=1)) is False

    # A grant that expired a minute ago: deployed (the pack and the program accept it), refused by STS; the
    # same person's valid grant (custodian, above) admits him.
    (expired,) = _grants_of(room, "analyst", bob)
    assert expired["Condition"]["DateLessThan"] == {
        "aws:CurrentTime": room.expired.strftime(GRANT_EXPIRY_FORMAT)
    }
    assert denied(_assume(bob, room.role_arn("analyst"))) == "AccessDenied"


def test_a_freeze_leaves_only_the_custodians_grants(frozen_room: EnforcedRoom) -> None:
    """Frozen: every grant but the custodian's leaves the trust policies, even one still valid."""
    room = frozen_room
    alice, bob = room.people["alice"], room.people["bob"]
    investigator, custodian = room.role_arn("investigator"), room.role_arn("custodian")
    for role in ("responder", "investigator", "analyst"):
        assert grant_statements(statements_of(_trust(room, role))) == [], role
    (kept,) = _grants_of(room, "custodian", bob)
    assert kept["Principal"] == {"AWS": bob.principal_arn}
    assert kept["Condition"]["StringEquals"]["sts:SourceIdentity"] == "bob"
    assert denied(_assume(alice, investigator)) == "AccessDenied"
    assert _assume(bob, custodian)()["Credentials"]["AccessKeyId"]
