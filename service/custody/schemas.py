"""Request and response bodies of /v1/investigations/{id}/evidence, .../custody and .../report."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, model_validator

from service.schemas import INSTANCE_ID, SNAPSHOT_ID


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(pattern=r"^[0-9]{12}$", description="the affected account")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="where the source is")
    description: str | None = Field(default=None, max_length=500)


class SnapshotSource(_Source):
    """One EBS snapshot of the affected account."""

    snapshot_id: str = Field(pattern=SNAPSHOT_ID)


class InstanceSource(_Source):
    """Every EBS volume of one instance of the affected account, snapshotted now."""

    instance_id: str = Field(pattern=INSTANCE_ID)


class MemoryCaptureRequest(InstanceSource):
    """The memory of one running instance of the affected account (through SSM Run Command there)."""


class AcquireRequest(RootModel[SnapshotSource | InstanceSource]):
    """Evidence from an affected (source) account: one EBS snapshot, or every volume of one instance. The
    region must be the investigation's: evidence does not cross jurisdictions."""


class ArtifactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    investigation_id: str
    kind: str
    status: str
    source: dict[str, Any]
    description: str | None
    copy_snapshot_id: str | None
    volume_id: str | None
    device: str | None
    sha256_source: str | None
    sha256_copy: str | None
    size_bytes: int | None
    flag_reason: str | None
    operation_id: str | None
    acquired_by: str
    created_at: datetime
    updated_at: datetime


class CustodyEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    artifact_id: str | None
    event: str
    time: datetime
    actor: str
    location: dict[str, Any]
    hashes: dict[str, Any]
    details: dict[str, Any]
    operation_id: str | None
    prev_hash: str
    hash: str
    mirrored_key: str | None


class CustodyOut(BaseModel):
    investigation_id: str
    chain_ok: bool
    chain_problem: str | None
    events: list[CustodyEventOut]


# Files handed in as evidence (service/custody/uploads.py): a presigned upload, and registering what is in
# incoming/evidence-artifacts/.

SHA256_HEX = r"^[0-9a-fA-F]{64}$"
# One PUT carries at most 5 GiB (S3's limit for a single upload).
MAX_UPLOAD_BYTES = 5 * 1024**3
# A file name comes from whoever hands the file in and ends up in object keys, the custody report and people's
# shells: one path segment (no '/' or '\\', no '..'), without control, zero-width or bidirectional-override
# characters. Said as a pattern so the OpenAPI document states exactly what is accepted.
_NAME_CHAR = r"[^/\\.\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
FILENAME = rf"^\.?{_NAME_CHAR}+(?:\.{_NAME_CHAR}+)*\.?$"


class UploadRequest(BaseModel):
    """A file to upload into the evidence bucket: its name (part of the object key) and the SHA-256 the
    uploader computed. S3 refuses an upload whose body does not hash to it."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1,
        max_length=200,
        pattern=FILENAME,
        description="the file's name: no '/', '\\', '..', control, zero-width or bidi-override characters",
    )
    sha256: str = Field(pattern=SHA256_HEX, description="hex SHA-256 of the file, as `sha256sum` prints it")
    size_bytes: int | None = Field(default=None, ge=0, le=MAX_UPLOAD_BYTES)
    description: str | None = Field(default=None, max_length=500)


class UploadInstructions(BaseModel):
    """How to upload: PUT the file's bytes to ``url`` with exactly ``headers``, before ``expires_at``."""

    method: str = "PUT"
    url: str
    headers: dict[str, str]
    expires_at: datetime
    bucket: str
    key: str


class UploadOut(BaseModel):
    artifact: ArtifactOut
    upload: UploadInstructions


class RegisterObjectsRequest(BaseModel):
    """Objects already under incoming/evidence-artifacts/ to hash and record (uploads from
    POST .../evidence/uploads are completed by this too)."""

    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(min_length=1, max_length=100, description="object keys in the evidence bucket")


# Logs of an affected instance for a window (service/custody/log_collection.py).

# CloudTrail's event history reaches back 90 days: a longer window could not be collected whole.
MAX_LOG_WINDOW_DAYS = 90


class LogsRequest(BaseModel):
    """The logs about one instance of an affected account for a window: CloudTrail, VPC Flow Logs, AWS Config
    history, Security Hub and GuardDuty findings. ``until`` defaults to the time of the request, ``since`` to
    24 hours before ``until``."""

    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(pattern=r"^[0-9]{12}$", description="the affected account")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="where the instance is")
    instance_id: str = Field(pattern=INSTANCE_ID)
    since: AwareDatetime | None = Field(default=None, description="window start (inclusive)")
    until: AwareDatetime | None = Field(default=None, description="window end (exclusive)")

    @model_validator(mode="after")
    def _window(self) -> LogsRequest:
        if self.since is not None and self.until is not None:
            if self.since >= self.until:
                raise ValueError("since must be before until")
            if self.until - self.since > timedelta(days=MAX_LOG_WINDOW_DAYS):
                raise ValueError(f"the window may span at most {MAX_LOG_WINDOW_DAYS} days")
        return self
