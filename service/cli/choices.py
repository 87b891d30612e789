"""The values some options take, spelled here so the CLI needs none of the service's models (a test checks
they are the API's)."""

from __future__ import annotations

from enum import StrEnum


class AccessRole(StrEnum):
    """A clean room's roles a person may ask for (service.access.schemas.AccessRole)."""

    INVESTIGATOR = "investigator"
    ANALYST = "analyst"
    CUSTODIAN = "custodian"
    RESPONDER = "responder"


class ApprovalStatus(StrEnum):
    """service.investigations.approval_models.ApprovalStatus."""

    PENDING = "pending_approval"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    BREAK_GLASS = "break_glass"
