"""Schema pieces shared by every router: the error body and pagination (strict models: service.schemas)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

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

# Documented on every route so the OpenAPI document shows the error shape: by reference to the schema (which
# document_error_schemas adds to the document) rather than as {"model": ErrorResponse}. For a response model
# FastAPI builds a validator and a serializer per route, in every app, at its first request: six per route
# here, most of the CPU that first request costs (each test starts an app of its own), for nothing a request
# uses (the error handlers write these bodies).
_COMPONENT = "#/components/schemas/{model}"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": HTTPStatus(code).phrase,
        "content": {
            "application/json": {"schema": {"$ref": _COMPONENT.format(model=ErrorResponse.__name__)}}
        },
    }
    for code in (401, 403, 404, 409, 413, 422)
}


def document_error_schemas(openapi: dict[str, Any]) -> None:
    """Adds the schemas ERROR_RESPONSES refers to (the error body's) to an OpenAPI document, unless a route
    that names the model has brought FastAPI's own rendering of them."""
    _, generated = models_json_schema([(ErrorResponse, "serialization")], ref_template=_COMPONENT)
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in generated.get("$defs", {}).items():
        schemas.setdefault(name, schema)
