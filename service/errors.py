"""The service's exceptions: one root, narrow subclasses, each mapped to one HTTP status and error code.

    ServiceError (500 internal_error)
    ├── InvalidInput (422 invalid_input)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── RateLimited (429 too_many_requests)
    └── Conflict (409 conflict)
        ├── StateConflict (409 state_conflict)
        └── IdempotencyConflict (409 idempotency_conflict)

These are exactly what domain code raises. The API turns each into ``{"error": {"code", "message",
"details"}}`` (service.api.error_handlers); the body-size limit (413) and readiness (503) answer in the
middleware and the health route themselves. Engine failures are not exceptions: they are results with an
``EngineErrorCode`` (service.orchestration.engine_errors), recorded on the operation.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(ServiceError):
    status_code = 422
    code = "invalid_input"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class RateLimited(ServiceError):
    """Too many requests from one source; ``retry_after`` seconds until the next is accepted."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class StateConflict(Conflict):
    code = "state_conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
