"""moto's server, made to judge S3 bucket policies the way S3 does: ``python -m tools.local_aws.moto_server``.

Plain moto ignores every policy condition operator except StringEquals and never sees the request's context,
so a Deny with a condition (``aws:SecureTransport = false``, ``aws:PrincipalArn`` not like …) denies every
caller. Our evidence bucket policy has exactly such statements, and must keep them. This launcher (a local
fixture only) makes the emulation faithful instead of weakening the policy:

- it serves HTTPS (a throwaway self-signed certificate), as S3 does, so ``aws:SecureTransport`` is true;
- it evaluates the condition operators our policies use (Bool, String[Not]Like, String[Not]Equals,
  Arn[Not]Like, and the Date operators) against the request's context: ``aws:SecureTransport`` and
  ``aws:PrincipalArn`` (the role ARN for credentials from sts:AssumeRole, the account root for the default
  credentials; a presigned URL's too), ``aws:CurrentTime`` and ``aws:EpochTime`` (the real time of the
  request);
- a statement whose condition does not hold does not apply (moto treats it as an explicit deny), and
  ``NotResource`` is honoured (moto reads a statement without ``Resource`` as a trust policy and permits it).

It also makes EBS snapshots behave as AWS's where evidence-disk hashing depends on them (``patch_ebs``):

- EBS direct APIs: 524288-byte blocks (moto says 512). PutSnapshotBlock refuses a block of the wrong length,
  a DataLength or checksum that does not match the data, an index outside the volume, and any write once the
  snapshot is no longer pending. StartSnapshot honours ParentSnapshotId. The list calls page in block order
  (MaxResults, NextToken, StartingBlockIndex). GetSnapshotBlock checks the block token. A snapshot made
  through EC2 reads as its volume did: the blocks of the snapshot the volume came from, or zeros (moto
  answered 500). An unknown snapshot is ResourceNotFoundException.
- CopySnapshot finds the source in the source region when the caller owns it or it is shared with the caller
  (moto looked in the caller's account only). The copy is the caller's, carries the source's blocks, and is
  encrypted with KmsKeyId or the account's default key when Encrypted. DescribeSnapshots by id and
  CreateVolume accept a snapshot shared with the caller too.

``--enforce-iam`` (only with moto's own switch, ``INITIAL_NO_AUTH_ACTION_COUNT``, which makes moto check every
signed request against the caller's IAM identity policies: ``tools.local_aws.aws.LocalAws(enforce_iam=True)``)
adds what that check needs to judge our clean room the way AWS does (``patch_enforcement``):

- role trust at ``sts:AssumeRole`` is judged with the request's context: the session tags
  (``aws:RequestTag/<key>``), ``sts:SourceIdentity``, ``sts:ExternalId``, ``sts:RoleSessionName``,
  ``aws:PrincipalArn``/``aws:PrincipalAccount``, ``aws:CurrentTime``/``aws:EpochTime`` (the real time of
  the request, so a just-in-time grant's ``DateLessThan`` on ``aws:CurrentTime`` refuses the role from its
  expiry on, as STS does; ``DateEquals``, ``DateNotEquals``, ``DateLessThan[Equals]`` and
  ``DateGreaterThan[Equals]`` take ISO 8601 or epoch seconds, and a value that is not a time never grants);
  passing tags also needs ``sts:TagSession`` and a source identity ``sts:SetSourceIdentity`` in the trust
  policy; a role's sessions match the role's ARN in ``Principal`` (moto compares the session ARN, so no role
  could ever assume another); a condition key absent from the request fails its condition (``...IfExists``
  and negated operators excepted), ``Null`` is evaluated, and an operator the launcher cannot judge never
  grants (moto skips unknown operators and treats absent keys as matching, so every conditional trust
  policy would admit anyone it names);
- the caller's ``aws:userid`` joins that context (``tools.local_aws.caller_identity``; moto has none), so a
  grant bound to one session of a shared role is judged;
- S3 sub-resources are checked as the IAM actions S3 uses for them (``s3:PutObjectLegalHold``,
  ``s3:PutObjectRetention``, ``s3:PutBucketObjectLockConfiguration``, ...; moto checks them as
  ``s3:PutObject`` / ``s3:CreateBucket``);
- ``aws:PrincipalArn`` in bucket policies is the IAM user's ARN for an IAM user's keys (not the account root);
- JSON-protocol services (KMS, SSM, Logs) refuse with ``AccessDeniedException`` in JSON, as AWS does (moto
  answers them in XML, which their clients cannot parse);
- identity policies are judged on the resource ARNs and condition keys AWS uses
  (``tools.local_aws.iam_resources``).
- S3 presigned URLs are authenticated by their query string, anonymous requests denied
  (``tools.local_aws.s3_query_auth``; moto answered both with a 500).

Always (``patch_ssm_agent``, ``tools/local_aws/ssm_agent.py``): SSM SendCommand checks the parameters
against the document's rules and runs the program's evidence-mount document, as root, against loop devices
holding the attached volumes' bytes; any other document fails, saying the local AWS cannot run it.

Always (``patch_kms_digest``): KMS ``Sign``/``Verify`` with ``MessageType=DIGEST`` sign the digest as given,
as AWS does; moto hashes it again, so its signatures fail any standard verification.
Always (``patch_s3_checksums``): a PutObject/UploadPart whose ``x-amz-checksum-<sha256|sha1|crc32>``
(header, presigned URL or trailer) does not match the data is refused with 400 BadDigest, as S3 does.
Always (``tools.local_aws.s3_aws_chunked``): a malformed aws-chunked upload body is 400 IncompleteBody.
Two lookups moto repeats for every request (is the action a method, which backend serves the host) are
answered without redoing fixed work (``tools.local_aws.request_routing``). Both listeners keep a client's
connection open between requests (``tools.local_aws.keep_alive``), as AWS's endpoints do; werkzeug's own
handler closed it after every request.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextvars
import fnmatch
import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tools import garbage
from tools.local_aws import autoscaling_detach, organization_accounts, s3_aws_chunked
from tools.local_aws.resolver_firewall import patch_resolver_firewall

_request_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "moto_request_context", default=None
)
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
# A presigned URL carries the credential in its query string, its slashes percent-encoded.
_PRESIGNED_ACCESS_KEY = re.compile(r"[?&]X-Amz-Credential=([^/%&]+)(?:/|%2F)", re.IGNORECASE)


def _values(expected: Any) -> list[str]:
    return [str(v) for v in (expected if isinstance(expected, list) else [expected])]


def _like(expected: Any, actual: str) -> bool:
    return any(fnmatch.fnmatchcase(actual, pattern) for pattern in _values(expected))


def _equals(expected: Any, actual: str) -> bool:
    return actual in _values(expected)


def _bool(expected: Any, actual: str) -> bool:
    return actual.lower() in [v.lower() for v in _values(expected)]


def _instant(value: str) -> datetime | None:
    """A date condition's value as IAM reads it: ISO 8601 (UTC when no zone is given) or epoch seconds."""
    text = value.strip()
    if re.fullmatch(r"[0-9]+", text):
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _dates(
    compare: Callable[[datetime, datetime], bool], negated: bool = False
) -> Callable[[Any, str], bool]:
    """A date operator: the request's time against each value (any may match; a negated operator holds when
    none does). A value that is not a time fails the test either way; ``conditions_hold`` reports it as not
    judged, so it never grants and a Deny with it still applies."""

    def test(expected: Any, actual: str) -> bool:
        now = _instant(actual)
        values = [_instant(v) for v in _values(expected)]
        if now is None or any(v is None for v in values):
            return False
        matched = any(compare(now, v) for v in values if v is not None)
        return not matched if negated else matched

    return test


def current_time_context(now: datetime | None = None) -> dict[str, str]:
    """``aws:CurrentTime`` and ``aws:EpochTime`` of a request, as AWS puts them in every request context."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "aws:CurrentTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(moment.timestamp())),
    }


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
    "DateEquals": _dates(lambda now, v: now == v),
    "DateNotEquals": _dates(lambda now, v: now == v, negated=True),
    "DateLessThan": _dates(lambda now, v: now < v),
    "DateLessThanEquals": _dates(lambda now, v: now <= v),
    "DateGreaterThan": _dates(lambda now, v: now > v),
    "DateGreaterThanEquals": _dates(lambda now, v: now >= v),
}


def principal_arn(access_key_id: str | None, account_id: str = "123456789012", *, users: bool = False) -> str:
    """What S3 would see as aws:PrincipalArn for these credentials (``users``: an IAM user's keys are the
    user, as in AWS; without it every credential but an assumed role's is the account root)."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    if access_key_id:
        for account_backends in list(sts_backends.values()):  # other request threads add accounts
            for backend in list(account_backends.values()):
                role = backend.get_assumed_role_from_access_key(access_key_id)
                if role is not None:
                    return str(role.role_arn)
        if users:
            for iam_account in list(iam_backends.values()):
                for iam in list(iam_account.values()):
                    for user in list(iam.users.values()):
                        if any(key.access_key_id == access_key_id for key in user.access_keys):
                            return str(user.arn)
    return f"arn:aws:iam::{account_id}:root"


def install(enforce_iam: bool = False) -> None:
    """Patch moto in this process: condition operators and per-request context for bucket policies (and,
    with ``enforce_iam``, what IAM enforcement needs: ``patch_enforcement``)."""
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult
    from moto.s3 import models as s3_models
    from moto.s3 import responses as s3_responses

    policy_conditions.CONDITION_OPERATIONS.update(OPERATORS)
    from tools.local_aws import managed_policies, request_routing

    managed_policies.install()  # parsed once per process, not once per account

    request_routing.install()  # two per-request lookups whose answers are fixed, not recomputed

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
        match = _ACCESS_KEY.search(request.headers.get("Authorization", "")) or _PRESIGNED_ACCESS_KEY.search(
            full_url
        )
        token = _request_context.set(
            {
                "aws:SecureTransport": "true" if full_url.startswith("https://") else "false",
                "aws:PrincipalArn": principal_arn(match.group(1) if match else None, users=enforce_iam),
                **current_time_context(),
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
    patch_ebs()
    from tools.local_aws import snapshot_keys

    snapshot_keys.install()  # after patch_ebs: it judges the keys of the snapshots that one serves
    patch_kms_digest()
    patch_s3_checksums()
    s3_aws_chunked.install()  # a malformed aws-chunked upload is S3's 400 IncompleteBody
    patch_ssm_agent()
    patch_resolver_firewall()
    autoscaling_detach.install()
    organization_accounts.install()
    if enforce_iam:
        patch_enforcement()
        from tools.local_aws import iam_resources, s3_query_auth

        iam_resources.install()  # identity policies judged on resource ARNs and the request's context
        s3_query_auth.install()  # presigned (query-signed) and anonymous S3 requests


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
            if base.startswith("Date") and any(_instant(v) is None for v in _values(expected)):
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

    context = {"aws:PrincipalArn": caller_arn, "aws:PrincipalAccount": account_id, **current_time_context()}
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


def patch_enforcement() -> None:
    """What moto's IAM enforcement needs to judge the clean room as AWS does (the module docstring)."""
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMRequest, IAMRequestBase
    from moto.iam.exceptions import NotFoundException
    from moto.s3 import responses as s3_responses

    from tools.local_aws.caller_identity import caller_userid

    for resource_type, methods in S3_SUBRESOURCE_ACTIONS.items():
        for method, actions in methods.items():
            s3_responses.ACTION_MAP[resource_type][method].update(actions)

    def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
        try:
            role = organization_accounts.role_by_arn(role_arn)  # in its own account, not the caller's
        except NotFoundException:
            return False
        caller = principal_arn(self._access_key._access_key_id, self.account_id, users=True)
        principals = {caller, str(self._access_key.arn)}
        actions, context = assume_role_request(self._data, caller, self.account_id)
        context["aws:userid"] = caller_userid(self._access_key._access_key_id, self.account_id)
        return all(
            trust_permits(role.assume_role_policy_document, action, principals, self.account_id, context)
            for action in actions
        )

    IAMRequestBase._check_role_trust_relationship = check_role_trust_relationship  # type: ignore[method-assign]

    # moto recomputes the caller's SigV4 signature from the request's body, or, when the body is empty, from
    # its parsed parameters, which for a body-less REST call (EBS CompleteSnapshot) are the request's headers,
    # form-encoded: the payload hash then differs from the one the client signed and a correctly signed call
    # is refused with SignatureDoesNotMatch. AWS signs the body as sent, so a body-less write is signed empty.
    create_aws_request = IAMRequestBase._create_aws_request

    def aws_request_as_sent(self: Any) -> Any:
        # moto's parameters fell back to the headers only when the request had no query and no body.
        if not self._body and self._data and set(self._data) == {key for key, _ in self._headers.items()}:
            saved, self._data = self._data, {}
            try:
                return create_aws_request(self)
            finally:
                self._data = saved
        if self._method in ("GET", "HEAD", "DELETE") and not self._body and self._data:
            # A body-less request with a query (EBS ListSnapshotBlocks?maxResults=...): the query is in the
            # path already, and moto signed it a second time as a form body; AWS signs an empty body.
            saved, self._data = self._data, {}
            try:
                return create_aws_request(self)
            finally:
                self._data = saved
        return create_aws_request(self)

    IAMRequestBase._create_aws_request = aws_request_as_sent  # type: ignore[method-assign]

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


# EBS direct APIs (and the EC2 snapshot calls that feed them), made faithful enough to hash evidence disks.
EBS_BLOCK_SIZE = 524288  # bytes: the only block size of the EBS direct APIs (moto reports 512)
_PAGE_BOUNDS = (100, 10000)  # MaxResults of the list calls; AWS's largest page is also the default here
_PAGE_TOKEN_PREFIX = "blocks-from:"


@functools.cache
def _ebs_error_class() -> type[Exception]:
    from moto.core.exceptions import ServiceException

    # Defined outside moto's packages: moto derives a service model from an error's package, and ``core``
    # has none (a ServiceException raised as is becomes a 500); the EBS model of the request is used instead.
    class EbsDirectError(ServiceException):
        reason: str | None = None

    return EbsDirectError


def ebs_error(code: str, message: str, reason: str | None = None) -> Exception:
    """An EBS direct API error its REST-JSON client can parse: moto serializes it from the service model
    (HTTP status, ``__type``, and the optional ``Reason`` member)."""
    error = _ebs_error_class()(code, message)
    error.reason = reason  # type: ignore[attr-defined]
    return error


def snapshot_usable_by(snapshot: Any, account_id: str) -> bool:
    """Whether an account may use (copy, describe by id, create a volume from) an EC2 snapshot, as AWS
    decides: it owns it, or the owner shared it with the account (createVolumePermission) or with everyone
    (group ``all``)."""
    return bool(
        snapshot.owner_id == account_id
        or account_id in snapshot.create_volume_permission_userids
        or "all" in snapshot.create_volume_permission_groups
    )


def find_snapshot(snapshot_id: str, region: str) -> Any | None:
    """The EC2 snapshot with this id in ``region``, whichever account owns it (snapshot ids are unique)."""
    from moto.ec2.models import ec2_backends

    # dict's own accessors: moto's create a backend for every account or region they are asked about.
    for regions in list(dict.values(ec2_backends)):
        backend = dict.get(regions, region)
        if backend is not None and snapshot_id in backend.snapshots:
            return backend.snapshots[snapshot_id]
    return None


def block_page(
    indexes: list[int], next_token: str | None, max_results: int | None, starting_index: int | None
) -> tuple[list[int], str | None]:
    """One page of sorted block indexes, as the EBS list calls page them: from NextToken if given (then
    StartingBlockIndex is ignored), else from StartingBlockIndex; at most MaxResults; a token for the rest."""
    low, high = _PAGE_BOUNDS
    limit = high if max_results is None else int(max_results)
    if not low <= limit <= high:
        raise ebs_error(
            "ValidationException", f"MaxResults must be between {low} and {high}.", "INVALID_PARAMETER_VALUE"
        )
    if next_token:
        try:
            decoded = base64.urlsafe_b64decode(next_token.encode()).decode()
            first = (
                int(decoded.removeprefix(_PAGE_TOKEN_PREFIX))
                if decoded.startswith(_PAGE_TOKEN_PREFIX)
                else -1
            )
        except ValueError:  # not base64, not text, not a number
            first = -1
        if first < 0:
            raise ebs_error("ValidationException", "The pagination token is not valid.", "INVALID_PAGE_TOKEN")
    else:
        first = int(starting_index or 0)
    remaining = [index for index in indexes if index >= first]
    if len(remaining) <= limit:
        return remaining, None
    token = base64.urlsafe_b64encode(f"{_PAGE_TOKEN_PREFIX}{remaining[limit]}".encode()).decode()
    return remaining[:limit], token


def patch_ebs() -> None:
    """Patch moto's EBS direct APIs, CopySnapshot, DescribeSnapshots and CreateVolume to behave as AWS does
    (the module docstring). Idempotent: ``install`` may run more than once in a process."""
    from moto.core.responses import ActionResult
    from moto.ebs.models import EBSBackend, EBSSnapshot, ebs_backends
    from moto.ebs.responses import EBSResponse
    from moto.ec2.exceptions import InvalidParameterDependency, InvalidSnapshotIdError
    from moto.ec2.models.elastic_block_store import EBSBackend as Ec2Storage
    from moto.ec2.models.elastic_block_store import Snapshot
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore
    from moto.ec2.utils import generic_filter, random_snapshot_id

    if getattr(EBSResponse, "_faithful_ebs", False):
        return
    EBSResponse._faithful_ebs = True  # type: ignore[attr-defined]

    snapshot_init = EBSSnapshot.__init__

    def init_snapshot(self: Any, account_id: str, snapshot: Any) -> None:
        snapshot_init(self, account_id, snapshot)
        self.block_size = EBS_BLOCK_SIZE

    EBSSnapshot.__init__ = init_snapshot  # type: ignore[method-assign]

    def not_found(snapshot_id: str) -> Exception:
        return ebs_error(
            "ResourceNotFoundException", f"The snapshot '{snapshot_id}' does not exist.", "SNAPSHOT_NOT_FOUND"
        )

    def source_blocks(snapshot: Any) -> dict[int, Any]:
        """What a snapshot taken through EC2 holds: what its volume held, which (moto's volumes are never
        written) is the content of the snapshot the volume was created from, or nothing for a blank one."""
        volume = snapshot.volume
        origin = volume.snapshot_id and find_snapshot(volume.snapshot_id, volume.ec2_backend.region_name)
        if not origin:
            return {}
        owner = origin.ec2_backend
        return dict(ebs_record(ebs_backends[owner.account_id][owner.region_name], origin.id).blocks)

    def ebs_record(backend: Any, snapshot_id: str) -> Any:
        """The EBS direct view of one of the backend's snapshots: one made through EC2 (CreateSnapshot...)
        gets one on first use (moto knows only those made by StartSnapshot, and answers 500 for any other)."""
        snapshot = backend.ec2_backend.snapshots.get(snapshot_id)
        if snapshot is None:
            backend.snapshots.pop(snapshot_id, None)  # deleted through EC2
            raise not_found(snapshot_id)
        found = backend.snapshots.get(snapshot_id)
        if found is None:
            found = EBSSnapshot(backend.account_id, snapshot)
            found.status = "completed"
            found.blocks = source_blocks(snapshot)
            backend.snapshots[snapshot_id] = found
        return found

    EBSBackend.snapshot_record = ebs_record  # type: ignore[attr-defined]  # what a volume holds: ssm_agent.py
    start_snapshot = EBSBackend.start_snapshot

    def start(
        self: Any,
        volume_size: int,
        tags: list[dict[str, str]] | None,
        description: str,
        parent_snapshot_id: str | None = None,
    ) -> Any:
        parent = ebs_record(self, parent_snapshot_id) if parent_snapshot_id else None
        if parent is not None and parent.status != "completed":
            raise ebs_error(
                "ValidationException", f"The parent snapshot {parent_snapshot_id} is not completed."
            )
        if parent is not None and volume_size < parent.volume_size:
            raise ebs_error(
                "ValidationException",
                f"The volume size must be at least the parent snapshot's ({parent.volume_size} GiB).",
                "INVALID_VOLUME_SIZE",
            )
        started = start_snapshot(self, volume_size=volume_size, tags=tags, description=description)
        snapshot = self.ec2_backend.snapshots[started.snapshot_id]
        # Pending until CompleteSnapshot, and from no volume (moto makes one only to hang the snapshot on).
        snapshot.status = "pending"
        self.ec2_backend.volumes.pop(snapshot.volume.id, None)
        if parent is not None:
            # A child starts as its parent's copy: unwritten blocks keep the parent's data (and tokens).
            started.blocks = dict(parent.blocks)
            parent_snapshot = self.ec2_backend.snapshots[parent.snapshot_id]
            snapshot.encrypted, snapshot.kms_key_id = parent_snapshot.encrypted, parent_snapshot.kms_key_id
        return started

    EBSBackend.start_snapshot = start  # type: ignore[method-assign]

    def complete(self: Any, snapshot_id: str) -> str:
        ebs_record(self, snapshot_id).status = "completed"
        self.ec2_backend.snapshots[snapshot_id].status = "completed"
        return "completed"

    EBSBackend.complete_snapshot = complete  # type: ignore[method-assign]

    put_snapshot_block = EBSBackend.put_snapshot_block

    def put_block(
        self: Any,
        snapshot_id: str,
        block_index: int,
        block_data: bytes,
        checksum: str | None,
        checksum_algorithm: str | None,
        data_length: int | None,
    ) -> tuple[str | None, str | None]:
        target = ebs_record(self, snapshot_id)
        if target.status != "pending":
            raise ebs_error(
                "ValidationException",
                f"The snapshot {snapshot_id} is not pending: its blocks cannot be written.",
            )
        blocks = target.volume_size * (1 << 30) // target.block_size
        if not 0 <= int(block_index) < blocks:
            raise ebs_error(
                "ValidationException", f"Block index {block_index} is outside the volume ({blocks} blocks)."
            )
        if checksum_algorithm != "SHA256":
            raise ebs_error(
                "ValidationException", "The only checksum algorithm is SHA256.", "INVALID_PARAMETER_VALUE"
            )
        if len(block_data) != target.block_size or int(data_length or 0) != len(block_data):
            raise ebs_error(
                "ValidationException",
                f"A block is {target.block_size} bytes: got {len(block_data)}, DataLength {data_length}.",
            )
        actual = base64.b64encode(hashlib.sha256(block_data).digest()).decode()
        if checksum != actual:
            raise ebs_error(
                "ValidationException", f"The checksum {checksum} does not match the block data ({actual})."
            )
        return put_snapshot_block(
            self, snapshot_id, int(block_index), block_data, checksum, checksum_algorithm, len(block_data)
        )

    EBSBackend.put_snapshot_block = put_block  # type: ignore[method-assign]

    def start_response(self: Any) -> ActionResult:
        started = self.ebs_backend.start_snapshot(
            volume_size=self._get_param("VolumeSize"),
            tags=self._get_param("Tags"),
            description=self._get_param("Description"),
            parent_snapshot_id=self._get_param("ParentSnapshotId"),
        )
        return ActionResult(
            {
                "SnapshotId": started.snapshot_id,
                "OwnerId": started.account_id,
                "Status": started.status,
                "StartTime": started.start_time,
                "VolumeSize": started.volume_size,
                "BlockSize": started.block_size,
                "Tags": started.tags,
                "Description": started.description,
                "ParentSnapshotId": self._get_param("ParentSnapshotId"),
            }
        )

    def list_blocks_response(self: Any) -> ActionResult:
        found = ebs_record(self.ebs_backend, self._get_param("SnapshotId"))
        blocks = dict(found.blocks)  # one atomic copy: a pending snapshot may be written meanwhile
        page, next_token = block_page(
            sorted(blocks),
            self._get_param("NextToken"),
            self._get_param("MaxResults"),
            self._get_param("StartingBlockIndex"),
        )
        return ActionResult(
            {
                "Blocks": [{"BlockIndex": i, "BlockToken": blocks[i].block_token} for i in page],
                "VolumeSize": found.volume_size,
                "BlockSize": found.block_size,
                "NextToken": next_token,
            }
        )

    def get_block_response(self: Any) -> ActionResult:
        snapshot_id = self._get_param("SnapshotId")
        index = self._get_param("BlockIndex")
        block = ebs_record(self.ebs_backend, snapshot_id).blocks.get(int(index))
        if block is None or block.block_token != self._get_param("BlockToken"):
            raise ebs_error(
                "ValidationException",
                f"The block token is not valid for block {index} of {snapshot_id}.",
                "INVALID_BLOCK_TOKEN",
            )
        return ActionResult(
            {
                "DataLength": len(block.block_data),
                "BlockData": block.block_data,
                "Checksum": block.checksum,
                "ChecksumAlgorithm": block.checksum_algorithm,
            }
        )

    def list_changed_response(self: Any) -> ActionResult:
        second = ebs_record(self.ebs_backend, self._get_param("SecondSnapshotId"))
        first_id = self._get_param("FirstSnapshotId")
        before = dict(ebs_record(self.ebs_backend, first_id).blocks) if first_id else {}
        after = dict(second.blocks)

        def token(block: Any) -> str | None:
            return None if block is None else str(block.block_token)

        # A block a child (or copy) did not rewrite is the parent's very block, token included.
        changed = sorted(
            i for i in before.keys() | after.keys() if token(before.get(i)) != token(after.get(i))
        )
        page, next_token = block_page(
            changed,
            self._get_param("NextToken"),
            self._get_param("MaxResults"),
            self._get_param("StartingBlockIndex"),
        )
        return ActionResult(
            {
                "ChangedBlocks": [
                    {
                        "BlockIndex": i,
                        "FirstBlockToken": token(before.get(i)),
                        "SecondBlockToken": token(after.get(i)),
                    }
                    for i in page
                ],
                "VolumeSize": second.volume_size,
                "BlockSize": second.block_size,
                "NextToken": next_token,
            }
        )

    EBSResponse.start_snapshot = start_response  # type: ignore[method-assign]
    EBSResponse.list_snapshot_blocks = list_blocks_response  # type: ignore[method-assign]
    EBSResponse.get_snapshot_block = get_block_response  # type: ignore[method-assign]
    EBSResponse.list_changed_blocks = list_changed_response  # type: ignore[method-assign]

    def key_arn(backend: Any, key_id: str) -> str:
        from moto.kms.models import kms_backends

        try:
            return str(kms_backends[backend.account_id][backend.region_name].describe_key(key_id).arn)
        except Exception:
            # AWS accepts any key reference at CopySnapshot and fails the copy later; keep what was given.
            return key_id

    def copy_snapshot(
        self: Any,
        source_snapshot_id: str,
        source_region: str,
        description: str,
        kms_key_id: str | None,
        encrypted: bool = False,
    ) -> Any:
        source = find_snapshot(source_snapshot_id, source_region)
        if source is None or not snapshot_usable_by(source, self.account_id):
            raise InvalidSnapshotIdError()
        encrypted = encrypted or source.encrypted
        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        if encrypted:
            kms_key_id = (
                key_arn(self, kms_key_id)
                if kms_key_id
                else self.default_kms_key_id or self._create_default_encryption_key()
            )
        copy = Snapshot(
            self,
            random_snapshot_id(),
            volume=source.volume,
            description=description,
            encrypted=encrypted,
            kms_key_id=kms_key_id,
        )
        self.snapshots[copy.id] = copy
        owner = source.ec2_backend
        original = ebs_record(ebs_backends[owner.account_id][owner.region_name], source.id)
        duplicate = EBSSnapshot(self.account_id, copy)
        duplicate.status, duplicate.volume_size = "completed", original.volume_size
        duplicate.blocks = dict(original.blocks)
        ebs_backends[self.account_id][self.region_name].snapshots[copy.id] = duplicate
        return copy

    Ec2Storage.copy_snapshot = copy_snapshot  # type: ignore[method-assign]

    def copy_response(self: Any) -> ActionResult:
        source_snapshot_id = self._get_param("SourceSnapshotId")
        source_region = self._get_param("SourceRegion")
        description = self._get_param("Description")
        kms_key_id = self._get_param("KmsKeyId")
        encrypted = self._get_bool_param("Encrypted", False)
        tags = self._parse_tag_specification().get("snapshot", {})
        self.error_on_dryrun()
        copy = self.ec2_backend.copy_snapshot(
            source_snapshot_id, source_region, description, kms_key_id, encrypted=encrypted
        )
        copy.add_tags(tags)
        return ActionResult({"SnapshotId": copy.id, "Tags": copy.tag_set})

    ElasticBlockStore.copy_snapshot = copy_response  # type: ignore[method-assign]

    describe_snapshots = Ec2Storage.describe_snapshots

    def describe(self: Any, snapshot_ids: list[str] | None = None, filters: Any = None) -> list[Any]:
        if not snapshot_ids:
            return describe_snapshots(self, snapshot_ids, filters)
        wanted = set(snapshot_ids)
        matches = [snapshot for snapshot in self.snapshots.values() if snapshot.id in wanted]
        for missing in wanted - {snapshot.id for snapshot in matches}:
            shared = find_snapshot(missing, self.region_name)
            if shared is None or not snapshot_usable_by(shared, self.account_id):
                raise InvalidSnapshotIdError()
            matches.append(shared)
        return list(generic_filter(filters, matches)) if filters else matches

    Ec2Storage.describe_snapshots = describe  # type: ignore[method-assign]

    create_volume = Ec2Storage.create_volume

    def create_volume_from_shared(
        self: Any, size: int | None, zone_name: str, snapshot_id: str | None = None, **options: Any
    ) -> Any:
        if snapshot_id is None or snapshot_id in self.snapshots:
            return create_volume(self, size, zone_name, snapshot_id, **options)  # type: ignore[arg-type]
        shared = find_snapshot(snapshot_id, self.region_name)
        if shared is None or not snapshot_usable_by(shared, self.account_id):
            raise InvalidSnapshotIdError()
        options["encrypted"] = bool(options.get("encrypted")) or shared.encrypted
        volume = create_volume(self, shared.volume_size if size is None else size, zone_name, None, **options)
        volume.snapshot_id = snapshot_id
        return volume

    Ec2Storage.create_volume = create_volume_from_shared  # type: ignore[method-assign,assignment]


# --- KMS: Sign/Verify of a digest ---------------------------------------------------------------------------
_kms_digest: contextvars.ContextVar[bool] = contextvars.ContextVar("kms_digest", default=False)


def patch_kms_digest() -> None:
    """KMS Sign/Verify with MessageType=DIGEST sign the given digest as is (AWS); moto 5.2.5 ignores
    MessageType and hashes the digest again, so its signatures fail any standard verification."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    from moto.kms import responses as kms_responses
    from moto.kms import utils as kms_utils

    if getattr(kms_utils.ECDSAPrivateKey, "_forensics_digest", False):
        return  # installed already in this process
    kms_utils.ECDSAPrivateKey._forensics_digest = True  # type: ignore[attr-defined]
    for name in ("sign", "verify"):
        original = getattr(kms_responses.KmsResponse, name)

        def wrapped(self: Any, _original: Any = original) -> Any:
            token = _kms_digest.set(self._get_param("MessageType") == "DIGEST")
            try:
                return _original(self)
            finally:
                _kms_digest.reset(token)

        setattr(kms_responses.KmsResponse, name, wrapped)

    hash_of: dict[str, hashes.HashAlgorithm] = {
        "ECDSA_SHA_256": hashes.SHA256(),
        "ECDSA_SHA_384": hashes.SHA384(),
        "ECDSA_SHA_512": hashes.SHA512(),
    }
    ecdsa_sign, ecdsa_verify = kms_utils.ECDSAPrivateKey.sign, kms_utils.ECDSAPrivateKey.verify

    def sign(self: Any, message: bytes, signing_algorithm: str) -> bytes:
        if not _kms_digest.get():
            return ecdsa_sign(self, message, signing_algorithm)
        kms_utils.validate_signing_algorithm(signing_algorithm, self.valid_signing_algorithms)
        signature: bytes = self.private_key.sign(
            message, ec.ECDSA(utils.Prehashed(hash_of[signing_algorithm]))
        )
        return signature

    def verify(self: Any, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        if not _kms_digest.get():
            return ecdsa_verify(self, message, signature, signing_algorithm)
        kms_utils.validate_signing_algorithm(signing_algorithm, self.valid_signing_algorithms)
        try:
            self.private_key.public_key().verify(
                signature, message, ec.ECDSA(utils.Prehashed(hash_of[signing_algorithm]))
            )
        except InvalidSignature:
            return False
        return True

    kms_utils.ECDSAPrivateKey.sign = sign  # type: ignore[method-assign]
    kms_utils.ECDSAPrivateKey.verify = verify  # type: ignore[method-assign]


# --- S3: integrity checksums of uploaded data ---------------------------------------------------------------
# The algorithms whose value the launcher can compute exactly; moto "computes" CRC32C and CRC64NVME as CRC32
# when optional libraries are missing, so judging those could refuse correct uploads.
_CHECKSUMS: dict[str, Callable[[bytes], bytes]] = {
    "SHA256": lambda data: hashlib.sha256(data).digest(),
    "SHA1": lambda data: hashlib.sha1(data, usedforsecurity=False).digest(),
    "CRC32": lambda data: binascii.crc32(data).to_bytes(4, "big"),
}
_CHECKSUM_HEADER = re.compile(r"^x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)$", re.IGNORECASE)
# Sub-resources written with PUT whose body is a document, not object data.
_DOCUMENT_SUBRESOURCES = frozenset({"retention", "legal-hold", "acl", "tagging"})


def chunked_trailers(raw: bytes) -> dict[str, str]:
    """The trailing headers of an aws-chunked body (hex size, optional chunk signature, CRLF, data, CRLF, ...,
    a chunk of size 0, then the trailers), names lower-cased; {} when the body is not one."""
    position = 0
    try:
        while True:
            end = raw.index(b"\r\n", position)
            size = int(raw[position:end].split(b";", 1)[0], 16)
            position = end + 2
            if size == 0:
                break
            position += size + 2
    except ValueError:
        return {}
    trailers = {}
    for line in raw[position:].split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon:
            trailers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return trailers


def header_checksums(headers: Any) -> dict[str, str]:
    return {
        match.group(1).upper(): str(value)
        for name, value in headers.items()
        if (match := _CHECKSUM_HEADER.match(name))
    }


def sent_checksums(headers: Any, raw_body: bytes) -> dict[str, str]:
    """The integrity checksums a PUT carries, by algorithm: ``x-amz-checksum-<algorithm>`` headers (signed
    into a presigned URL, or sent by an SDK) and, for aws-chunked uploads, the same names in the trailer."""
    found = header_checksums(headers)
    if headers.get("x-amz-trailer") and str(headers.get("x-amz-content-sha256", "")).startswith("STREAMING-"):
        for name, value in chunked_trailers(raw_body).items():
            if match := _CHECKSUM_HEADER.match(name):
                found[match.group(1).upper()] = value
    return found


def checksum_refusal(algorithm: str, sent: str, data: bytes) -> tuple[str, str] | None:
    """S3's answer to a checksum that does not fit the data, as (code, message); None when it fits (or the
    launcher cannot compute that algorithm)."""
    compute = _CHECKSUMS.get(algorithm)
    if compute is None:
        return None
    expected = compute(data)
    try:
        given = base64.b64decode(sent, validate=True)
    except ValueError:
        given = b""
    if len(given) != len(expected):
        return "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."
    if given != expected:
        return "BadDigest", f"The {algorithm} you specified did not match the calculated checksum."
    return None


def patch_s3_checksums() -> None:
    """S3 computes the checksum a PutObject or UploadPart names (``x-amz-checksum-<algorithm>``, in a header
    or the aws-chunked trailer) and refuses the write with 400 BadDigest when the data differs; moto 5.2.5
    stores the value unverified, and honours (stores, accepts for Object Lock) the header only next to the
    SDK's ``x-amz-sdk-checksum-algorithm``, which a presigned upload does not send."""
    from moto.s3 import responses as s3_responses
    from moto.s3.exceptions import S3ClientError
    from werkzeug.datastructures import Headers

    response = s3_responses.S3Response
    if getattr(response, "_forensics_checksums", False):
        return  # installed already in this process
    response._forensics_checksums = True  # type: ignore[attr-defined]
    key_response_put = response._key_response_put

    def put_with_named_checksum(self: Any, query: dict[str, Any], key_name: str) -> Any:
        is_data = "x-amz-copy-source" not in self.headers and not _DOCUMENT_SUBRESOURCES & set(query)
        named = list(header_checksums(self.headers))
        if is_data and len(named) > 1:
            raise S3ClientError("InvalidRequest", "Expecting a single x-amz-checksum- header")
        if is_data and named and not self.headers.get("x-amz-sdk-checksum-algorithm"):
            headers = Headers(self.headers)  # the request's own headers are read-only
            headers["x-amz-sdk-checksum-algorithm"] = named[0]
            self.headers = headers
        return key_response_put(self, query, key_name)

    response._key_response_put = put_with_named_checksum  # type: ignore[method-assign]

    for name in ("put_object", "upload_part"):
        original = getattr(response, name)

        # Judged here, after moto's authorization and decoding of the body, as S3 judges it.
        def verified(self: Any, _original: Any = original) -> Any:
            data = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
            raw = self.raw_body if isinstance(self.raw_body, bytes) else data
            for algorithm, sent in sent_checksums(self.headers, raw).items():
                refusal = checksum_refusal(algorithm, sent, data)
                if refusal is not None:
                    raise S3ClientError(*refusal)
            return _original(self)

        setattr(response, name, verified)


# --- SSM Run Command: a stand-in for the workstation's agent -----------------------------------------------
def patch_ssm_agent() -> None:
    from tools.local_aws import ssm_agent

    ssm_agent.install()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--enforce-iam",
        action="store_true",
        help="judge trust and S3 sub-resources as AWS does (with INITIAL_NO_AUTH_ACTION_COUNT set)",
    )
    parser.add_argument(
        "--plain-http-port",
        type=int,
        default=None,
        help="also serve plain HTTP on 127.0.0.1 at this port (the Pulumi S3 state backend's way in)",
    )
    parser.add_argument("--ssl-cert", default=None, help="the HTTPS certificate (tools.local_aws.tls)")
    parser.add_argument("--ssl-key", default=None, help="its private key")
    args = parser.parse_args()
    garbage.tune()  # moto's backends allocate heavily per request and per account (tools/garbage.py)
    install(enforce_iam=args.enforce_iam)
    from moto.server import main as moto_main

    from tools.local_aws import keep_alive

    keep_alive.install()  # one connection per client, not per request
    garbage.freeze_survivors()  # moto's modules and the patches, loaded for good

    if args.plain_http_port:
        serve_plain_http(args.plain_http_port)
    tls = ["--ssl-cert", args.ssl_cert, "--ssl-key", args.ssl_key] if args.ssl_cert else ["--ssl"]
    moto_main(["--host", args.host, "--port", str(args.port), *tls])


def serve_plain_http(port: int) -> None:
    """The same emulated AWS (one set of backends per process) over plain HTTP, on loopback only.

    For clients that cannot be given the HTTPS listener's certificate: it is generated in memory
    (werkzeug's ``adhoc``), so there is no CA file to trust. The Pulumi CLI's S3 state backend uses this
    one (``disableSSL=true``) instead of having its certificate checks turned off. Nothing here is
    reachable from another host, and ``aws:SecureTransport`` is false on it, as it would be on AWS."""
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from tools.local_aws.keep_alive import KeepAliveRequestHandler

    server = make_server(
        "127.0.0.1",
        port,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=KeepAliveRequestHandler,
    )
    threading.Thread(target=server.serve_forever, name="plain-http", daemon=True).start()


if __name__ == "__main__":
    main()
