"""Schema pieces shared by every router: the error body and pagination (strict models: service.schemas)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# Beyond this, paging is pointless and the number may overflow the database's integer.
MAX_OFFSET = 1_000_000
# Times in query strings are ISO 8601 strings, parsed by the route (pydantic would accept numbers too).
ISO_TIME: dict[str, Any] = {"format": "date-time"}

# Documented on every route so the OpenAPI document shows the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 413, 422)
}
