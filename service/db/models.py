"""Imports every model so ``Base.metadata`` is complete (Alembic autogenerate and the schema test use it)."""

from service.audit.models import AuditEntry, AuditHead
from service.auth.models import ApiToken
from service.db.base import Base
from service.investigations.models import Investigation
from service.operations.models import Operation, OperationEvent

__all__ = ["ApiToken", "AuditEntry", "AuditHead", "Base", "Investigation", "Operation", "OperationEvent"]
