from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from service.operations.models import Operation
from service.operations.states import OperationState


class Progress(BaseModel):
    done: int
    planned: int


class OperationError(BaseModel):
    code: str
    message: str | None


class OperationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    investigation_id: str
    sequence: int
    action: str
    kind: str
    state: OperationState
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

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any) -> Any:
        # The row keeps progress and error as flat columns; the API nests them.
        if isinstance(value, Operation):
            return {
                **{name: getattr(value, name) for name in _FLAT_FIELDS},
                "progress": Progress(done=value.progress_done, planned=value.progress_planned),
                "error": OperationError(code=value.error_code, message=value.error)
                if value.error_code
                else None,
                "result": value.result or {},
                "params": value.params or {},
            }
        return value


_FLAT_FIELDS = tuple(
    name for name in OperationOut.model_fields if name not in ("progress", "error", "result", "params")
)
