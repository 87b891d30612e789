"""The evidence bucket: Object Lock, versioning, SSE-KMS with a key, public access blocked, TLS only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import (
    UNKNOWN,
    ReportFn,
    Rule,
    as_bool,
    as_list,
    get,
    identifiers,
    is_aws_managed_key,
    is_set,
    is_unknown,
    label,
    parse_policy_document,
    props_of,
    resolve_targets,
    resources_of,
    statements,
    target_key,
    urn_of,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONING_TYPES = (
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2",
)
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _object_lock_problem(props: dict[str, Any]) -> str | None:
    enabled = props.get("objectLockEnabled")
    if is_unknown(enabled) or as_bool(enabled) is True:
        return None
    legacy = get(props, "objectLockConfiguration", "objectLockEnabled")
    if is_unknown(legacy) or legacy == "Enabled":
        return None
    return "Object Lock is not enabled (objectLockEnabled must be true at creation)"


def _versioning_problem(props: dict[str, Any]) -> str | None:
    status = get(props, "versioningConfiguration", "status")
    if is_unknown(status) or status == "Enabled":
        return None
    return f"versioning status is {status!r}, not 'Enabled'"


def _sse_problem(props: dict[str, Any]) -> str | None:
    rules = props.get("rules")
    if is_unknown(rules):
        return None
    aws_managed = None
    for rule in as_list(rules):
        default = get(rule, "applyServerSideEncryptionByDefault")
        if is_unknown(default):
            return None
        algorithm = get(default, "sseAlgorithm")
        key = get(default, "kmsMasterKeyId")
        if (is_unknown(algorithm) or algorithm in ("aws:kms", "aws:kms:dsse")) and is_set(key):
            if not is_aws_managed_key(key):
                return None
            aws_managed = key
    if aws_managed is not None:
        return f"default encryption uses the AWS managed key {aws_managed!r}, not a customer managed key"
    return "default encryption is not SSE-KMS (sseAlgorithm aws:kms) with a kmsMasterKeyId"


def _public_access_problem(props: dict[str, Any]) -> str | None:
    off = [
        flag
        for flag in PUBLIC_ACCESS_FLAGS
        if not is_unknown(props.get(flag)) and not as_bool(props.get(flag))
    ]
    return f"public access block flags not true: {', '.join(off)}" if off else None


def _denies_insecure_transport(statement: Any) -> bool:
    if not statement.is_deny or not isinstance(statement.condition, dict):
        return False
    for operator, block in statement.condition.items():
        if not isinstance(operator, str) or operator.lower() not in ("bool", "boolifexists"):
            continue
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            if isinstance(key, str) and key.lower() == "aws:securetransport":
                values = as_list(value)
                if any(v is False or (isinstance(v, str) and v.lower() == "false") for v in values):
                    return True
    return False


def _bucket_policy_problem(props: dict[str, Any]) -> str | None:
    doc = parse_policy_document(props.get("policy"))
    if doc is UNKNOWN:
        return None
    if any(_denies_insecure_transport(s) for s in statements(doc)):
        return None
    return "the bucket policy has no Deny statement with Condition Bool aws:SecureTransport=false"


_REQUIREMENTS: list[tuple[str, tuple[str, ...], Callable[[dict[str, Any]], str | None]]] = [
    ("a BucketVersioning with status Enabled", VERSIONING_TYPES, _versioning_problem),
    (
        "a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms and a kmsMasterKeyId",
        SSE_TYPES,
        _sse_problem,
    ),
    ("a BucketPublicAccessBlock with all four flags true", PUBLIC_ACCESS_BLOCK_TYPES, _public_access_problem),
    (
        "a BucketPolicy denying requests with aws:SecureTransport=false",
        BUCKET_POLICY_TYPES,
        _bucket_policy_problem,
    ),
]


def check_evidence_bucket_hardened(args: Any, report: ReportFn) -> None:
    buckets = resources_of(args, *BUCKET_TYPES)
    if not buckets:
        return
    bucket_ids = {target_key(b): identifiers(props_of(b), "bucket", "id") for b in buckets}
    for bucket in buckets:
        problem = _object_lock_problem(props_of(bucket))
        if problem:
            report(f"{label(bucket)}: {problem}", urn_of(bucket))

    for requirement, types, problem_of in _REQUIREMENTS:
        satisfied: set[str] = set()
        problems: dict[str, list[str]] = {}
        for sub in resources_of(args, *types):
            matched, unresolved = resolve_targets(sub, "bucket", buckets, bucket_ids)
            problem = problem_of(props_of(sub))
            if unresolved and not matched:
                matched = buckets if problem is None else []
            for bucket in matched:
                if problem is None:
                    satisfied.add(target_key(bucket))
                else:
                    problems.setdefault(target_key(bucket), []).append(f"{label(sub)}: {problem}")
        for bucket in buckets:
            key = target_key(bucket)
            for text in problems.get(key, []):
                report(f"{label(bucket)}: {text}", urn_of(bucket))
            if key not in satisfied and key not in problems:
                report(f"{label(bucket)} has no {requirement}", urn_of(bucket))


RULES = [
    Rule(
        name="evidence-bucket-hardened",
        description="Every S3 bucket (the evidence store) has Object Lock, versioning, SSE-KMS with a "
        "customer managed key (not alias/aws/s3), a full public access block and a TLS-only bucket policy.",
        remediation=(
            "create the bucket with object_lock_enabled=True and declare for it a BucketVersioning "
            "(status Enabled), a BucketServerSideEncryptionConfiguration (sse_algorithm aws:kms, "
            "kms_master_key_id=<key ARN>), a BucketPublicAccessBlock with all four flags true and a "
            "BucketPolicy with a Deny on aws:SecureTransport=false, each with bucket=<bucket>.bucket or .id"
        ),
        check=check_evidence_bucket_hardened,
        kind="stack",
        resource_types=BUCKET_TYPES,
    ),
]
