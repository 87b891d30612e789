"""The service's exceptions: one root, narrow subclasses, each mapped to one HTTP status and error code.

    ServiceError (500 internal_error; only ever raised as one of these)
    ├── InvalidInput (422 invalid_input)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── RateLimited (429 too_many_requests)
    ├── Conflict (409 conflict)
    │   ├── StateConflict (409 state_conflict)
    │   └── IdempotencyConflict (409 idempotency_conflict)
    ├── StepFailed (502, the code it is given: a work step refuses to go on)
    ├── Misconfigured (503 misconfigured: the settings or the environment forbid going on)
    └── UpstreamFailed (502 upstream_failed: something outside the service answered wrongly or not at all)
        ├── DeliveryError (502 delivery_failed: a ticket or chat notification was not delivered)
        ├── AnchorStoreError (502 anchor_store_invalid: the anchor bucket holds something unreadable)
        ├── DiskImageError (502 disk_image_unreadable: EBS answered inconsistently about a snapshot)
        └── MountFailed (502 mount_failed: the workstation could not mount an evidence volume)

These are exactly what domain code raises (tests/unit/test_error_tree.py reads every ``raise`` in service/
and names the few modules that raise something else, and why). Foreign errors (botocore, the Pulumi
Automation API, httpx) are turned into these once, where the service calls them. The API turns each into
``{"error": {"code", "message", "details"}}`` (service.api.error_handlers); the body-size limit (413) and
readiness (503) answer in the middleware and the health route themselves. Engine failures are not exceptions:
they are results with an ``EngineErrorCode`` (service.orchestration.engine_errors), recorded on the operation.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code: int = 500
    # A class's code, or one given per instance (StepFailed carries the code its step chose).
    code: str = "internal_error"

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


class StepFailed(ServiceError):
    """A work step refuses to go on; the operation fails with this code and message."""

    status_code = 502

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Misconfigured(ServiceError):
    """The settings or the environment forbid going on (a process refusing to start says why)."""

    status_code = 503
    code = "misconfigured"


class UpstreamFailed(ServiceError):
    status_code = 502
    code = "upstream_failed"


class DeliveryError(UpstreamFailed):
    """A notification could not be delivered; ``permanent`` means retrying the same request is pointless."""

    code = "delivery_failed"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class AnchorStoreError(UpstreamFailed):
    """The anchor bucket holds something that is not a JSON document."""

    code = "anchor_store_invalid"


class DiskImageError(UpstreamFailed):
    """The snapshot could not be read as a disk image (the API answered something inconsistent)."""

    code = "disk_image_unreadable"


class MountFailed(UpstreamFailed):
    """The workstation could not mount an evidence volume (``device``)."""

    code = "mount_failed"

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device
