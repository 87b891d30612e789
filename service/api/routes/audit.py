"""/v1/audit: read and verify the hash-chained log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from service.api.deps import SessionDep, SettingsDep, require
from service.api.schemas import ERROR_RESPONSES, ISO_TIME, MAX_OFFSET, Page
from service.audit import anchors, service
from service.audit.schemas import AuditEntryOut, VerificationOut
from service.auth.roles import Permission
from service.auth.service import Principal
from service.errors import InvalidInput

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        field = {"field": f"query.{name}", "message": str(exc), "type": "datetime_parsing"}
        raise InvalidInput(f"invalid request: query.{name}: {exc}", details={"fields": [field]}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("", response_model=Page[AuditEntryOut])
def list_audit(
    session: SessionDep,
    _: AuditReader,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        str | None, Query(max_length=40, json_schema_extra=ISO_TIME, description="inclusive")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, json_schema_extra=ISO_TIME, description="exclusive")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[AuditEntryOut]:
    rows, total = service.list_entries(
        session,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        since=_time(since, "since"),
        until=_time(until, "until"),
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[AuditEntryOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


# Unset: the anchor fields stay out of the answer when no anchors were consulted, as before anchors existed.
@router.get("/verify", response_model=VerificationOut, response_model_exclude_unset=True)
def verify_audit(session: SessionDep, settings: SettingsDep, _: AuditReader) -> VerificationOut:
    """Recomputes the chain: ok false and the first bad entry id if any entry was edited or deleted. With an
    anchor bucket configured, also checks the signed anchors: an entry that no longer matches what an anchor
    signed (the chain was rewritten) or a log ending before an anchored entry (entries were removed)."""
    result = anchors.check_with_anchors(settings, session)
    fields: dict[str, Any] = {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_id": result.first_bad_id,
        "reason": result.reason,
    }
    if result.anchors_checked is not None:
        fields.update(
            anchors_checked=result.anchors_checked,
            anchored_through=result.anchored_through,
            anchor_problems=list(result.anchor_problems),
        )
    return VerificationOut(**fields)
