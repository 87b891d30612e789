"""The custody records a work step makes: each names the step's investigation, the person who asked and the
operation, so a step says only what happened (the event, the artifact, where, the hashes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.custody import ledger
from service.custody.models import CustodyEvent, CustodyEventType
from service.investigations.actions import StepContext, StepRun
from service.investigations.models import Investigation


@dataclass(frozen=True)
class CustodyStep:
    ctx: StepContext
    inv: Investigation
    run: StepRun

    def record(
        self,
        event: CustodyEventType,
        *,
        session: Session | None = None,
        artifact_id: str | None = None,
        location: dict[str, Any] | None = None,
        hashes: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> CustodyEvent | None:
        """Appends ``event`` to the ledger: in ``session``'s transaction when given (with the change it
        describes), otherwise in a transaction of its own (then nothing is returned: the row is committed).
        ``actor`` when the service itself, not the requester, is answerable (a check it made)."""
        said = (event, artifact_id, location, hashes, details, actor or self.run.requested_by)
        if session is not None:
            return self._append(session, *said)
        with self.ctx.unit_of_work() as uow:
            self._append(uow.session, *said)
        return None

    def _append(
        self,
        session: Session,
        event: CustodyEventType,
        artifact_id: str | None,
        location: dict[str, Any] | None,
        hashes: dict[str, Any] | None,
        details: dict[str, Any] | None,
        actor: str,
    ) -> CustodyEvent:
        return ledger.record(
            session,
            self.ctx.clock,
            investigation_id=self.inv.id,
            event=event,
            actor=actor,
            artifact_id=artifact_id,
            location=location,
            hashes=hashes,
            details=details,
            operation_id=self.run.operation_id,
        )
