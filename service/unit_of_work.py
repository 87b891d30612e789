"""The unit of work: one transaction, the events it produced, and what happens because of them.

Domain functions take a ``UnitOfWork`` (or a ``Caller``, which is one plus who is asking), change rows, flush,
and ``emit`` what happened. Only the owner of the unit of work commits: ``commit()`` first lets the
publisher's in-transaction handlers write their consequences (outbox rows, alert audit entries) into the same
transaction, commits, and then runs the after-commit handlers (dispatch jobs, start a delivery pass). A
rollback forgets the events with the rows. Who owns it: the request (``api/deps.py``), a webhook or slash
command handler, a job step, a scheduled run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from service.audit.service import Actor
from service.audit.service import record as record_audit
from service.auth.service import Principal
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory
from service.domain_events import DomainEvent

logger = logging.getLogger(__name__)

InTransactionHandler = Callable[[Session, Sequence[DomainEvent]], None]
AfterCommitHandler = Callable[[Sequence[DomainEvent]], None]


class Publisher:
    """Who reacts to domain events. The app wires it once: integrations subscribe the outbox writer, the job
    layer the dispatcher. Handlers run in subscription order."""

    def __init__(self) -> None:
        self.in_transaction: list[InTransactionHandler] = []
        self.after_commit: list[AfterCommitHandler] = []

    def subscribe_in_transaction(self, handler: InTransactionHandler) -> None:
        self.in_transaction.append(handler)

    def subscribe_after_commit(self, handler: AfterCommitHandler) -> None:
        self.after_commit.append(handler)


@dataclass
class UnitOfWork:
    session: Session
    clock: Clock
    settings: Settings
    publisher: Publisher
    events: list[DomainEvent] = field(default_factory=list)

    def emit(self, *events: DomainEvent) -> None:
        self.events.extend(events)

    def commit(self) -> list[DomainEvent]:
        """Commit the rows and what the events imply in one transaction; then the after-commit effects.
        Returns the events published."""
        events, self.events = self.events, []
        for write in self.publisher.in_transaction:
            write(self.session, events)
        self.session.commit()
        for react in self.publisher.after_commit:
            try:
                react(events)
            except Exception:  # the commit stands; periodic sweeps pick up what a reaction missed
                logger.exception("after-commit handler %r failed", react)
        return events

    def rollback(self) -> None:
        self.events.clear()
        self.session.rollback()


@contextmanager
def unit_of_work(
    factory: SessionFactory, clock: Clock, settings: Settings, publisher: Publisher
) -> Iterator[UnitOfWork]:
    """For background code: commit (with publishing) on success, roll back on error."""
    session = factory()
    uow = UnitOfWork(session, clock, settings, publisher)
    try:
        yield uow
        uow.commit()
    except BaseException:
        uow.rollback()
        raise
    finally:
        session.close()


@dataclass
class Caller:
    """One caller, whatever the entry point (REST, ticket webhook, slash command, scheduler): the unit of work
    plus who is asking and under which request id."""

    uow: UnitOfWork
    principal: Principal
    request_id: str | None = None

    @property
    def session(self) -> Session:
        return self.uow.session

    @property
    def clock(self) -> Clock:
        return self.uow.clock

    @property
    def settings(self) -> Settings:
        return self.uow.settings

    @property
    def actor(self) -> Actor:
        return self.principal.actor

    def emit(self, *events: DomainEvent) -> None:
        self.uow.emit(*events)

    def audit(
        self,
        action: str,
        *,
        target: str,
        outcome: str,
        details: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        """Adds an audit entry in this caller's transaction, under its request id; ``actor`` when someone
        other than the caller is answerable (the requester of an approved action)."""
        record_audit(
            self.session,
            self.clock,
            actor=actor or self.actor,
            action=action,
            target=target,
            outcome=outcome,
            request_id=self.request_id,
            details=details,
        )

    def commit(self) -> list[DomainEvent]:
        return self.uow.commit()

    def rollback(self) -> None:
        self.uow.rollback()

    def as_principal(self, principal: Principal) -> Caller:
        """The same unit of work acting as someone else (a ticket's destroy runs as the destroy role)."""
        return Caller(self.uow, principal, self.request_id)
