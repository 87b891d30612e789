"""One clean room for the program deployment tests that read what AWS enforces in it
(tests/program_deploy: roles, grants, grant session binding, the sealed stack), deployed through the real
engine and policy pack into the worker's local AWS, which enforces IAM and judges role trust as STS does.

Each deployment of the forensic program costs many CPU-seconds, and these tests only read the room between
the few changes their properties need, so the room goes once through its stages, each a deployment that
carries every grant the tests of that stage read (the people differ, so the grants do not interfere):

- ``OPEN``: each of the four roles granted to break-glass for one person (``<role>-1``), as the roles test
  signs in; the investigator granted to alice of a shared permission set by source identity alone (the old
  shape of a grant). The grants test's people (alice, bob, mallory) hold nothing yet.
- ``GRANTED``: the permission set's grant bound to alice's own session; the grants test's alice granted the
  investigator and bob the custodian for an hour, and bob the analyst until a minute ago (an expired grant).
- ``FROZEN``: the same grants, frozen (every grant but the custodians' leaves the trust policies). Before the
  freeze the responder hands in one evidence object and the investigator writes one report, so the frozen
  tests read what the live sessions held before.
- ``ENDED``: released (still frozen, protection lifted), thawed, destroyed; the last test reads the results.

A test names the stage it reads by its fixture (``open_room``, ``granted_room``, ``frozen_room``,
``ended_room``); ``in_stage_order`` hands them out in stage order (the modules of the room share one
``xdist_group``, so they run on one worker), and a test that asks for a stage the room has passed fails.
On the real AWS target the room is deployed with no people and no grants: only the sealed stack's tests,
which need none, run there.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

import pytest
from botocore.config import Config

from programs.forensic_env.access import INCOMING, INVESTIGATION_SESSION_TAG, REPORTS
from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from programs.forensic_env.trust import PERSON_ROLES
from service.orchestration.messages import OperationKind, OperationResult
from tests.support import room_stages
from tests.support.aws import Clients, clients_with
from tests.support.deploy_targets import DeployTarget
from tests.support.persons import Endpoint, Person, declared_grant, make_person
from tests.support.program_runs import run_program

INVESTIGATION = "it-enforced"
BREAK_GLASS = "forensics-break-glass"
# The grants test's people: each a role of their own (tests/support/persons.py).
GRANTS_PEOPLE = ("alice", "bob", "mallory")
# The xdist group of every test of the room: one worker holds it.
ROOM_GROUP = "enforced-room"


class Stage(IntEnum):
    NEW = 0
    OPEN = 1
    GRANTED = 2
    FROZEN = 3
    ENDED = 4


# The fixture a test reads each stage through.
STAGE_FIXTURES = {"open_room": Stage.OPEN, "granted_room": Stage.GRANTED, "frozen_room": Stage.FROZEN}
STAGE_FIXTURES["ended_room"] = Stage.ENDED


def in_stage_order(items: list[pytest.Item]) -> None:
    """Reorders, in place, the tests that read this room by the stage they read (room_stages)."""
    room_stages.in_stage_order(items, STAGE_FIXTURES)


def role_clients(target: DeployTarget, credentials: dict[str, Any]) -> Clients:
    return clients_with(
        credentials,
        endpoint_url=target.settings.aws_endpoint_url,
        region=target.settings.aws_region,
        config=Config(s3={"addressing_style": "path"}),
    )


def make_break_glass(target: DeployTarget) -> str:
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
    roles = sorted(role_arn(target, role) for role in PERSON_ROLES)
    permissions = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Resource": roles,
            }
        ],
    }
    iam.put_role_policy(
        RoleName=BREAK_GLASS, PolicyName="assume-clean-room-roles", PolicyDocument=json.dumps(permissions)
    )
    return arn


def make_permission_set_role(target: DeployTarget) -> tuple[str, str]:
    """An SSO-like permission-set role (its ARN and IAM role id) that may assume this clean room's roles:
    everyone assigned the set holds the same role, each in a session named by their sign-in."""
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


def role_arn(target: DeployTarget, role: str) -> str:
    return f"arn:aws:iam::{target.account_id}:role/forensics-{INVESTIGATION}-{role}"


@dataclass
class EnforcedRoom:
    """The room, the principals its grants name, and the results of its stages' deployments."""

    target: DeployTarget
    with_people: bool
    stage: Stage = Stage.NEW
    break_glass_arn: str = ""
    permission_set: tuple[str, str] = ("", "")
    people: dict[str, Person] = field(default_factory=dict)
    # When the grants of GRANTED end: an hour after the room was made, and a minute before.
    until: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(hours=1))
    expired: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(minutes=1))
    out: dict[str, Any] = field(default_factory=dict)
    # Sessions of the four roles opened at OPEN (one person each through break-glass), live ever since.
    sessions: dict[str, Clients] = field(default_factory=dict)
    results: dict[str, OperationResult] = field(default_factory=dict)
    # Written before the freeze (FROZEN): the responder's evidence (key, body) and the investigator's report.
    before_freeze: tuple[str, bytes, str] = ("", b"", "")
    before_freeze_reads: dict[str, bytes] = field(default_factory=dict)
    # The stage whose deployment failed: the tests after it fail at once rather than deploy again.
    broken: str = ""

    def client(self, service: str) -> Any:
        return self.target.client(service)

    def role_arn(self, role: str) -> str:
        return role_arn(self.target, role)

    def person(self, role: str, name: str) -> Clients:
        """A new session of ``role`` for ``name`` through break-glass, as the role's grant requires."""
        glass = role_clients(
            self.target,
            self.client("sts").assume_role(RoleArn=self.break_glass_arn, RoleSessionName="on-call")[
                "Credentials"
            ],
        )("sts")
        credentials = glass.assume_role(
            RoleArn=self.role_arn(role),
            RoleSessionName=name,
            SourceIdentity=name,
            Tags=[{"Key": INVESTIGATION_SESSION_TAG, "Value": INVESTIGATION}],
        )["Credentials"]
        return role_clients(self.target, credentials)

    def grants(self, stage: Stage) -> list[dict[str, str]]:
        """The grants the room is deployed with at ``stage``."""
        if not self.with_people:
            return []
        two_hours = (datetime.now(UTC) + timedelta(hours=2)).strftime(GRANT_EXPIRY_FORMAT)
        by_role = [
            {
                "role": role,
                "principalArn": self.break_glass_arn,
                "person": f"{role}-1",
                "expiresAt": two_hours,
            }
            for role in PERSON_ROLES
        ]
        shared = {
            "role": "investigator",
            "principalArn": self.permission_set[0],
            "person": "alice",
            "expiresAt": two_hours,
        }
        if stage == Stage.OPEN:
            return [*by_role, shared]
        alice, bob = self.people["alice"], self.people["bob"]
        return [
            *by_role,
            {**shared, "sessionName": "alice"},
            declared_grant("investigator", alice, self.until),
            declared_grant("custodian", bob, self.until),
            declared_grant("analyst", bob, self.expired),
        ]

    def at(self, stage: Stage) -> EnforcedRoom:
        """The room at ``stage``: each stage not yet reached deployed in turn."""
        if self.broken:
            pytest.fail(f"the room did not reach {self.broken} (see the first test that asked for it)")
        if stage < self.stage:
            pytest.fail(f"the room is at {self.stage.name}, past {stage.name}: its tests run in stage order")
        while self.stage < stage:
            following = Stage(self.stage + 1)
            try:
                self._enter(following)
            except BaseException:
                self.broken = following.name
                raise
        return self

    def _up(self, name: str, stage: Stage, **config: Any) -> OperationResult:
        result = run_program(
            self.target, OperationKind.UP, INVESTIGATION, grants=self.grants(stage), **config
        )
        self.results[name] = result
        return result

    def _enter(self, stage: Stage) -> None:
        if stage == Stage.OPEN:
            up = self._up("open", stage)
            assert up.succeeded, (up.error, up.policy_violations)
            self.out = dict(up.outputs)
            if self.with_people:
                self.sessions = {role: self.person(role, f"{role}-1") for role in PERSON_ROLES}
        elif stage == Stage.GRANTED:
            up = self._up("granted", stage)
            assert up.succeeded, (up.error, up.policy_violations)
        elif stage == Stage.FROZEN:
            if self.with_people:
                self._write_before_freeze()
            up = self._up("frozen", stage, frozen=True)
            assert up.succeeded, (up.error, up.policy_violations)
        else:
            self.stage = Stage.ENDED  # whatever happens below, the room is not to be used again
            self._up("released", Stage.GRANTED, frozen=True, unprotect=True)
            self._up("thawed", Stage.GRANTED)
            self.results["destroyed"] = run_program(self.target, OperationKind.DESTROY, INVESTIGATION)
        self.stage = stage

    def _write_before_freeze(self) -> None:
        """The responder hands in evidence and the investigator writes a report, each read back by the role
        the freeze then shuts out (``before_freeze_reads``), in the sessions it opened at OPEN."""
        bucket = self.out["evidenceBucket"]
        evidence, body, report = f"{INCOMING}before-freeze.raw", b"disk image of i-0def", f"{REPORTS}draft.md"
        s3 = {role: self.sessions[role]("s3") for role in PERSON_ROLES}
        s3["responder"].put_object(Bucket=bucket, Key=evidence, Body=body, ChecksumAlgorithm="SHA256")
        s3["investigator"].put_object(Bucket=bucket, Key=report, Body=b"draft: lateral movement")
        self.before_freeze = (evidence, body, report)
        self.before_freeze_reads = {
            "investigator": s3["investigator"].get_object(Bucket=bucket, Key=evidence)["Body"].read(),
            "analyst": s3["analyst"].get_object(Bucket=bucket, Key=report)["Body"].read(),
        }

    def close(self) -> None:
        """Destroys what a failed or partial run left standing (the ENDED stage's results are the test's)."""
        if self.stage == Stage.ENDED or (self.stage == Stage.NEW and not self.broken):
            return
        run_program(self.target, OperationKind.UP, INVESTIGATION, frozen=True, unprotect=True)
        run_program(self.target, OperationKind.DESTROY, INVESTIGATION)


def new_room(target: DeployTarget, with_people: bool) -> EnforcedRoom:
    """The room before its first deployment, with the principals its grants name made in the local AWS."""
    room = EnforcedRoom(target, with_people)
    if with_people:
        room.break_glass_arn = make_break_glass(target)
        room.permission_set = make_permission_set_role(target)
        room.people = {
            name: make_person(target.client, Endpoint.of(target.settings), name) for name in GRANTS_PEOPLE
        }
    return room
