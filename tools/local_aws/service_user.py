"""The service's own identity in a local AWS: the IAM user ``forensics-service`` in the service's
(management) account, as day zero makes it (``tools.local_aws.day_zero``) and as the suite's shared local
AWS has it (tests/conftest.py): made by the operator without permissions, because the day-zero trust
policies name it, then granted exactly ``service.bootstrap.service_identity.service_policy`` once the roles
it names exist.

One user serves every Settings of a suite worker (each test's settings name the same seeded roles, some
add a region's account, a state bucket or an alert queue), so a grant adds to what the user already holds
(statement by statement, resources merged) instead of replacing it: the user may then do what the union of
the settings it was granted for allows, and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from service import aws_clients
from service.bootstrap.service_identity import POLICY_NAME, service_policy
from service.config import Settings

SERVICE_USER = "forensics-service"


@dataclass(frozen=True)
class ServiceUser:
    arn: str
    access_key_id: str
    secret_access_key: str


def ensure_user(iam: Any) -> ServiceUser:
    """The service's IAM user (made if missing) with a new access key, made with the operator's ``iam``
    client; its previous keys are removed: only the running service holds a key."""
    try:
        arn = iam.get_user(UserName=SERVICE_USER)["User"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_user(UserName=SERVICE_USER)["User"]["Arn"]
    for key in iam.list_access_keys(UserName=SERVICE_USER)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=SERVICE_USER, AccessKeyId=key["AccessKeyId"])
    key = iam.create_access_key(UserName=SERVICE_USER)["AccessKey"]
    return ServiceUser(str(arn), str(key["AccessKeyId"]), str(key["SecretAccessKey"]))


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def merged_policy(held: dict[str, Any] | None, granted: dict[str, Any]) -> dict[str, Any]:
    """``granted`` added to ``held``: a statement of the same Sid (same effect and actions, by
    ``service_policy``'s construction) gets the union of both resource lists (each a sorted list, so a
    second grant of the same settings changes nothing)."""
    statements: dict[str, dict[str, Any]] = {}
    for statement in [*(held or {}).get("Statement", []), *granted["Statement"]]:
        sid = str(statement["Sid"])
        merged = statements.setdefault(sid, {**statement, "Resource": []})
        merged["Resource"] = sorted(set(merged["Resource"]) | set(_listed(statement["Resource"])))
    return {"Version": "2012-10-17", "Statement": list(statements.values())}


def grant(operator: Settings, service: Settings) -> dict[str, Any]:
    """Give the service user what ``service`` (settings acting as it) needs, with the ``operator``'s
    credentials; returns the user's whole policy."""
    iam = aws_clients.client(operator, "iam")
    try:
        held = iam.get_user_policy(UserName=SERVICE_USER, PolicyName=POLICY_NAME)["PolicyDocument"]
        held = json.loads(held) if isinstance(held, str) else held
    except iam.exceptions.NoSuchEntityException:
        held = None
    policy = merged_policy(held, service_policy(service))
    iam.put_user_policy(UserName=SERVICE_USER, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))
    return policy


def is_service_user(arn: str) -> bool:
    """Whether a caller ARN is the service user (of any account)."""
    return arn.startswith("arn:aws:iam::") and arn.endswith(f":user/{SERVICE_USER}")
