"""Offline verification of a signed statement: the signature, then every hash it lists, re-computed from AWS.

Needs only the document, the public key and AWS read access (the caller's own credentials): no service, no
database. Everything here returns a ``VerifyReport``; ``forensics verify`` only prints it.

What a statement may list:

- ``objects``: ``{"bucket", "key", "versionId", "sha256"}``: that object version is read and hashed;
- ``snapshots``: ``{"snapshotId", "sha256"}``: the full disk image is hashed through the EBS direct APIs
  (``sha256`` null: it was not hashed when the statement was made, so there is nothing to compare);
- ``resources``: entries with ``"gone": true`` (teardown certificates): nothing is left to re-hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from service import statement_signing
from service.custody.disk_image import hash_snapshot

Status = Literal["ok", "differs", "error", "skipped", "info"]
# Makes a boto3 client for a service name ("s3", "ebs", "kms").
ClientFactory = Callable[[str], Any]
SnapshotHasher = Callable[..., Any]

READ_CHUNK = 1024 * 1024


class StatementFileError(ValueError):
    """The file cannot be read as a JSON document."""


@dataclass(frozen=True)
class Check:
    status: Status
    category: str  # signature | object | snapshot | resource | statement
    subject: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status in ("differs", "error")

    def line(self) -> str:
        return f"{self.status.upper():<7} {self.category:<9} {self.subject}: {self.message}"


@dataclass
class VerifyReport:
    kind: str | None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        signed = any(c.category == "signature" and c.status == "ok" for c in self.checks)
        return signed and not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.failed]

    def summary(self) -> str:
        if self.ok:
            matched = sum(1 for c in self.checks if c.status == "ok" and c.category != "signature")
            skipped = sum(1 for c in self.checks if c.status == "skipped")
            return f"VERIFIED {self.kind}: signature valid, {matched} hash(es) match, {skipped} skipped"
        differs = "; ".join(f"{c.subject}: {c.message}" for c in self.failures)
        return f"NOT VERIFIED {self.kind}: {len(self.failures)} problem(s): {differs}"


def load_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StatementFileError(f"{path}: not a readable JSON document: {exc}") from exc
    if not isinstance(document, dict):
        raise StatementFileError(f"{path}: not a signed statement (the document is not a JSON object)")
    return document


def check_signature(document: dict[str, Any], public_key_pem: str) -> Check:
    problems = statement_signing.verify_signature(document, public_key_pem)
    subject = signing_key_arn(document) or "unknown key"
    if problems:
        return Check("error", "signature", subject, "; ".join(problems))
    digest = document["signature"]["digest"]
    fingerprint = statement_signing.public_key_fingerprint(public_key_pem)
    message = (
        f"{statement_signing.ALGORITHM} signature valid over digest {digest} by key SHA256:{fingerprint}"
    )
    return Check("ok", "signature", subject, message)


def _malformed(category: str, index: int, entry: Any, needs: str) -> Check:
    return Check("error", "statement", f"{category}[{index}]", f"malformed entry (needs {needs}): {entry!r}")


def check_objects(s3: Any, objects: Iterable[Any]) -> list[Check]:
    """Each listed object version, read and hashed (SHA-256, streamed) and compared with its record."""
    # botocore on first use, as in service.aws_clients: the offline signature check runs without it.
    from botocore.exceptions import BotoCoreError, ClientError

    checks = []
    for index, entry in enumerate(objects):
        fields = ("bucket", "key", "versionId", "sha256")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(name), str) for name in fields):
            checks.append(_malformed("objects", index, entry, "bucket, key, versionId, sha256"))
            continue
        subject = f"s3://{entry['bucket']}/{entry['key']} version {entry['versionId']}"
        try:
            response = s3.get_object(Bucket=entry["bucket"], Key=entry["key"], VersionId=entry["versionId"])
            digest = hashlib.sha256()
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(READ_CHUNK):
                    digest.update(chunk)
            finally:
                body.close()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            message = f"cannot be read: {error.get('Code')} {error.get('Message')}".rstrip()
            checks.append(Check("error", "object", subject, message))
            continue
        except BotoCoreError as exc:
            checks.append(Check("error", "object", subject, f"cannot be read: {exc}"))
            continue
        checks.append(_compare("object", subject, entry["sha256"], digest.hexdigest()))
    return checks


def _compare(category: str, subject: str, expected: str, actual: str) -> Check:
    if expected.lower() == actual:
        return Check("ok", category, subject, f"sha256 {actual}")
    message = f"sha256 differs: expected {expected.lower()}, actual {actual}"
    return Check("differs", category, subject, message)


def check_snapshots(
    ebs: Any, snapshots: Iterable[Any], *, workers: int = 8, hasher: SnapshotHasher | None = None
) -> list[Check]:
    """Each listed snapshot's full disk image, hashed through the EBS direct APIs."""
    checks = []
    for index, entry in enumerate(snapshots):
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("snapshotId"), str)
            or not (expected is None or isinstance(expected, str))
        ):
            checks.append(_malformed("snapshots", index, entry, "snapshotId and sha256 or null"))
            continue
        subject = f"snapshot {entry['snapshotId']}"
        if expected is None:
            checks.append(Check("skipped", "snapshot", subject, "not hashed when the statement was signed"))
            continue
        if hasher is None:
            hasher = hash_snapshot
        try:
            actual = str(hasher(ebs, entry["snapshotId"], workers=workers).sha256)
        except Exception as exc:  # any failure to read the image is a failed check, reported with its cause
            checks.append(Check("error", "snapshot", subject, f"cannot be hashed: {exc}"))
            continue
        checks.append(_compare("snapshot", subject, expected, actual))
    return checks


def check_resources(resources: Iterable[Any]) -> list[Check]:
    gone = [r for r in resources if isinstance(r, dict) and r.get("gone") is True]
    if not gone:
        return []
    return [
        Check("info", "resource", f"{len(gone)} resource(s)", "recorded as gone: nothing to re-hash offline")
    ]


def _listed(statement: dict[str, Any], name: str) -> list[Any]:
    value = statement.get(name)
    return value if isinstance(value, list) else []


def verify_document(
    document: dict[str, Any],
    public_key_pem: str,
    *,
    clients: ClientFactory | None = None,
    signature_only: bool = False,
    workers: int = 8,
    hasher: SnapshotHasher | None = None,
) -> VerifyReport:
    """The signature, then what the statement lists, re-hashed. A statement whose signature fails never
    verifies, but what it lists is still re-hashed (unless ``signature_only``) so the report names what was
    changed: an edited hash shows up as the object or snapshot that no longer matches it."""
    kind = document.get("kind") if isinstance(document.get("kind"), str) else None
    report = VerifyReport(kind)
    signature = check_signature(document, public_key_pem)
    report.checks.append(signature)
    statement = document.get("statement")
    if signature_only or not isinstance(statement, dict):
        return report
    for name in ("objects", "snapshots", "resources"):
        if name in statement and not isinstance(statement[name], list):
            report.checks.append(Check("error", "statement", name, "is not a list"))
    objects, snapshots = _listed(statement, "objects"), _listed(statement, "snapshots")
    if objects:
        report.checks.extend(check_objects(_client(clients, "s3"), objects))
    if snapshots:
        hashed = any(isinstance(s, dict) and s.get("sha256") is not None for s in snapshots)
        ebs = _client(clients, "ebs") if hashed else None
        report.checks.extend(check_snapshots(ebs, snapshots, workers=workers, hasher=hasher))
    report.checks.extend(check_resources(_listed(statement, "resources")))
    if signature.failed:
        # Nothing in an unsigned list is vouched for: a match is only a note, a difference still names what
        # was changed.
        report.checks[1:] = [
            replace(c, status="info", message=f"{c.message} (claimed by a statement whose signature fails)")
            if c.status == "ok"
            else c
            for c in report.checks[1:]
        ]
    return report


def _client(clients: ClientFactory | None, service: str) -> Any:
    if clients is None:
        raise ValueError("re-hashing what the statement lists needs AWS clients")
    return clients(service)


def aws_client_factory(
    *, region: str | None = None, endpoint_url: str | None = None, verify_tls: bool = True
) -> ClientFactory:
    """boto3 clients on the default credential chain (the verifier's own identity), one per service, all
    from one session of this factory's own: boto3's process-wide default session keeps the credentials it
    resolved first, so a verifier run later in the same process would act as whoever came first."""
    made: dict[str, Any] = {}
    sessions: list[Any] = []

    def client(service: str) -> Any:
        if service not in made:
            # boto3 on first use, as in service.aws_clients: the offline signature check runs without it.
            import boto3
            from botocore.config import Config

            if not sessions:
                sessions.append(boto3.session.Session())
            # A local endpoint is an address, not a domain: buckets must be in the path.
            config = Config(s3={"addressing_style": "path"}) if service == "s3" and endpoint_url else None
            made[service] = sessions[0].client(
                service, region_name=region, endpoint_url=endpoint_url, verify=verify_tls, config=config
            )
        return made[service]

    return client


def statement_region(document: dict[str, Any]) -> str | None:
    statement = document.get("statement")
    region = statement.get("region") if isinstance(statement, dict) else None
    return region if isinstance(region, str) else None


def signing_key_arn(document: dict[str, Any]) -> str | None:
    signature = document.get("signature")
    key_id = signature.get("keyId") if isinstance(signature, dict) else None
    return key_id if isinstance(key_id, str) else None


def key_region(key_arn: str) -> str | None:
    """The region of a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), None for anything else."""
    parts = key_arn.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "kms" and parts[3] else None


def fetch_public_key(document: dict[str, Any], kms: Any) -> str:
    """The public key of the key the document names, from KMS. Proves nothing alone (anyone can make a key
    whose public key KMS hands out): the caller must check it against pinned keys (``trusted_keys``)."""
    key_arn = signing_key_arn(document)
    if key_arn is None:
        raise ValueError("the document names no signing key (signature.keyId)")
    return statement_signing.fetch_public_key_pem(kms, key_arn)
