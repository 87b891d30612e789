"""Ticket webhooks: verify, normalise (Jira-shaped or generic JSON), act.

* labelled for forensics (created, or updated with the label) -> open an investigation (once per ticket);
* moved to a legal-hold status -> freeze the ticket's open investigation;
* moved to a done status -> destroy it, unless it is frozen: then the destroy is refused, audited, and the
  refusal is commented on the ticket.

The ticket is the idempotency key (``TicketAction`` rows): a redelivered event finds what it already did
and does nothing. Requests that are unsigned, badly signed, stale or replayed are refused (401), change
nothing, and are audited.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.errors import InvalidInput, ServiceError, StateConflict, Unauthorized
from service.integrations import outbox, signing
from service.integrations.context import Integrations
from service.integrations.messages import Notice, snapshot
from service.integrations.models import TicketAction
from service.investigations import service as investigations
from service.investigations.models import Investigation
from service.investigations.schemas import InvestigationCreate
from service.investigations.states import Status

logger = logging.getLogger(__name__)

TICKET_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:#/-]{1,63}$")
REJECTED_ACTOR = audit.Actor("unverified", "none")


@dataclass
class TicketEvent:
    source: str  # jira | generic
    ticket: str
    created: bool
    labels: list[str]
    status: str | None
    title: str | None = None
    region: str | None = None


@dataclass
class ActionResult:
    action: str  # open | freeze | destroy | none
    outcome: str  # accepted | duplicate | refused | ignored | existing
    investigation_id: str | None = None
    message: str | None = None


@dataclass
class WebhookOutcome:
    ticket: str | None
    results: list[ActionResult] = field(default_factory=list)


# Parsing


def _labels(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part for part in value.split() if part]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def parse(payload: Any) -> TicketEvent | None:
    """A TicketEvent, None for events that are not about a ticket's life (ignored), or InvalidInput."""
    if not isinstance(payload, dict):
        raise InvalidInput("the webhook body must be a JSON object")
    if "webhookEvent" in payload:
        return _parse_jira(payload)
    if "ticket" in payload or "event" in payload:
        return _parse_generic(payload)
    raise InvalidInput("unrecognised webhook payload: expected a Jira issue event or {event, ticket, ...}")


def _parse_jira(payload: dict[str, Any]) -> TicketEvent | None:
    kind = payload.get("webhookEvent")
    if kind not in ("jira:issue_created", "jira:issue_updated"):
        return None
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise InvalidInput("a Jira issue event needs issue.key")
    fields: dict[str, Any] = issue["fields"] if isinstance(issue.get("fields"), dict) else {}
    status_obj = fields.get("status")
    status = status_obj.get("name") if isinstance(status_obj, dict) else None
    labels = _labels(fields.get("labels"))
    changelog: dict[str, Any] = payload["changelog"] if isinstance(payload.get("changelog"), dict) else {}
    for item in changelog.get("items") or []:
        if not isinstance(item, dict):
            continue
        # The changelog is the transition itself; prefer it over a possibly stale fields snapshot.
        if item.get("field") == "status" and isinstance(item.get("toString"), str):
            status = item["toString"]
        if item.get("field") == "labels" and isinstance(item.get("toString"), str):
            labels = _labels(item["toString"])
    return TicketEvent(
        source="jira",
        ticket=_ticket(issue.get("key")),
        created=kind == "jira:issue_created",
        labels=labels,
        status=status if isinstance(status, str) else None,
        title=fields.get("summary") if isinstance(fields.get("summary"), str) else None,
    )


def _parse_generic(payload: dict[str, Any]) -> TicketEvent:
    event = str(payload.get("event") or "updated").lower()
    status = payload.get("status")
    title = payload.get("title")
    region = payload.get("region")
    return TicketEvent(
        source="generic",
        ticket=_ticket(payload.get("ticket")),
        created=event in ("created", "ticket_created", "ticket.created"),
        labels=_labels(payload.get("labels")),
        status=status if isinstance(status, str) else None,
        title=title if isinstance(title, str) else None,
        region=region if isinstance(region, str) else None,
    )


def _ticket(value: Any) -> str:
    if not isinstance(value, str) or not TICKET_PATTERN.match(value):
        raise InvalidInput("the ticket key is missing or not a valid ticket id", details={"ticket": value})
    return value


# Handling


def handle(
    ctx: Integrations, headers: Mapping[str, str], body: bytes, request_id: str | None
) -> WebhookOutcome:
    settings = ctx.settings
    secret = settings.ticket_webhook_secret.get_secret_value() if settings.ticket_webhook_secret else None
    headers = {k.lower(): v for k, v in headers.items()}
    with ctx.session_factory() as session:
        now = ctx.clock()
        try:
            signature = signing.verify_ticket_webhook(
                secret, headers, body, now, settings.ticket_webhook_tolerance_seconds
            )
            signing.remember(session, "ticket", signature, now)
        except Unauthorized as exc:
            session.rollback()
            reject(
                ctx, session, "integration.ticket_webhook", "integrations/tickets/webhook", exc, request_id
            )
            raise
        try:
            payload = json.loads(body)
        except ValueError:
            session.commit()  # keep the nonce: the same bytes are not accepted twice
            raise InvalidInput("the webhook body is not JSON") from None
        try:
            event = parse(payload)
        except InvalidInput:
            session.commit()
            raise
        if event is None:
            session.commit()
            return WebhookOutcome(
                None, [ActionResult("none", "ignored", message="not an issue create/update")]
            )
        return WebhookOutcome(event.ticket, _act(ctx, session, event, request_id))


def reject(
    ctx: Integrations, session: Session, action: str, target: str, exc: ServiceError, request_id: str | None
) -> None:
    """Audit a refused (unauthenticated) integration request, in its own transaction."""
    try:
        audit.record(
            session,
            ctx.clock,
            actor=REJECTED_ACTOR,
            action=action,
            target=target,
            outcome=f"refused:{exc.code}",
            request_id=request_id,
            details={"reason": exc.message},
        )
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("could not audit a refused integration request")


def _open_for(session: Session, ticket: str) -> Investigation | None:
    return session.execute(
        select(Investigation).where(Investigation.open_ticket == ticket)
    ).scalar_one_or_none()


def _act(
    ctx: Integrations, session: Session, event: TicketEvent, request_id: str | None
) -> list[ActionResult]:
    settings = ctx.settings
    status = (event.status or "").strip().lower()
    done = status in {s.lower() for s in settings.ticket_done_statuses}
    legal_hold = status in {s.lower() for s in settings.ticket_legal_hold_statuses}
    labelled = settings.ticket_forensics_label.lower() in {label.lower() for label in event.labels}
    results: list[ActionResult] = []
    if labelled and not done:
        results.append(_open(ctx, session, event, request_id))
        if results[-1].outcome == "accepted":
            return results  # a brand-new clean room cannot be frozen or destroyed yet
    if legal_hold:
        results.append(_freeze(ctx, session, event, request_id))
    elif done:
        results.append(_destroy(ctx, session, event, request_id))
    if not results:
        results.append(ActionResult("none", "ignored", message="no forensics label and no mapped status"))
    session.commit()  # the nonce, when nothing else committed it
    return results


def _claim(session: Session, ticket: str, action: str, scope: str, now: datetime) -> TicketAction | None:
    """The action's idempotency row, inserted now; None if the ticket already did this."""
    if _existing_action(session, ticket, action, scope) is not None:
        return None
    row = TicketAction(
        ticket=ticket, action=action, scope=scope, outcome="accepted", created_at=now, updated_at=now
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same event is being handled concurrently
        session.rollback()
        return None
    return row


def _existing_action(session: Session, ticket: str, action: str, scope: str) -> TicketAction | None:
    return session.execute(
        select(TicketAction).where(
            TicketAction.ticket == ticket, TicketAction.action == action, TicketAction.scope == scope
        )
    ).scalar_one_or_none()


def _refused(
    ctx: Integrations,
    session: Session,
    event: TicketEvent,
    action: str,
    inv: Investigation | None,
    exc: ServiceError,
    request_id: str | None,
) -> ActionResult:
    """Record and comment a refusal (state conflict, forbidden, invalid) in a fresh transaction."""
    session.rollback()
    audit.record(
        session,
        ctx.clock,
        actor=ctx.ticket_principal(destroy=action == "destroy").actor,
        action=f"ticket.{action}",
        target=f"investigation/{inv.id}" if inv else f"ticket/{event.ticket}",
        outcome=f"refused:{exc.code}",
        request_id=request_id,
        details={"ticket": event.ticket, "status": event.status, "message": exc.message},
    )
    data = snapshot(inv) if inv else {"ticket": event.ticket, "id": "-", "status": "-"}
    outbox.notify(
        session, ctx.clock(), ctx.settings, Notice("refused", data, f"{action} refused: {exc.message}")
    )
    session.commit()
    return ActionResult(action, "refused", inv.id if inv else None, exc.message)


def _open(ctx: Integrations, session: Session, event: TicketEvent, request_id: str | None) -> ActionResult:
    now = ctx.clock()
    row = _claim(session, event.ticket, "open", "", now)
    if row is None:
        previous = _existing_action(session, event.ticket, "open", "")
        return ActionResult("open", "duplicate", previous.investigation_id if previous else None)
    try:
        body = InvestigationCreate(
            ticket=event.ticket,
            title=(event.title or f"Ticket {event.ticket}")[:200],
            region=event.region,
            tags={"ticket-source": event.source},
        )
    except ValidationError as exc:
        error = InvalidInput(f"cannot open from this ticket: {exc.errors()[0].get('msg', 'invalid')}")
        return _refused(ctx, session, event, "open", None, error, request_id)
    try:
        inv, _op, created = investigations.open_investigation(
            session,
            ctx.clock,
            ctx.settings,
            ctx.dispatch,
            principal=ctx.ticket_principal(),
            body=body,
            idempotency_key=None,
            request_id=request_id,
        )
    except ServiceError as exc:
        return _refused(ctx, session, event, "open", None, exc, request_id)
    # open_investigation committed the row with the investigation (or rolled it back on a lost race).
    row = _existing_action(session, event.ticket, "open", "") or TicketAction(
        ticket=event.ticket, action="open", scope="", outcome="accepted", created_at=now, updated_at=now
    )
    row.investigation_id = inv.id
    row.outcome = "accepted" if created else "existing"
    session.add(row)
    session.commit()
    return ActionResult("open", row.outcome, inv.id)


def _freeze(ctx: Integrations, session: Session, event: TicketEvent, request_id: str | None) -> ActionResult:
    inv = _open_for(session, event.ticket)
    if inv is None:
        return ActionResult("freeze", "ignored", message="the ticket has no open investigation")
    if _claim(session, event.ticket, "freeze", inv.id, ctx.clock()) is None:
        return ActionResult("freeze", "duplicate", inv.id)
    try:
        investigations.freeze(
            session,
            ctx.clock,
            ctx.dispatch,
            principal=ctx.ticket_principal(),
            investigation_id=inv.id,
            reason=f"ticket {event.ticket} moved to {event.status}",
            request_id=request_id,
        )
    except ServiceError as exc:
        return _refused(ctx, session, event, "freeze", inv, exc, request_id)
    return ActionResult("freeze", "accepted", inv.id)


def _destroy(ctx: Integrations, session: Session, event: TicketEvent, request_id: str | None) -> ActionResult:
    inv = _open_for(session, event.ticket)
    if inv is None:
        return ActionResult("destroy", "ignored", message="the ticket has no open investigation")
    previous = _existing_action(session, event.ticket, "destroy", inv.id)
    frozen = inv.frozen or Status(inv.status) in (Status.FROZEN, Status.FREEZING)
    if previous is not None and (
        previous.outcome == "accepted" or (previous.outcome == "refused" and frozen)
    ):
        return ActionResult("destroy", "duplicate", inv.id)
    now = ctx.clock()
    if frozen:
        error = StateConflict(
            f"investigation {inv.id} is frozen under legal hold and cannot be destroyed; "
            "a data custodian must release it first"
        )
        result = _refused(ctx, session, event, "destroy", inv, error, request_id)
        _set_action(session, event.ticket, "destroy", inv.id, "refused", now)
        return result
    if previous is not None:  # refused while frozen, released since: try again
        previous.outcome = "accepted"
        previous.updated_at = now
    elif _claim(session, event.ticket, "destroy", inv.id, now) is None:
        return ActionResult("destroy", "duplicate", inv.id)
    try:
        investigations.destroy(
            session,
            ctx.clock,
            ctx.dispatch,
            principal=ctx.ticket_principal(destroy=True),
            investigation_id=inv.id,
            reason=f"ticket {event.ticket} moved to {event.status}",
            retain_evidence_bucket=True,
            request_id=request_id,
        )
    except ServiceError as exc:
        return _refused(ctx, session, event, "destroy", inv, exc, request_id)
    return ActionResult("destroy", "accepted", inv.id)


def _set_action(session: Session, ticket: str, action: str, scope: str, outcome: str, now: datetime) -> None:
    row = _existing_action(session, ticket, action, scope)
    if row is None:
        row = TicketAction(
            ticket=ticket, action=action, scope=scope, created_at=now, outcome=outcome, updated_at=now
        )
        session.add(row)
    row.outcome = outcome
    row.updated_at = now
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
