from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from service.operations.models import Operation


class Progress(BaseModel):
    done: int
    planned: int


class OperationError(BaseModel):
    code: str
    message: str | None


class OperationOut(BaseModel):
    id: str
    investigation_id: str
    sequence: int
    action: str
    kind: str
    state: str
    progress: Progress
    error: OperationError | None
    result: dict[str, Any]
    params: dict[str, Any]
    retry_of: str | None
    attempt: int
    pid: int | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested_at: datetime | None

    @classmethod
    def of(cls, op: Operation) -> OperationOut:
        return cls(
            id=op.id,
            investigation_id=op.investigation_id,
            sequence=op.sequence,
            action=op.action,
            kind=op.kind,
            state=op.state,
            progress=Progress(done=op.progress_done, planned=op.progress_planned),
            error=OperationError(code=op.error_code, message=op.error) if op.error_code else None,
            result=op.result or {},
            params=op.params or {},
            retry_of=op.retry_of,
            attempt=op.attempt,
            pid=op.pid,
            requested_by=op.requested_by,
            created_at=op.created_at,
            started_at=op.started_at,
            finished_at=op.finished_at,
            cancel_requested_at=op.cancel_requested_at,
        )
