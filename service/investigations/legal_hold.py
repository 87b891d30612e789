"""Legal hold on the evidence bucket: hold every object version, and write the stack's exported state and a
manifest of resource ids under ``legal-hold/`` (themselves held). Plain boto3; no Pulumi here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service import aws_clients
from service.config import Settings

LEGAL_HOLD_PREFIX = "legal-hold/"


def s3_client(settings: Settings, region: str | None = None, role_arn: str | None = None) -> Any:
    """S3 in the investigation's forensic account (its deploy role assumed, when it has one)."""
    return aws_clients.client(settings, "s3", region, role_arn=role_arn)


@dataclass
class LegalHoldReport:
    versions: int = 0
    keys: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"object_versions": self.versions, "written": self.keys}


def _versions(s3: Any, bucket: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found.extend((v["Key"], v["VersionId"]) for v in page.get("Versions", []))
    return found


def set_legal_hold(s3: Any, bucket: str, on: bool) -> int:
    """Holds (or lifts the hold on) every object version in the bucket; returns how many."""
    versions = _versions(s3, bucket)
    for key, version_id in versions:
        s3.put_object_legal_hold(
            Bucket=bucket, Key=key, VersionId=version_id, LegalHold={"Status": "ON" if on else "OFF"}
        )
    return len(versions)


def resource_manifest(export: dict[str, Any]) -> list[dict[str, Any]]:
    resources = (export.get("deployment") or {}).get("resources") or []
    return [
        {"urn": r.get("urn"), "type": r.get("type"), "id": r.get("id"), "protect": bool(r.get("protect"))}
        for r in resources
        if r.get("type") != "pulumi:pulumi:Stack"
        and not str(r.get("type", "")).startswith("pulumi:providers:")
    ]


def _put_json(s3: Any, bucket: str, key: str, body: dict[str, Any]) -> str:
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


def place_legal_hold(
    s3: Any,
    bucket: str,
    *,
    investigation_id: str,
    ticket: str,
    stack_name: str,
    export: dict[str, Any],
    outputs: dict[str, Any],
    at: datetime,
) -> LegalHoldReport:
    report = LegalHoldReport()
    report.versions = set_legal_hold(s3, bucket, on=True)
    folder = f"{LEGAL_HOLD_PREFIX}{at.strftime('%Y%m%dT%H%M%SZ')}/"
    export_key = folder + "stack-export.json"
    export_sha = _put_json(s3, bucket, export_key, export)
    manifest = {
        "investigationId": investigation_id,
        "ticket": ticket,
        "stack": stack_name,
        "frozenAt": at.isoformat(),
        "outputs": outputs,
        "resources": resource_manifest(export),
        "objectVersionsHeld": report.versions,
        "stackExport": {"key": export_key, "sha256": export_sha},
    }
    manifest_key = folder + "manifest.json"
    _put_json(s3, bucket, manifest_key, manifest)
    report.keys = [export_key, manifest_key]
    return report
