from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from programs.forensic_env.config import AMI_SSM_PREFIX, MAX_EVIDENCE_SNAPSHOTS, TICKET_PATTERN
from programs.forensic_env.tags import RESERVED_TAG_KEYS
from service.investigation_states import Status
from service.investigations.models import Investigation
from service.operations.models import Operation
from service.operations.schemas import OperationOut
from service.schemas import INSTANCE_ID, SNAPSHOT_ID, StrictModel

# Every pattern here spells its character classes out in ASCII: pydantic checks patterns with Rust's regex,
# the program (programs/forensic_env/config.py) with Python's re, and their \w, \d and \s differ outside
# ASCII. What this schema accepts, the program's validator must accept too (the fuzz test holds us to it).
SnapshotId = Annotated[str, Field(pattern=r"^snap-[0-9a-f]{8,17}$")]
# Tag keys: printable ASCII, none of the program's own keys, no reserved prefix (aws:, forensics:) in any
# case. The schema advertises the pattern; the validator checks it with a message a person can act on.
_RESERVED_TAG_KEY = "|".join(
    [r"[Aa][Ww][Ss]:", r"[Ff][Oo][Rr][Ee][Nn][Ss][Ii][Cc][Ss]:"]
    + [re.escape(key) + "$" for key in RESERVED_TAG_KEYS if not key.startswith("forensics:")]
)
TAG_KEY_PATTERN = rf"^(?!{_RESERVED_TAG_KEY})[A-Za-z0-9_ .:/=+\-@]+$"
_TAG_KEY_RE = re.compile(TAG_KEY_PATTERN)
TagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128),
    Field(json_schema_extra={"pattern": TAG_KEY_PATTERN}),
]
TagValue = Annotated[str, StringConstraints(max_length=256)]


class _SourceAtOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(pattern=r"^[0-9]{12}$", description="the affected account")
    description: str | None = Field(default=None, max_length=500)


class SnapshotAtOpen(_SourceAtOpen):
    """One EBS snapshot of the affected account, in the clean room's region."""

    snapshot_id: str = Field(pattern=SNAPSHOT_ID)


class InstanceAtOpen(_SourceAtOpen):
    """Every EBS volume of one instance of the affected account, in the clean room's region."""

    instance_id: str = Field(pattern=INSTANCE_ID)


# Evidence given when a clean room is opened: an acquisition's source, in the room's own region (the
# acquisition runs once the room is ready, with every check an acquisition has).
EvidenceAtOpen = SnapshotAtOpen | InstanceAtOpen


class GoldenAmi(StrictModel):
    """Exactly one way to pick the workstation image; none means the configured SSM parameter."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"maxProperties": 1})

    ami_id: str | None = Field(default=None, pattern=r"^ami-[0-9a-f]{8,17}$")
    ssm_parameter: str | None = Field(
        default=None, max_length=2048, pattern="^" + re.escape(AMI_SSM_PREFIX) + r"[A-Za-z0-9_./-]+$"
    )
    # Printable ASCII; neither the key nor the value may be blank.
    tag: str | None = Field(
        default=None, pattern=r"^[!-<>-~][ !-<>-~]{0,127}=[!-~][ -~]{0,255}$", description="Key=Value"
    )

    @model_validator(mode="after")
    def _one_source(self) -> GoldenAmi:
        given = [name for name in ("ami_id", "ssm_parameter", "tag") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of ami_id, ssm_parameter, tag (got {', '.join(given)})")
        return self


class InvestigationCreate(StrictModel):
    ticket: str = Field(pattern=TICKET_PATTERN, examples=["SEC-123"])
    title: str = Field(min_length=1, max_length=200)
    region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", examples=["us-east-1"]
    )
    instance_type: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
    golden_ami: GoldenAmi = Field(default_factory=GoldenAmi)
    # Acquired, each through the normal acquisition (owner and region checked, hashed at source and copy,
    # custody ledger and manifest), once the clean room is ready; refused before anything is written when
    # a source is not acceptable. At most one device letter each.
    evidence: list[EvidenceAtOpen] = Field(
        default_factory=list, max_length=MAX_EVIDENCE_SNAPSHOTS, json_schema_extra={"uniqueItems": True}
    )
    # Refused (the validator says why): snapshots mounted by id alone skipped every evidence control.
    evidence_snapshot_ids: list[Any] = Field(
        default_factory=list,
        max_length=0,
        description='Refused: give "evidence": [{"source_account_id", "snapshot_id"}] instead',
    )
    ttl_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, max_length=30, json_schema_extra={"additionalProperties": False}
    )

    @field_validator("tags")
    @classmethod
    def _tag_keys(cls, tags: dict[str, str]) -> dict[str, str]:
        for key in tags:
            if not _TAG_KEY_RE.match(key):
                raise ValueError(
                    f"tag key {key!r}: use letters, digits, space and _ . : / = + - @; the aws: and "
                    f"forensics: prefixes and {', '.join(k for k in RESERVED_TAG_KEYS if ':' not in k)} "
                    "are reserved"
                )
        return tags

    @field_validator("evidence_snapshot_ids", mode="before")
    @classmethod
    def _bare_snapshots_refused(cls, ids: Any) -> Any:
        if ids:
            raise ValueError(
                'snapshots are no longer taken by id alone: give "evidence": [{"source_account_id": '
                '"<affected account>", "snapshot_id": "snap-..."}] (or "instance_id"), acquired with the '
                "owner, region, hash and custody checks of POST /v1/investigations/{id}/evidence"
            )
        return ids

    @field_validator("evidence")
    @classmethod
    def _each_source_once(cls, items: list[EvidenceAtOpen]) -> list[EvidenceAtOpen]:
        keys = [item.model_dump_json() for item in items]
        if len(set(keys)) != len(keys):
            raise ValueError("lists a source more than once")
        return items


class NoParams(StrictModel):
    """The body of an action that takes no parameters (preview, refresh); it may be omitted."""


class FreezeRequest(StrictModel):
    reason: str | None = Field(default=None, max_length=2000)


class ReleaseRequest(StrictModel):
    reason: str = Field(min_length=3, max_length=2000)
    remove_legal_holds: bool = False


class DestroyRequest(StrictModel):
    reason: str | None = Field(default=None, max_length=2000)
    # Deleting the evidence bucket is a retention decision: data custodian (or admin) only.
    retain_evidence_bucket: bool = True


class ExtendRequest(StrictModel):
    hours: int = Field(ge=1, le=24 * 90, description="Added to the later of the current expiry and now")
    reason: str | None = Field(default=None, max_length=2000)


class InvestigationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    ticket: str
    title: str
    status: Status
    attention_reason: str | None
    region: str
    account_id: str | None
    assume_role_arn: str | None
    instance_type: str | None
    golden_ami: dict[str, Any]
    evidence_snapshot_ids: list[str]
    ttl_hours: int
    expires_at: datetime
    tags: dict[str, str]
    stack_name: str
    frozen: bool
    legal_hold: bool
    retain_evidence_bucket: bool
    outputs: dict[str, Any]
    policy_results: dict[str, Any]
    drift: dict[str, Any]
    active_operation_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class InvestigationDetail(InvestigationOut):
    timeline: list[OperationOut]

    @classmethod
    def with_timeline(cls, inv: Investigation, operations: list[Operation]) -> InvestigationDetail:
        base = InvestigationOut.model_validate(inv).model_dump()
        return cls(**base, timeline=[OperationOut.model_validate(op) for op in operations])


class Accepted(BaseModel):
    """202 body: the investigation and the operation that was queued (or the existing one, on replay)."""

    investigation: InvestigationOut
    operation: OperationOut
