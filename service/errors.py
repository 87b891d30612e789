"""The service's exceptions: one root, narrow subclasses, each mapped to one HTTP status and error code.

    ServiceError (500 internal_error)
    ├── InvalidInput (422 invalid_input)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    │   ├── StateConflict (409 state_conflict)
    │   └── IdempotencyConflict (409 idempotency_conflict)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── NotReady (503 not_ready)
    └── OperationFailed (502 operation_failed)   raised only inside jobs; never reaches HTTP
        ├── PolicyViolation (policy_violation)
        └── DeployFailed (deploy_failed)

The API turns each into ``{"error": {"code", "message", "details"}}`` (service.api.errors).
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


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class StateConflict(Conflict):
    code = "state_conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"


class NotReady(ServiceError):
    status_code = 503
    code = "not_ready"


class OperationFailed(ServiceError):
    status_code = 502
    code = "operation_failed"


class PolicyViolation(OperationFailed):
    code = "policy_violation"


class DeployFailed(OperationFailed):
    code = "deploy_failed"
