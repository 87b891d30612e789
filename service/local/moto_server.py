"""moto's server, made to judge S3 bucket policies the way S3 does: ``python -m service.local.moto_server``.

Plain moto ignores every policy condition operator except StringEquals and never sees the request's context,
so a Deny with a condition (``aws:SecureTransport = false``, ``aws:PrincipalArn`` not like …) denies every
caller. Our evidence bucket policy has exactly such statements, and must keep them. This launcher (a local
fixture only) makes the emulation faithful instead of weakening the policy:

- it serves HTTPS (a throwaway self-signed certificate), as S3 does, so ``aws:SecureTransport`` is true;
- it evaluates the condition operators our policies use (Bool, String[Not]Like, String[Not]Equals,
  Arn[Not]Like) against the request's context: ``aws:SecureTransport`` and ``aws:PrincipalArn`` (the role
  ARN for credentials from sts:AssumeRole, the account root for the default credentials);
- a statement whose condition does not hold does not apply (moto treats it as an explicit deny), and
  ``NotResource`` is honoured (moto reads a statement without ``Resource`` as a trust policy and permits it).

``--enforce-iam`` (only with moto's own switch, ``INITIAL_NO_AUTH_ACTION_COUNT``, which makes moto check every
signed request against the caller's IAM identity policies: ``service.local.aws.LocalAws(enforce_iam=True)``)
adds what that check needs to judge our clean room the way AWS does (``install_enforcement``):

- role trust at ``sts:AssumeRole`` is judged with the request's context: the session tags
  (``aws:RequestTag/<key>``), ``sts:SourceIdentity``, ``sts:ExternalId``, ``sts:RoleSessionName``,
  ``aws:PrincipalArn``/``aws:PrincipalAccount``; passing tags also needs ``sts:TagSession`` and a source
  identity ``sts:SetSourceIdentity`` in the trust policy; a role's sessions match the role's ARN in
  ``Principal`` (moto compares the session ARN, so no role could ever assume another); a condition key absent
  from the request fails its condition (``...IfExists`` and negated operators excepted), ``Null`` is
  evaluated, and an operator the launcher cannot judge never grants (moto skips unknown operators and
  treats absent keys as matching, so every conditional trust policy would admit anyone it names);
- S3 sub-resources are checked as the IAM actions S3 uses for them (``s3:PutObjectLegalHold``,
  ``s3:PutObjectRetention``, ``s3:PutBucketObjectLockConfiguration``, ...; moto checks them as
  ``s3:PutObject`` / ``s3:CreateBucket``);
- ``aws:PrincipalArn`` in bucket policies is the IAM user's ARN for an IAM user's keys (not the account root);
- JSON-protocol services (KMS, SSM, Logs) refuse with ``AccessDeniedException`` in JSON, as AWS does (moto
  answers them in XML, which their clients cannot parse).
"""

from __future__ import annotations

import argparse
import contextvars
import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

_request_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "moto_request_context", default=None
)
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def _values(expected: Any) -> list[str]:
    return [str(v) for v in (expected if isinstance(expected, list) else [expected])]


def _like(expected: Any, actual: str) -> bool:
    return any(fnmatch.fnmatchcase(actual, pattern) for pattern in _values(expected))


def _equals(expected: Any, actual: str) -> bool:
    return actual in _values(expected)


def _bool(expected: Any, actual: str) -> bool:
    return actual.lower() in [v.lower() for v in _values(expected)]


OPERATORS: dict[str, Callable[[Any, str], bool]] = {
    "StringEquals": _equals,
    "StringNotEquals": lambda e, a: not _equals(e, a),
    "StringLike": _like,
    "StringNotLike": lambda e, a: not _like(e, a),
    "ArnEquals": _equals,
    "ArnNotEquals": lambda e, a: not _equals(e, a),
    "ArnLike": _like,
    "ArnNotLike": lambda e, a: not _like(e, a),
    "Bool": _bool,
}


def principal_arn(access_key_id: str | None, account_id: str = "123456789012", *, users: bool = False) -> str:
    """What S3 would see as aws:PrincipalArn for these credentials (``users``: an IAM user's keys are the
    user, as in AWS; without it every credential but an assumed role's is the account root)."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key_id:
        for account_backends in sts_backends.values():
            for backend in account_backends.values():
                role = backend.get_assumed_role_from_access_key(access_key_id)
                if role is not None:
                    return str(role.role_arn)
        if users:
            for iam_account in iam_backends.values():
                for iam in iam_account.values():
                    for user in iam.users.values():
                        if any(key.access_key_id == access_key_id for key in user.access_keys):
                            return str(user.arn)
    return f"arn:aws:iam::{account_id}:root"


def install(enforce_iam: bool = False) -> None:
    """Patch moto in this process: condition operators and per-request context for bucket policies (and,
    with ``enforce_iam``, what IAM enforcement needs: ``install_enforcement``)."""
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.s3 import models as s3_models
    from moto.s3 import responses as s3_responses

    policy_conditions.CONDITION_OPERATIONS.update(OPERATORS)

    # A statement whose condition does not hold does not apply (moto answers DENIED, which turns every
    # conditional Deny into a deny-all).
    statement_permitted = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
            return PermissionResult.NEUTRAL
        if "NotResource" in self._statement:
            # moto reads a statement without Resource as a trust policy and permits it.
            concerned = (
                not self._check_element_matches("NotAction", action)
                if "NotAction" in self._statement
                else self._check_element_matches("Action", action)
            )
            if not concerned or self._check_element_matches("NotResource", resource):
                return PermissionResult.NEUTRAL
            allow = self._statement["Effect"] == "Allow"
            return PermissionResult.PERMITTED if allow else PermissionResult.DENIED
        return statement_permitted(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(self.policy.decode()).is_action_permitted(
            action, resource, incoming_condition_values=_request_context.get()
        )

    s3_models.FakeBucket.get_permission = get_permission  # type: ignore[method-assign]

    original = s3_responses.S3Response._key_response

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        match = _ACCESS_KEY.search(request.headers.get("Authorization", ""))
        token = _request_context.set(
            {
                "aws:SecureTransport": "true" if full_url.startswith("https://") else "false",
                "aws:PrincipalArn": principal_arn(match.group(1) if match else None, users=enforce_iam),
            }
        )
        try:
            return original(self, request, full_url)
        finally:
            _request_context.reset(token)

    s3_responses.S3Response._key_response = key_response  # type: ignore[method-assign]

    # S3 lets the default retention of a bucket that already has Object Lock change at any time (it applies
    # to new objects only): freeze switches it to COMPLIANCE on a bucket full of evidence. moto refuses any
    # lock configuration on a non-empty bucket; keep its check only for turning Object Lock on.
    put_lock = s3_models.S3Backend.put_object_lock_configuration

    def put_object_lock_configuration(
        self: Any,
        bucket_name: str,
        lock_enabled: bool,
        mode: str | None = None,
        days: int | None = None,
        years: int | None = None,
    ) -> None:
        bucket = self.get_bucket(bucket_name)
        if bucket.object_lock_enabled and bucket.is_versioned:
            bucket.default_lock_mode, bucket.default_lock_days, bucket.default_lock_years = mode, days, years
            return
        put_lock(self, bucket_name, lock_enabled, mode, days, years)

    s3_models.S3Backend.put_object_lock_configuration = (  # type: ignore[method-assign]
        put_object_lock_configuration
    )
    if enforce_iam:
        install_enforcement()


# S3 sub-resource (query string) -> the IAM action S3 authorizes it as, where moto falls back to the method's
# default (s3:PutObject for a legal hold, s3:CreateBucket for a bucket's lock configuration...). Appended
# after moto's entries, so they win over ``versionId`` (a version's legal hold is s3:GetObjectLegalHold).
S3_SUBRESOURCE_ACTIONS: dict[str, dict[str, dict[str, str]]] = {
    "KEY": {
        "GET": {"legal-hold": "GetObjectLegalHold", "retention": "GetObjectRetention"},
        "PUT": {"legal-hold": "PutObjectLegalHold", "retention": "PutObjectRetention"},
    },
    "BUCKET": {
        "GET": {
            "object-lock": "GetBucketObjectLockConfiguration",
            "encryption": "GetEncryptionConfiguration",
            "ownershipControls": "GetBucketOwnershipControls",
        },
        "PUT": {
            "object-lock": "PutBucketObjectLockConfiguration",
            "encryption": "PutEncryptionConfiguration",
            "ownershipControls": "PutBucketOwnershipControls",
        },
        "DELETE": {
            "encryption": "PutEncryptionConfiguration",
            "ownershipControls": "PutBucketOwnershipControls",
        },
    },
}


def _context_value(context: dict[str, str], key: str) -> str | None:
    """Condition keys are case-insensitive."""
    wanted = key.lower()
    return next((value for name, value in context.items() if name.lower() == wanted), None)


def conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool | None:
    """A Condition block judged as IAM does for a request whose whole context is ``context``: a key absent
    from it fails its condition, except with ``...IfExists`` or a negated operator; ``Null`` tests presence.
    None: an operator the launcher cannot judge (the caller decides what that means for the statement)."""
    for operator, block in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        for key, expected in block.items():
            actual = _context_value(context, key)
            if base == "Null":
                if not _bool(expected, "true" if actual is None else "false"):
                    return False
                continue
            test = OPERATORS.get(base)
            if test is None:
                return None
            if actual is None:
                if if_exists or "Not" in base:
                    continue
                return False
            if not test(expected, actual):
                return False
    return True


def _principal_named(statement: dict[str, Any], principals: set[str], account_id: str) -> bool:
    def names(value: Any) -> bool:
        aws = value.get("AWS", []) if isinstance(value, dict) else value
        named = set(_values(aws))
        # An account (its root or bare id) delegates to that account's identity policies, checked apart.
        return bool(named & (principals | {"*", account_id, f"arn:aws:iam::{account_id}:root"}))

    if "NotPrincipal" in statement:
        return not names(statement["NotPrincipal"])
    return names(statement.get("Principal", []))


def trust_permits(
    document: str | dict[str, Any],
    action: str,
    principals: set[str],
    account_id: str,
    context: dict[str, str],
) -> bool:
    """Whether a role's trust policy lets one of ``principals`` (the caller's ARNs) perform ``action``
    (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity) with this request context: an applying Deny
    refuses, an applying Allow grants, nothing applying refuses."""
    policy = json.loads(document) if isinstance(document, str) else document
    found = policy.get("Statement", [])
    allowed = False
    for statement in found if isinstance(found, list) else [found]:
        if "NotAction" in statement:
            concerned = not _like([a.lower() for a in _values(statement["NotAction"])], action.lower())
        else:
            concerned = _like([a.lower() for a in _values(statement.get("Action", []))], action.lower())
        if not concerned or not _principal_named(statement, principals, account_id):
            continue
        holds = conditions_hold(statement.get("Condition", {}), context)
        deny = statement.get("Effect") == "Deny"
        if deny and holds is not False:  # a Deny the launcher cannot judge still applies
            return False
        if not deny and holds is True:
            allowed = True
    return allowed


def assume_role_request(
    data: dict[str, Any], caller_arn: str, account_id: str
) -> tuple[list[str], dict[str, str]]:
    """The actions an AssumeRole request needs from the trust policy, and its request context."""

    def first(name: str) -> str | None:
        value = data.get(name)
        return str(value[0] if isinstance(value, list) else value) if value else None

    context = {"aws:PrincipalArn": caller_arn, "aws:PrincipalAccount": account_id}
    actions = ["sts:AssumeRole"]
    n = 1
    while (key := first(f"Tags.member.{n}.Key")) is not None:
        context[f"aws:RequestTag/{key}"] = first(f"Tags.member.{n}.Value") or ""
        n += 1
    if n > 1:
        actions.append("sts:TagSession")
    for parameter, context_key in (
        ("SourceIdentity", "sts:SourceIdentity"),
        ("ExternalId", "sts:ExternalId"),
        ("RoleSessionName", "sts:RoleSessionName"),
    ):
        if (value := first(parameter)) is not None:
            context[context_key] = value
    if "sts:SourceIdentity" in context:
        actions.append("sts:SetSourceIdentity")
    return actions, context


def install_enforcement() -> None:
    """What moto's IAM enforcement needs to judge the clean room as AWS does (the module docstring)."""
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMRequest, IAMRequestBase
    from moto.s3 import responses as s3_responses

    for resource_type, methods in S3_SUBRESOURCE_ACTIONS.items():
        for method, actions in methods.items():
            s3_responses.ACTION_MAP[resource_type][method].update(actions)

    def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
        role = self.backend.get_role_by_arn(role_arn)
        caller = principal_arn(self._access_key._access_key_id, self.account_id, users=True)
        principals = {caller, str(self._access_key.arn)}
        actions, context = assume_role_request(self._data, caller, self.account_id)
        return all(
            trust_permits(role.assume_role_policy_document, action, principals, self.account_id, context)
            for action in actions
        )

    IAMRequestBase._check_role_trust_relationship = check_role_trust_relationship  # type: ignore[method-assign]

    # JSON-protocol services (KMS, SSM, CloudWatch Logs...) refuse in JSON, as AccessDeniedException;
    # moto sends its query-protocol XML, which their clients cannot read (the error code comes out as "403").
    raise_access_denied = IAMRequest._raise_access_denied

    def raise_json_access_denied(self: Any) -> None:
        headers = {name.lower(): value for name, value in self._headers.items()}
        if "x-amz-target" in headers or headers.get("content-type", "").startswith("application/x-amz-json"):
            denied = JsonRESTError(
                "AccessDeniedException",
                f"User: {self._access_key.arn} is not authorized to perform: {self._action}",
            )
            denied.code = 403
            raise denied
        raise_access_denied(self)

    IAMRequest._raise_access_denied = raise_json_access_denied  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="judge trust and S3 sub-resources as AWS does (with INITIAL_NO_AUTH_ACTION_COUNT set)",
    )
    args = parser.parse_args()
    install(enforce_iam=args.enforce_iam)
    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(args.port), "--ssl"])


if __name__ == "__main__":
    main()
