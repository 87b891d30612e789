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

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from pydantic import SecretStr

from programs.forensic_env.access import INVESTIGATION_SESSION_TAG
from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from programs.forensic_env.trust import GRANT_SID_PREFIX
from service.config import Settings
from service.orchestration.messages import OperationKind, OperationResult
from tests.program_deploy.test_forensic_environment import _run
from tests.program_deploy.test_roles_enforced import _denied
from tests.support.deploy_targets import DeployTarget
from tools.local_aws.aws import LocalAws
from tools.local_aws.moto_server import assume_role_request, current_time_context, trust_permits
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

INVESTIGATION = "it-grants"
PEOPLE = ("alice", "bob", "mallory")


@pytest.fixture
def enforced_target(tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws) -> DeployTarget:
    settings = Settings(
        target="local",
        data_dir=tmp_path / "data",
        aws_endpoint_url=enforcing_aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
        aws_access_key_id=enforcing_aws.access_key_id,
        aws_secret_access_key=SecretStr(enforcing_aws.secret_access_key),
    )
    seeded = {key: str(value) for key, value in seed(settings).items()}
    return DeployTarget(settings, enforcing_aws.client, seeded, settings.aws_account_id)


def _role_arn(target: DeployTarget, role: str) -> str:
    return f"arn:aws:iam::{target.account_id}:role/forensics-{INVESTIGATION}-{role}"


def _people(target: DeployTarget) -> dict[str, str]:
    """One role per person, trusted by the administrator, allowed to assume (with tags and a source
    identity) this investigation's four roles: only the trust policies decide who gets in."""
    iam = target.client("iam")
    admin = target.client("sts").get_caller_identity()["Arn"]
    clean_room = [_role_arn(target, role) for role in ("responder", "investigator", "custodian", "analyst")]
    arns = {}
    for person in PEOPLE:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"}],
        }
        name = f"forensics-person-{person}"
        arns[person] = str(
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        )
        permissions = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                    "Resource": clean_room,
                }
            ],
        }
        iam.put_role_policy(RoleName=name, PolicyName="assume", PolicyDocument=json.dumps(permissions))
    return arns


def _sts_as(target: DeployTarget, role_arn: str, session: str) -> Any:
    credentials = target.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return boto3.client(
        "sts",
        endpoint_url=target.settings.aws_endpoint_url,
        region_name=target.settings.aws_region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        verify=False,
        config=Config(retries={"max_attempts": 1}),
    )


def _grant(role: str, principal: str, person: str, expires: datetime) -> dict[str, str]:
    return {
        "role": role,
        "principalArn": principal,
        "person": person,
        "expiresAt": expires.strftime(GRANT_EXPIRY_FORMAT),
    }


def _trust(target: DeployTarget, role: str) -> dict[str, Any]:
    doc = target.client("iam").get_role(RoleName=_role_arn(target, role).rsplit("/", 1)[1])["Role"][
        "AssumeRolePolicyDocument"
    ]
    parsed: dict[str, Any] = json.loads(doc) if isinstance(doc, str) else doc
    return parsed


def _grant_statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    return [s for s in statements if str(s.get("Sid", "")).startswith(GRANT_SID_PREFIX)]


def _up(target: DeployTarget, **config: Any) -> OperationResult:
    result = _run(target, OperationKind.UP, INVESTIGATION, **config)
    assert result.succeeded, (result.error, result.policy_violations)
    return result


def test_grants_are_enforced_by_the_local_aws(enforced_target: DeployTarget) -> None:
    target = enforced_target
    people = _people(target)
    alice, bob, mallory = (_sts_as(target, people[p], p) for p in PEOPLE)
    this_case = [{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}]
    investigator, custodian = _role_arn(target, "investigator"), _role_arn(target, "custodian")

    def assume(
        sts: Any, role_arn: str, person: str, tags: list[dict[str, str]] | None = None
    ) -> Callable[[], Any]:
        return lambda: sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=person,
            SourceIdentity=person,
            Tags=this_case if tags is None else tags,
        )

    _up(target)
    try:
        # No grant: the trust policy names only break-glass.
        message = _denied(assume(alice, investigator, "alice"))
        assert "forensics-person-alice" in message

        # A one-hour grant, as an approval declares it.
        now = datetime.now(UTC)
        in_an_hour = now + timedelta(hours=1)
        _up(
            target,
            grants=[
                _grant("investigator", people["alice"], "alice", in_an_hour),
                _grant("custodian", people["bob"], "bob", in_an_hour),
            ],
        )
        session = assume(alice, investigator, "alice")()
        assert session["AssumedRoleUser"]["Arn"].endswith(
            f":assumed-role/forensics-{INVESTIGATION}-investigator/alice"
        )
        # Only as herself, only for this investigation; nobody else through her grant.
        _denied(assume(alice, investigator, "mallory"))
        _denied(
            assume(alice, investigator, "alice", tags=[{"Key": INVESTIGATION_SESSION_TAG, "Value": "other"}])
        )
        _denied(assume(mallory, investigator, "mallory"))
        _denied(assume(mallory, investigator, "alice"))
        # A grant is for one role: alice's does not open the custodian's.
        _denied(assume(alice, custodian, "alice"))
        assert assume(bob, custodian, "bob")()["Credentials"]["AccessKeyId"]

        # The deployed condition alone refuses her once the time passed (the statement judged as STS would
        # at the expiry plus a minute): nothing needs to remove it for AWS to say no.
        deployed = _trust(target, "investigator")
        (statement,) = _grant_statements(deployed)
        assert statement["Principal"] == {"AWS": people["alice"]}
        assert statement["Condition"]["DateLessThan"] == {
            "aws:CurrentTime": in_an_hour.strftime(GRANT_EXPIRY_FORMAT)
        }
        request = {
            "RoleSessionName": ["alice"],
            "SourceIdentity": ["alice"],
            "Tags.member.1.Key": [INVESTIGATION_SESSION_TAG],
            "Tags.member.1.Value": [INVESTIGATION],
        }
        actions, context = assume_role_request(request, people["alice"], target.account_id)

        def judged(at: datetime) -> bool:
            at_that_time = {**context, **current_time_context(at)}
            return all(
                trust_permits(deployed, a, {people["alice"]}, target.account_id, at_that_time)
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
                _grant("investigator", people["alice"], "alice", a_minute_ago),
                _grant("custodian", people["bob"], "bob", in_an_hour),
            ],
        )
        (expired,) = _grant_statements(_trust(target, "investigator"))
        assert expired["Condition"]["DateLessThan"] == {
            "aws:CurrentTime": a_minute_ago.strftime(GRANT_EXPIRY_FORMAT)
        }
        _denied(assume(alice, investigator, "alice"))

        # Frozen: every grant but the custodian's leaves the trust policies, even one still valid.
        _up(
            target,
            frozen=True,
            grants=[
                _grant("investigator", people["alice"], "alice", in_an_hour),
                _grant("custodian", people["bob"], "bob", in_an_hour),
            ],
        )
        assert _grant_statements(_trust(target, "investigator")) == []
        (kept,) = _grant_statements(_trust(target, "custodian"))
        assert kept["Principal"] == {"AWS": people["bob"]}
        assert kept["Condition"]["StringEquals"]["sts:SourceIdentity"] == "bob"
        _denied(assume(alice, investigator, "alice"))
        assert assume(bob, custodian, "bob")()["Credentials"]["AccessKeyId"]
    finally:
        released = _run(target, OperationKind.UP, INVESTIGATION, frozen=True, unprotect=True)
        destroyed = _run(target, OperationKind.DESTROY, INVESTIGATION)
    assert released.succeeded, released.error
    assert destroyed.succeeded, destroyed.error
