"""People acting in a clean room as a real person does: through a just-in-time grant of the room's role,
bound to their own AWS principal, never through the service's or the administrator's identity.

A room's standing trust statements need MFA, which no session of the local AWS ever has
(``tools.local_aws.aws``), so a person gets in only by a grant (``programs/forensic_env/trust.py``):

- ``make_person`` (``local_people`` for several in the local AWS): the person's own AWS principal, a role
  of their own (what their sign-in gives them), trusted by the operator (who signs in as them here) and
  allowed by its identity policy to assume the forensic account's ``forensics-*`` roles with session tags
  and a source identity, so that only the room's trust policy decides who gets in. ``with_people`` binds
  each person to it in the service's settings (``person_principals``), where the service takes a grant's
  principal from.
- ``grant`` (``grants`` for several at once): the service's way: the person asks for the role
  (``POST .../access-requests``), another person approves, and the grant's `up` writes it into the role's
  trust policy.
- ``declared_grant``: the grant as an approval declares it in the stack's config, for tests that run the
  program without the service.
- ``Person.session`` (``client``, ``assume``): AssumeRole of the room's role as the person's principal,
  with their name as the session name and source identity and the investigation's session tag, as the
  grant requires.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.config import Config
from fastapi.testclient import TestClient

from programs.forensic_env.config import GRANT_EXPIRY_FORMAT
from programs.forensic_env.trust import GRANT_ACTIONS, INVESTIGATION_SESSION_TAG
from service.config import PersonPrincipal, Settings
from tests.support.api import ADMIN, wait_operation
from tests.support.aws import Clients, clients_with
from tools.local_aws.aws import LocalAws

# What a person's own role may assume: the forensic account's roles (the rooms' and the deploy role, whose
# trust refuses them); the room's trust policy is what decides.
ASSUMABLE_ROLES = "forensics-*"
GRANT_TIMEOUT = 900.0
# A denied AssumeRole answers at once: no retries that would only repeat the refusal.
_ONE_ATTEMPT = Config(retries={"max_attempts": 1})


@dataclass(frozen=True)
class Endpoint:
    """Where the person's clients connect: the local AWS, or real AWS (``url`` None)."""

    url: str | None
    region: str
    verify: bool

    @classmethod
    def of(cls, settings: Settings) -> Endpoint:
        return cls(settings.aws_endpoint_url, settings.aws_region, settings.aws_verify_tls)

    @classmethod
    def local(cls, aws: LocalAws) -> Endpoint:
        # The suite's local AWS is reached with checks off (tools/local_aws/aws.py).
        return cls(aws.endpoint_url, aws.region, False)


@dataclass(frozen=True)
class Person:
    """One person of the service (``name``: their grants' source identity and session name) and their own
    AWS principal, reached through the operator's clients (who signs in as them)."""

    name: str
    principal_arn: str
    operator: Clients
    endpoint: Endpoint

    @property
    def settings_entry(self) -> dict[str, PersonPrincipal]:
        return {self.name: PersonPrincipal(principal_arn=self.principal_arn)}

    def _clients(self, credentials: Mapping[str, Any], config: Config | None = None) -> Clients:
        return clients_with(
            credentials,
            endpoint_url=self.endpoint.url,
            region=self.endpoint.region,
            verify=self.endpoint.verify,
            config=config,
        )

    def sts(self) -> Any:
        """STS as the person's own principal (signed in as them)."""
        credentials = self.operator("sts").assume_role(RoleArn=self.principal_arn, RoleSessionName=self.name)
        return self._clients(credentials["Credentials"], _ONE_ATTEMPT)("sts")

    def assume(
        self, role_arn: str, investigation_id: str, *, as_person: str | None = None, tag: str | None = None
    ) -> dict[str, Any]:
        """AssumeRole of a room's role as the person's principal, the way their grant requires (their name as
        session name and source identity, the investigation's session tag). ``as_person`` and ``tag`` claim
        another name or investigation, as someone abusing a grant would."""
        claimed = as_person or self.name
        answer: dict[str, Any] = self.sts().assume_role(
            RoleArn=role_arn,
            RoleSessionName=claimed,
            SourceIdentity=claimed,
            Tags=[{"Key": INVESTIGATION_SESSION_TAG, "Value": tag or investigation_id}],
        )
        return answer

    def session(self, role_arn: str, investigation_id: str) -> Clients:
        """Clients of any service acting in the person's session of the room's role."""
        return self._clients(self.assume(role_arn, investigation_id)["Credentials"])

    def client(self, role_arn: str, investigation_id: str, service: str) -> Any:
        return self.session(role_arn, investigation_id)(service)


def make_person(operator: Clients, endpoint: Endpoint, name: str) -> Person:
    """``name``'s own role in the forensic account (unique per call), trusted by the operator."""
    iam = operator("iam")
    caller = operator("sts").get_caller_identity()
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": caller["Arn"]}, "Action": "sts:AssumeRole"}],
    }
    role = f"person-{re.sub(r'[^A-Za-z0-9+=,.@_-]', '-', name)[:40]}-{uuid.uuid4().hex[:8]}"
    arn = str(iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    allowed = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": list(GRANT_ACTIONS),
                "Resource": f"arn:aws:iam::{arn.split(':')[4]}:role/{ASSUMABLE_ROLES}",
            }
        ],
    }
    iam.put_role_policy(
        RoleName=role, PolicyName="assume-clean-room-roles", PolicyDocument=json.dumps(allowed)
    )
    return Person(name, arn, operator, endpoint)


def local_people(aws: LocalAws, *names: str) -> dict[str, Person]:
    """Each of ``names`` with a role of their own in the local AWS, signed in as by its administrator."""
    return {name: make_person(aws.client, Endpoint.local(aws), name) for name in names}


def with_people(settings: Settings, *people: Person) -> Settings:
    """``settings`` binding each person to their own principal (the service's ``person_principals``)."""
    bound = dict(settings.person_principals)
    for person in people:
        bound.update(person.settings_entry)
    return settings.model_copy(update={"person_principals": bound})


def grants(
    client: TestClient,
    investigation_id: str,
    wanted: Sequence[tuple[str, dict[str, str]]],
    approver: dict[str, str],
    *,
    hours: int = 1,
    reason: str = "work on the evidence",
    timeout: float = GRANT_TIMEOUT,
) -> list[dict[str, Any]]:
    """The service's just-in-time access: for each (role, requester), the requester (a token of the
    person) asks for the role and the approver (another person who may decide access) approves; then the
    grants' `up` (one, when a later approval joins the queued one) writes them into the roles' trust
    policies. Returns the access requests as the API shows them once it succeeded."""
    request_ids, operation_ids = [], []
    for role, requester in wanted:
        asked = client.post(
            f"/v1/investigations/{investigation_id}/access-requests",
            json={"role": role, "hours": hours, "reason": reason},
            headers=requester,
        )
        assert asked.status_code == 201, asked.text
        request_ids.append(asked.json()["id"])
        approved = client.post(f"/v1/access-requests/{request_ids[-1]}/approve", headers=approver)
        assert approved.status_code == 202, approved.text
        operation = approved.json()["operation"]
        assert operation is not None, approved.json()
        operation_ids.append(operation["id"])
    for operation_id in dict.fromkeys(operation_ids):
        done = wait_operation(client, operation_id, timeout=timeout)
        assert done["state"] == "succeeded", done
    return [client.get(f"/v1/access-requests/{r}", headers=ADMIN).json() for r in request_ids]


def grant(
    client: TestClient,
    investigation_id: str,
    role: str,
    requester: dict[str, str],
    approver: dict[str, str],
    **options: Any,
) -> dict[str, Any]:
    """One person's grant of ``role`` (``grants``)."""
    (granted,) = grants(client, investigation_id, [(role, requester)], approver, **options)
    return granted


def declared_grant(role: str, person: Person, expires: datetime) -> dict[str, str]:
    """One entry of the stack's ``grants`` config, as an approval declares it."""
    return {
        "role": role,
        "principalArn": person.principal_arn,
        "person": person.name,
        "expiresAt": expires.strftime(GRANT_EXPIRY_FORMAT),
    }
