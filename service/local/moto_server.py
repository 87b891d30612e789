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
"""

from __future__ import annotations

import argparse
import contextvars
import fnmatch
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


def principal_arn(access_key_id: str | None, account_id: str = "123456789012") -> str:
    """What S3 would see as aws:PrincipalArn for these credentials."""
    from moto.sts.models import sts_backends

    if access_key_id:
        for account_backends in sts_backends.values():
            for backend in account_backends.values():
                role = backend.get_assumed_role_from_access_key(access_key_id)
                if role is not None:
                    return str(role.role_arn)
    return f"arn:aws:iam::{account_id}:root"


def install() -> None:
    """Patch moto in this process: condition operators and per-request context for bucket policies."""
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
                "aws:PrincipalArn": principal_arn(match.group(1) if match else None),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    install()
    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(args.port), "--ssl"])


if __name__ == "__main__":
    main()
