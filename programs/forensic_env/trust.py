"""Who may become one of the four people of a clean room: each person's role's trust policy, as plain data.

Kept free of the engine (plain strings in, plain statements out) so the config validator can measure a
policy before anything is deployed: IAM refuses a trust policy longer than the account's ``ACLSizePerRole``
quota at the update, which would otherwise surface as a failed deployment halfway through an `up`.

Two kinds of statement:

- standing: the principals from settings (break-glass when none), with MFA;
- just-in-time grants: one principal for one person until a time. ``aws:CurrentTime`` is judged by STS at
  every AssumeRole, so an expired grant refuses the role even if the service that should remove it is down.
  The grant is bound to the person's own identity, never to what the caller says: the principal (their IAM
  user or role) and, for a role several people use (an SSO permission-set role), their own session of it
  (``aws:userid`` is ``<role id>:<role session name>``, the session name their sign-in gave them). The person
  is also the required ``sts:SourceIdentity``, which AWS then stamps on everything the session does; alone
  it proves nothing, since the caller of AssumeRole chooses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PERSON_ROLES = ("responder", "investigator", "custodian", "analyst")
# The session tag a person's AssumeRole must carry: the investigation the session is for.
INVESTIGATION_SESSION_TAG = "forensics-investigation"
# Frozen, grants of every other role are left out of the trust policies (revoked); the custodian keeps the
# chain of custody, so their grants stay.
FROZEN_KEEPS_GRANTS_OF = ("custodian",)
# Grant statements carry a Sid with this prefix (the policy pack also recognises grants by their conditions).
GRANT_SID_PREFIX = "AccessGrant"
# STS's SourceIdentity: 2 to 64 of these characters.
SOURCE_IDENTITY_PATTERN = r"^[A-Za-z0-9_+=,.@-]{2,64}$"
# STS's RoleSessionName: 2 to 64 of these (no colon, so it is everything after the colon of aws:userid).
SESSION_NAME_PATTERN = r"^[A-Za-z0-9_+=,.@-]{2,64}$"
# IAM's default ACLSizePerRole quota (characters, whitespace not counted); it can be raised to 4096.
TRUST_POLICY_MAX_CHARS = 2048
GRANT_ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")

Statement = dict[str, Any]


@dataclass(frozen=True)
class AccessGrant:
    """One person's time-limited access to one role: ``principal_arn`` (their SSO permission-set role or IAM
    role/user), in its session ``session_name`` when the role is shared, may assume ``role`` as source
    identity ``person`` until ``expires_at`` (ISO 8601 UTC, ``YYYY-MM-DDTHH:MM:SSZ``, the spelling IAM's
    date conditions take)."""

    role: str
    principal_arn: str
    person: str
    expires_at: str
    session_name: str | None = None

    @property
    def sid(self) -> str:
        # Sids may hold letters and digits only: the person and principal go in as a digest.
        digits = "".join(ch for ch in self.expires_at if ch.isdigit())
        bound = f"{self.principal_arn}\n{self.person}" + (
            f"\n{self.session_name}" if self.session_name else ""
        )
        who = hashlib.sha256(bound.encode()).hexdigest()[:12]
        return f"{GRANT_SID_PREFIX}{self.role.capitalize()}Until{digits}For{who}"


def session_tag_condition(investigation_id: str) -> dict[str, str]:
    return {f"aws:RequestTag/{INVESTIGATION_SESSION_TAG}": investigation_id}


def standing_statements(investigation_id: str, principals: Sequence[str]) -> list[Statement]:
    """The principals from settings, with MFA, for this investigation. Never "as a named person" with any
    source identity: the caller chooses its source identity, so that would let anyone of a shared role claim
    to be anyone; a person is named only by a grant bound to their own identity."""
    return [
        {
            "Sid": "AssumeWithMfaForThisInvestigation",
            "Effect": "Allow",
            "Principal": {"AWS": list(principals)},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": session_tag_condition(investigation_id),
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
            },
        },
    ]


def session_condition(session_name: str) -> dict[str, str]:
    """Only the principal role's session of this name: ``aws:userid`` is ``<role id>:<session name>``, and
    a session name holds no colon. The role id itself is IAM's (unknown until the role exists, and the
    Principal element already pins the role)."""
    return {"aws:userid": f"*:{session_name}"}


def grant_statement(investigation_id: str, grant: AccessGrant) -> Statement:
    condition: dict[str, dict[str, str]] = {
        "DateLessThan": {"aws:CurrentTime": grant.expires_at},
        "StringEquals": {
            "sts:SourceIdentity": grant.person,
            **session_tag_condition(investigation_id),
        },
    }
    if grant.session_name:
        condition["StringLike"] = session_condition(grant.session_name)
    return {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Principal": {"AWS": grant.principal_arn},
        "Action": list(GRANT_ACTIONS),
        "Condition": condition,
    }


def grants_in_force(grants: Sequence[AccessGrant], frozen: bool) -> tuple[AccessGrant, ...]:
    return tuple(g for g in grants if not frozen or g.role in FROZEN_KEEPS_GRANTS_OF)


def person_trust_statements(
    investigation_id: str, principals: Sequence[str], grants: Sequence[AccessGrant], role: str
) -> list[Statement]:
    """The whole trust policy of one person's role: standing statements, then that role's grants."""
    return [
        *standing_statements(investigation_id, principals),
        *(grant_statement(investigation_id, g) for g in grants if g.role == role),
    ]


def trust_document(statements: Sequence[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def policy_size(document: str) -> int:
    """The size IAM holds against ``ACLSizePerRole``: characters other than whitespace."""
    return sum(1 for ch in document if not ch.isspace())
