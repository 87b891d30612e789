"""The evidence copies (aws:ebs/snapshotCopy:SnapshotCopy) as the program declares them: encrypted with the
investigation's customer key and tagged. A copy that is not encrypted, has no key, or names an AWS managed
key is refused (ebs-encrypted-with-cmk), as is an untagged one (required-tags), by the whole pack."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import KEY_ARN, TAGS, U_BOOL, U_OBJ, U_STR, Res, clean_room, run_everything, run_resource

COPY = "aws:ebs/snapshotCopy:SnapshotCopy"
SOURCE = "snap-0aaaaaaaaaaaaaaa1"


def evidence_copy(**changes: Any) -> dict[str, Any]:
    """The program's copy of one evidence snapshot; a change of None removes the property."""
    props: dict[str, Any] = {
        "sourceSnapshotId": SOURCE,
        "sourceRegion": "us-east-1",
        "encrypted": True,
        "kmsKeyId": KEY_ARN,
        "description": f"Evidence disk of investigation case-1: copy of {SOURCE}",
        "tags": {**TAGS, "forensics:artifact": "disk", "forensics:source-snapshot": SOURCE},
    }
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def with_copy(props: dict[str, Any]) -> dict[str, list[Any]]:
    return run_everything([*clean_room(), Res(COPY, "evidence-disk-copy", props)])


def test_the_programs_copy_passes_the_whole_pack() -> None:
    assert with_copy(evidence_copy()) == {}


@pytest.mark.parametrize(
    "changes",
    [{"kmsKeyId": U_STR}, {"encrypted": U_BOOL}, {"tags": U_OBJ}],
    ids=["key-unknown", "encrypted-unknown", "tags-unknown"],
)
def test_values_unknown_at_preview_are_not_judged(changes: dict[str, Any]) -> None:
    """On a first preview the investigation key's ARN is not known yet: the copy is judged when it is."""
    assert with_copy(evidence_copy(**changes)) == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"encrypted": None}, "encrypted is not true"),
        ({"encrypted": False}, "encrypted is not true"),
        ({"encrypted": "false"}, "encrypted is not true"),
        ({"kmsKeyId": None}, "kmsKeyId is not set"),
        ({"kmsKeyId": ""}, "kmsKeyId is not set"),
        ({"encrypted": None, "kmsKeyId": None}, "encrypted is not true and kmsKeyId is not set"),
        ({"kmsKeyId": "alias/aws/ebs"}, "AWS managed key"),
        ({"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:alias/aws/ebs"}, "AWS managed key"),
    ],
    ids=[
        "encrypted-absent",
        "encrypted-false",
        "encrypted-false-string",
        "key-absent",
        "key-empty",
        "neither",
        "aws-managed-alias",
        "aws-managed-alias-arn",
    ],
)
def test_a_copy_without_a_customer_key_is_refused(changes: dict[str, Any], expected: str) -> None:
    (found,) = run_resource("ebs-encrypted-with-cmk", COPY, evidence_copy(**changes), "evidence-disk-copy")
    assert f"{COPY} 'evidence-disk-copy'" in found.message and expected in found.message, found.message
    assert "Remediation:" in found.message
    assert set(with_copy(evidence_copy(**changes))) == {"ebs-encrypted-with-cmk"}


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (None, "forensics:investigation-id, forensics:ticket, managed-by"),
        ({"forensics:artifact": "disk"}, "forensics:investigation-id, forensics:ticket, managed-by"),
        ({**TAGS, "forensics:ticket": ""}, "forensics:ticket"),
    ],
    ids=["untagged", "artifact-only", "empty-ticket"],
)
def test_an_untagged_copy_is_refused(tags: dict[str, str] | None, expected: str) -> None:
    (found,) = run_resource("required-tags", COPY, evidence_copy(tags=tags), "evidence-disk-copy")
    assert expected in found.message, found.message
    assert set(with_copy(evidence_copy(tags=tags))) == {"required-tags"}
