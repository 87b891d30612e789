"""Request and response bodies of /v1/investigations/{id}/evidence, .../custody and .../report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SNAPSHOT_ID = r"^snap-[0-9a-f]{8,17}$"
INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"


class AcquireRequest(BaseModel):
    """Evidence from an affected (source) account: one EBS snapshot, or every volume of one instance
    (snapshotted now). The region must be the investigation's: evidence does not cross jurisdictions."""

    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(pattern=r"^[0-9]{12}$", description="the affected account")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="where the source is")
    snapshot_id: str | None = Field(default=None, pattern=SNAPSHOT_ID)
    instance_id: str | None = Field(default=None, pattern=INSTANCE_ID)
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_source(self) -> AcquireRequest:
        if (self.snapshot_id is None) == (self.instance_id is None):
            raise ValueError("give exactly one of snapshot_id and instance_id")
        return self


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
