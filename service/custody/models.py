"""Evidence artifacts, their custody events (a hash chain per investigation) and the signed statements."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EnumText, UtcDateTime


class ArtifactStatus(StrEnum):
    # Being acquired: shared, hashed, copied; not yet attached.
    ACQUIRING = "acquiring"
    # The copy's hash equals the source's: attached to the workstation (read-only).
    VERIFIED = "verified"
    # The copy differs from the source: never attached; a human decides.
    MISMATCH = "mismatch"
    FAILED = "failed"
    # Kept beyond the clean room (evidence bucket retained / copies retained on destroy).
    RETAINED = "retained"
    DESTROYED = "destroyed"


class CustodyEventType(StrEnum):
    ACQUIRED = "acquired"
    SHARED = "shared"
    HASHED = "hashed"
    COPIED = "copied"
    FLAGGED = "flagged"
    ATTACHED = "attached"
    # Mounted read-only on the workstation, as the mount script reported it.
    MOUNTED = "mounted"
    DETACHED = "detached"
    UPLOADED = "uploaded"
    # A log source the affected account has not enabled (or that could not be read): no artifact, said so.
    NOT_COLLECTED = "not_collected"
    FROZEN = "frozen"
    RELEASED = "released"
    RETAINED = "retained"
    DESTROYED = "destroyed"
    # A step of an instance's containment in its source account, and of its release (restored as recorded).
    CONTAINED = "contained"
    RESTORED = "restored"


class EvidenceArtifact(Base):
    __tablename__ = "evidence_artifacts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # snapshot | object | log
    status: Mapped[ArtifactStatus] = mapped_column(EnumText(ArtifactStatus, 16), index=True)
    # Where it came from: account_id, region, snapshot_id, instance_id, volume_id (snapshots); bucket, key,
    # version_id (objects).
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    copy_snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    volume_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sha256_source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sha256_copy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    flag_reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    operation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    acquired_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CustodyEvent(Base):
    """One step of custody. ``hash`` = sha256(prev_hash + canonical JSON of the event), chained per
    investigation from a genesis derived from its id; the unique (investigation, seq) stops a fork."""

    __tablename__ = "custody_events"
    __table_args__ = (
        UniqueConstraint("investigation_id", "seq", name="uq_custody_events_investigation_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    investigation_id: Mapped[str] = mapped_column(ForeignKey("investigations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    artifact_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    event: Mapped[CustodyEventType] = mapped_column(EnumText(CustodyEventType, 16))
    time: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    # account, region and the resource ids involved
    location: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    operation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The object key of its copy in the evidence bucket (under legal hold); None until mirrored.
    mirrored_key: Mapped[str | None] = mapped_column(String(512), nullable=True)


class SignedStatement(Base):
    """A signed freeze manifest, teardown certificate or audit anchor, and where its copy is kept."""

    __tablename__ = "signed_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    investigation_id: Mapped[str | None] = mapped_column(String(41), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(1024), nullable=True)  # s3://bucket/key
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
