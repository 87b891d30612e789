"""What the integration code needs, passed explicitly: the app's settings, sessions, clock, the publisher of
domain events, the outbound clients and the outbox dispatcher (``wiring.build`` makes it; app.state holds
it). ``caller`` opens the same kind of unit of work a REST request gets."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from service.auth.roles import Role
from service.auth.service import Principal
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory
from service.errors import ServiceError
from service.integrations.chat import ChatClient
from service.integrations.outbox import Dispatcher
from service.integrations.refusals import RefusalGate
from service.integrations.ticketing_client import TicketingClient
from service.unit_of_work import Caller, Publisher, UnitOfWork


@dataclass
class Integrations:
    settings: Settings
    session_factory: SessionFactory
    clock: Clock
    publisher: Publisher
    dispatcher: Dispatcher
    refusals: RefusalGate = field(default_factory=RefusalGate)

    @property
    def ticketing(self) -> TicketingClient | None:
        return self.dispatcher.ticketing

    @ticketing.setter
    def ticketing(self, client: TicketingClient | None) -> None:
        self.dispatcher.ticketing = client

    @property
    def chat(self) -> ChatClient:
        return self.dispatcher.chat

    @chat.setter
    def chat(self, client: ChatClient) -> None:
        self.dispatcher.chat = client

    def admit(self, source: str, endpoint: str) -> None:
        """Before verifying a request: summaries that are due written, then 429 for a source that has used
        up its refusals."""
        self.refusals.flush(self.settings, self.clock, self.session_factory)
        self.refusals.admit(self.settings, self.clock, source, endpoint)

    def reject(
        self, session: Session, source: str, action: str, target: str, exc: ServiceError, rid: str | None
    ) -> None:
        """An unauthenticated request refused: counted, and audited within the source's allowance."""
        self.refusals.refused(self.settings, self.clock, session, source, action, target, exc, rid)

    def caller(self, session: Session, principal: Principal, request_id: str | None) -> Caller:
        return Caller(UnitOfWork(session, self.clock, self.settings, self.publisher), principal, request_id)

    def ticket_principal(self, *, destroy: bool = False) -> Principal:
        role = self.settings.ticket_destroy_role if destroy else self.settings.ticket_role
        return Principal(self.settings.ticket_principal, Role(role))
