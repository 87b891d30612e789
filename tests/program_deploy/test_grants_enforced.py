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
  ago is deployed (its statement is there) and STS refuses it.
- Frozen: the investigator grant is gone from the trust policy (read with boto3); the custodian's stays and
  still works.

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
from service.orchestration.messages import OperationKind, OperationResult
from tests.program_deploy.test_forensic_environment import _run
from tests.support.aws import denied, refusal
from tests.support.deploy_targets import DeployTarget
from tests.support.persons import Endpoint, Person, declared_grant, make_person
from tests.support.policy_documents import grant_statements, parsed, statements_of
from tools.local_aws.moto_server import assume_role_request, current_time_context, trust_permits

pytestmark = pytest.mark.engine

INVESTIGATION = "it-grants"
PEOPLE = ("alice", "bob", "mallory")


def _role_arn(target: DeployTarget, role: str) -> str:
    return f"arn:aws:iam::{target.account_id}:role/forensics-{INVESTIGATION}-{role}"


def _people(target: DeployTarget) -> dict[str, Person]:
    """One role of their own per person (tests/support/persons.py): only the trust policies decide who gets
    into the clean room's roles."""
    return {name: make_person(target.client, Endpoint.of(target.settings), name) for name in PEOPLE}


def _trust(target: DeployTarget, role: str) -> dict[str, Any]:
    role_name = _role_arn(target, role).rsplit("/", 1)[1]
    return parsed(target.client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"])


def _up(target: DeployTarget, **config: Any) -> OperationResult:
    result = _run(target, OperationKind.UP, INVESTIGATION, **config)
    assert result.succeeded, (result.error, result.policy_violations)
    return result


def test_grants_are_enforced_by_the_local_aws(enforced_target: DeployTarget) -> None:
    target = enforced_target
    people = _people(target)
    alice, bob, mallory = (people[p] for p in PEOPLE)
    investigator, custodian = _role_arn(target, "investigator"), _role_arn(target, "custodian")

    def assume(
        person: Person, role_arn: str, as_person: str | None = None, tag: str | None = None
    ) -> Callable[[], Any]:
        return lambda: person.assume(role_arn, INVESTIGATION, as_person=as_person, tag=tag)

    _up(target)
    try:
        # No grant: the trust policy names only break-glass.
        refused = refusal(assume(alice, investigator))
        assert refused.code == "AccessDenied" and alice.principal_arn.rsplit("/", 1)[1] in refused.message, (
            refused
        )

        # A one-hour grant, as an approval declares it.
        now = datetime.now(UTC)
        in_an_hour = now + timedelta(hours=1)
        _up(
            target,
            grants=[
                declared_grant("investigator", alice, in_an_hour),
                declared_grant("custodian", bob, in_an_hour),
            ],
        )
        session = assume(alice, investigator)()
        assert session["AssumedRoleUser"]["Arn"].endswith(
            f":assumed-role/forensics-{INVESTIGATION}-investigator/alice"
        )
        # Only as herself, only for this investigation; nobody else through her grant.
        assert denied(assume(alice, investigator, "mallory")) == "AccessDenied"
        assert denied(assume(alice, investigator, tag="other")) == "AccessDenied"
        assert denied(assume(mallory, investigator)) == "AccessDenied"
        assert denied(assume(mallory, investigator, "alice")) == "AccessDenied"
        # A grant is for one role: alice's does not open the custodian's.
        assert denied(assume(alice, custodian)) == "AccessDenied"
        assert assume(bob, custodian)()["Credentials"]["AccessKeyId"]

        # The deployed condition alone refuses her once the time passed (the statement judged as STS would
        # at the expiry plus a minute): nothing needs to remove it for AWS to say no.
        deployed = _trust(target, "investigator")
        (statement,) = grant_statements(statements_of(deployed))
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
        actions, context = assume_role_request(request, alice.principal_arn, target.account_id)

        def judged(at: datetime) -> bool:
            at_that_time = {**context, **current_time_context(at)}
            return all(
                trust_permits(deployed, a, {alice.principal_arn}, target.account_id, at_that_time)
                for a in actions
            )

        assert judged(now) is True
        assert judged(in_an_hour - timedelta(seconds=1)) is True
        assert judged(in_an_hour) is False
        assert judged(in_an_hour + timedelta(minutes=1)) is False

        # A grant that expired a minute ago: deployed (the pack and the program accept it), refused by STS.
        a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
        _up(
            target,
            grants=[
                declared_grant("investigator", alice, a_minute_ago),
                declared_grant("custodian", bob, in_an_hour),
            ],
        )
        (expired,) = grant_statements(statements_of(_trust(target, "investigator")))
        assert expired["Condition"]["DateLessThan"] == {
            "aws:CurrentTime": a_minute_ago.strftime(GRANT_EXPIRY_FORMAT)
        }
        assert denied(assume(alice, investigator)) == "AccessDenied"

        # Frozen: every grant but the custodian's leaves the trust policies, even one still valid.
        _up(
            target,
            frozen=True,
            grants=[
                declared_grant("investigator", alice, in_an_hour),
                declared_grant("custodian", bob, in_an_hour),
            ],
        )
        assert grant_statements(statements_of(_trust(target, "investigator"))) == []
        (kept,) = grant_statements(statements_of(_trust(target, "custodian")))
        assert kept["Principal"] == {"AWS": bob.principal_arn}
        assert kept["Condition"]["StringEquals"]["sts:SourceIdentity"] == "bob"
        assert denied(assume(alice, investigator)) == "AccessDenied"
        assert assume(bob, custodian)()["Credentials"]["AccessKeyId"]
    finally:
        released = _run(target, OperationKind.UP, INVESTIGATION, frozen=True, unprotect=True)
        destroyed = _run(target, OperationKind.DESTROY, INVESTIGATION)
    assert released.succeeded, released.error
    assert destroyed.succeeded, destroyed.error
