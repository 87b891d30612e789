"""Imports every model so ``Base.metadata`` is complete (Alembic autogenerate and the schema test use it)."""

from service.access.models import AccessRequest, RoleUseAlert
from service.audit.models import AuditEntry, AuditHead
from service.auth.models import ApiToken
from service.console.models import ConsoleSession
from service.custody.models import CustodyEvent, EvidenceArtifact, SignedStatement
from service.db.base import Base
from service.expiry.models import TtlWarning
from service.integrations.models import (
    ChatSubscription,
    OutboxMessage,
    OutboxStream,
    TicketAction,
    WebhookNonce,
)
from service.investigations.approval_models import ApprovalRequest
from service.investigations.models import Investigation
from service.operations.models import Operation, OperationEvent

__all__ = [
    "AccessRequest",
    "ApiToken",
    "ApprovalRequest",
    "AuditEntry",
    "AuditHead",
    "Base",
    "ChatSubscription",
    "ConsoleSession",
    "CustodyEvent",
    "EvidenceArtifact",
    "Investigation",
    "Operation",
    "OperationEvent",
    "OutboxMessage",
    "OutboxStream",
    "RoleUseAlert",
    "SignedStatement",
    "TicketAction",
    "TtlWarning",
    "WebhookNonce",
]
