"""What background code needs, passed explicitly (no globals): settings, sessions, the engine seam, time, and
the publisher that turns a unit of work's events into notifications and dispatches."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from service.auth.service import Principal
from service.clock import Clock, utcnow
from service.config import Settings
from service.db.session import SessionFactory
from service.jobs.drain import Drain
from service.orchestration.engine import OperationExecutor, PulumiExecutor
from service.unit_of_work import Caller, Publisher, UnitOfWork, unit_of_work

# Schedules processing of an investigation's queue after ``delay`` seconds (0: now).
Requeue = Callable[[str, float], None]


@dataclass
class JobContext:
    settings: Settings
    session_factory: SessionFactory
    executor: OperationExecutor = field(default_factory=PulumiExecutor)
    clock: Clock = utcnow
    publisher: Publisher = field(default_factory=Publisher)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    # This process's shutdown (``service.jobs.drain``): the consumer sets it, running operations obey it.
    drain: Drain = field(default_factory=Drain)

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        return unit_of_work(self.session_factory, self.clock, self.settings, self.publisher)

    def export_stack(self, stack_name: str) -> dict[str, Any]:
        return self.executor.export_stack(self.settings, stack_name)

    def caller(self, session: Session, principal: Principal, request_id: str | None) -> Caller:
        """A caller acting as ``principal`` (scheduled work acts as its configured principal)."""
        return Caller(UnitOfWork(session, self.clock, self.settings, self.publisher), principal, request_id)
