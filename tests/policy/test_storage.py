"""evidence-bucket-hardened (stack level)."""

from __future__ import annotations

import pytest

from .harness import BUCKET, BUCKET_ARN, KEY_ARN, U_STR, Res, clean_room, doc, replace, run_stack, without

POLICY = "evidence-bucket-hardened"


def test_hardened_bucket_passes() -> None:
    assert run_stack(POLICY, clean_room()) == []


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("evidence-versioning", "BucketVersioning"),
        ("evidence-sse", "BucketServerSideEncryptionConfiguration"),
        ("evidence-pab", "BucketPublicAccessBlock"),
        ("evidence-policy", "BucketPolicy"),
    ],
)
def test_missing_companion_is_a_violation(missing: str, expected: str) -> None:
    (found,) = run_stack(POLICY, without(clean_room(), missing))
    assert expected in found.message and found.urn and found.urn.endswith("::evidence")
    assert "Remediation:" in found.message


def test_object_lock_disabled_is_a_violation() -> None:
    (found,) = run_stack(POLICY, replace(clean_room(), "evidence", objectLockEnabled=None))
    assert "Object Lock" in found.message


@pytest.mark.parametrize(
    ("name", "props", "expected"),
    [
        ("evidence-versioning", {"versioningConfiguration": {"status": "Suspended"}}, "Suspended"),
        (
            "evidence-sse",
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
            "SSE-KMS",
        ),
        (
            "evidence-sse",
            {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
            "kmsMasterKeyId",
        ),
        ("evidence-pab", {"restrictPublicBuckets": False}, "restrictPublicBuckets"),
        (
            "evidence-policy",
            {"policy": doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": BUCKET_ARN})},
            "SecureTransport",
        ),
    ],
)
def test_weak_companion_is_a_violation(name: str, props: dict[str, object], expected: str) -> None:
    found = run_stack(POLICY, replace(clean_room(), name, **props))
    assert found and expected in found[0].message


def test_companion_for_another_bucket_does_not_count() -> None:
    resources = replace(clean_room(), "evidence-versioning", bucket="some-other-bucket")
    (found,) = run_stack(POLICY, resources)
    assert "BucketVersioning" in found.message


def test_second_bare_bucket_is_a_violation() -> None:
    scratch = Res("aws:s3/bucket:Bucket", "scratch", {"bucket": "scratch-bucket"})
    found = run_stack(POLICY, [*clean_room(), scratch])
    assert found and all(v.urn and v.urn.endswith("::scratch") for v in found)
    assert len(found) == 5  # object lock + four companions


def _preview_stack(with_deps: bool) -> list[Res]:
    """Bucket name unknown (bucket_prefix), companions reference `bucket.id` which is unknown in preview."""
    deps = {"bucket": ["evidence"]} if with_deps else None
    return [
        Res("aws:s3/bucket:Bucket", "evidence", {"bucket": U_STR, "objectLockEnabled": True}),
        Res(
            "aws:s3/bucketVersioning:BucketVersioning",
            "v",
            {"bucket": U_STR, "versioningConfiguration": {"status": "Enabled"}},
            deps,
        ),
        Res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "e",
            {
                "bucket": U_STR,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": U_STR,
                        }
                    }
                ],
            },
            deps,
        ),
        Res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "p",
            {
                "bucket": U_STR,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            deps,
        ),
        Res("aws:s3/bucketPolicy:BucketPolicy", "bp", {"bucket": U_STR, "policy": U_STR}, deps),
    ]


@pytest.mark.parametrize("with_deps", [True, False])
def test_preview_with_unknown_names_passes(with_deps: bool) -> None:
    assert run_stack(POLICY, _preview_stack(with_deps)) == []


def test_preview_dependencies_pin_companions_to_their_bucket() -> None:
    other = Res("aws:s3/bucket:Bucket", "other", {"bucket": U_STR, "objectLockEnabled": True})
    found = run_stack(POLICY, [*_preview_stack(True), other])
    assert len(found) == 4 and all(v.urn and v.urn.endswith("::other") for v in found)


def test_known_names_in_outputs_match_by_id() -> None:
    resources = replace(clean_room(), "evidence", bucket=BUCKET, id=BUCKET)
    resources = replace(
        resources,
        "evidence-sse",
        rules=[
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}
        ],
    )
    assert run_stack(POLICY, resources) == []
    assert BUCKET in BUCKET_ARN
