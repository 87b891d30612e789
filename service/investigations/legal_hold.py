"""Legal hold on the evidence bucket: hold (or release) every object version, write JSON under legal hold, and
the resource list of a stack export. Thin S3 functions; the signed freeze manifest built from them is
``service/custody/sealing.py``'s. Plain boto3; no Pulumi here."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from service import aws_clients
from service.config import Settings

LEGAL_HOLD_PREFIX = "legal-hold/"


def s3_client(settings: Settings, region: str | None = None, role_arn: str | None = None) -> Any:
    """S3 in the investigation's forensic account (its deploy role assumed, when it has one)."""
    return aws_clients.client(settings, "s3", region, role_arn=role_arn)


def versions(s3: Any, bucket: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found.extend((v["Key"], v["VersionId"]) for v in page.get("Versions", []))
    return found


def set_legal_hold(s3: Any, bucket: str, on: bool) -> int:
    """Holds (or lifts the hold on) every object version in the bucket; returns how many."""
    held = versions(s3, bucket)
    for key, version_id in held:
        s3.put_object_legal_hold(
            Bucket=bucket, Key=key, VersionId=version_id, LegalHold={"Status": "ON" if on else "OFF"}
        )
    return len(held)


def resource_manifest(export: dict[str, Any]) -> list[dict[str, Any]]:
    resources = (export.get("deployment") or {}).get("resources") or []
    return [
        {"urn": r.get("urn"), "type": r.get("type"), "id": r.get("id"), "protect": bool(r.get("protect"))}
        for r in resources
        if r.get("type") != "pulumi:pulumi:Stack"
        and not str(r.get("type", "")).startswith("pulumi:providers:")
    ]


def put_json(s3: Any, bucket: str, key: str, body: dict[str, Any]) -> str:
    data = json.dumps(body, indent=2, sort_keys=True, default=str).encode()
    # Object Lock buckets refuse writes without an integrity checksum.
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType="application/json",
        ChecksumAlgorithm="SHA256",
        ObjectLockLegalHoldStatus="ON",
    )
    return hashlib.sha256(data).hexdigest()
