"""Ticket webhooks: verify, normalise (Jira-shaped or generic JSON), act.

* labelled for forensics (created, or updated with the label) -> open an investigation (once per ticket);
* moved to a legal-hold status -> freeze the ticket's open investigation;
* moved to a done status -> destroy it, unless it is frozen: then the destroy is refused, audited, and the
  refusal is commented on the ticket.

The ticket is the idempotency key (``TicketAction`` rows): a redelivered event finds what it already did
and does nothing. Each action and its ``TicketAction`` row are one unit of work: both are committed, or
neither. The signature's nonce is committed first, on its own: a signature is used up whatever follows.
Requests that are unsigned, badly signed, stale or replayed are refused (401), change nothing, and are
counted and audited within the source's allowance (refusals.py).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from programs.forensic_env.config import TICKET_PATTERN
from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.domain_events import RequestRefused
from service.errors import InvalidInput, ServiceError, StateConflict, Unauthorized
from service.integrations import webhook_hmac
from service.integrations.integration_context import Integrations
from service.integrations.models import TicketAction
from service.investigations import service as investigations
from service.investigations.actions import spec_of
from service.investigations.models import Investigation
from service.investigations.schemas import InvestigationCreate
from service.operations.states import Action
from service.unit_of_work import Caller

logger = logging.getLogger(__name__)

_TICKET_RE = re.compile(TICKET_PATTERN)
WEBHOOK_TARGET = "integrations/tickets/webhook"


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
    if not isinstance(value, str) or not _TICKET_RE.match(value):
        raise InvalidInput("the ticket key is missing or not a valid ticket id", details={"ticket": value})
    return value


# Handling


def handle(
    ctx: Integrations, headers: Mapping[str, str], body: bytes, request_id: str | None, source: str
) -> WebhookOutcome:
    settings = ctx.settings
    secret = settings.ticket_webhook_secret.get_secret_value() if settings.ticket_webhook_secret else None
    headers = {k.lower(): v for k, v in headers.items()}
    with ctx.session_factory() as session:
        now = ctx.clock()
        try:
            signature = webhook_hmac.verify_ticket_webhook(
                secret, headers, body, now, settings.ticket_webhook_tolerance_seconds
            )
            webhook_hmac.remember(session, "ticket", signature, now)
        except Unauthorized as exc:
            ctx.reject(session, source, "integration.ticket_webhook", WEBHOOK_TARGET, exc, request_id)
            raise
        session.commit()
        try:
            payload = json.loads(body)
        except ValueError:
            raise InvalidInput("the webhook body is not JSON") from None
        event = parse(payload)
        if event is None:
            return WebhookOutcome(
                None, [ActionResult("none", "ignored", message="not an issue create/update")]
            )
        caller = ctx.caller(session, ctx.ticket_principal(), request_id)
        return WebhookOutcome(event.ticket, _act(ctx, caller, event))


def _act(ctx: Integrations, caller: Caller, event: TicketEvent) -> list[ActionResult]:
    settings = ctx.settings
    status = (event.status or "").strip().lower()
    done = status in {s.lower() for s in settings.ticket_done_statuses}
    legal_hold = status in {s.lower() for s in settings.ticket_legal_hold_statuses}
    labelled = settings.ticket_forensics_label.lower() in {label.lower() for label in event.labels}
    results: list[ActionResult] = []
    if labelled and not done:
        results.append(_open(caller, event))
        if results[-1].outcome == "accepted":
            return results  # a brand-new clean room cannot be frozen or destroyed yet
    if legal_hold:
        results.append(_freeze(caller, event))
    elif done:
        results.append(_destroy(ctx, caller, event))
    if not results:
        results.append(ActionResult("none", "ignored", message="no forensics label and no mapped status"))
    return results


def _existing_action(session: Session, ticket: str, action: str, scope: str) -> TicketAction | None:
    return session.execute(
        select(TicketAction).where(
            TicketAction.ticket == ticket, TicketAction.action == action, TicketAction.scope == scope
        )
    ).scalar_one_or_none()


def record_action(
    caller: Caller, ticket: str, action: str, scope: str, investigation_id: str | None, outcome: str
) -> None:
    """The ticket's idempotency row for ``action``, in the caller's unit of work (inserted or updated)."""
    now = caller.clock()
    row = _existing_action(caller.session, ticket, action, scope)
    if row is None:
        row = TicketAction(ticket=ticket, action=action, scope=scope, created_at=now)
        caller.session.add(row)
    row.investigation_id = investigation_id
    row.outcome = outcome
    row.updated_at = now
    caller.session.flush()


def _refused(
    caller: Caller,
    event: TicketEvent,
    action: str,
    inv: Investigation | None,
    exc: ServiceError,
    *,
    remember: bool = False,
) -> ActionResult:
    """Record and comment a refusal (state conflict, forbidden, invalid) in a fresh unit of work;
    ``remember``: keep a ``refused`` row, so a redelivery that would be refused again is a duplicate."""
    caller.rollback()
    caller.audit(
        f"ticket.{action}",
        target=f"investigation/{inv.id}" if inv else f"ticket/{event.ticket}",
        outcome=f"refused:{exc.code}",
        details={"ticket": event.ticket, "status": event.status, "message": exc.message},
    )
    caller.emit(RequestRefused(event.ticket, inv.id if inv else None, action, exc.message))
    if remember and inv is not None:
        record_action(caller, event.ticket, action, inv.id, inv.id, "refused")
    caller.commit()
    return ActionResult(action, "refused", inv.id if inv else None, exc.message)


def _open(caller: Caller, event: TicketEvent) -> ActionResult:
    previous = _existing_action(caller.session, event.ticket, "open", "")
    if previous is not None:
        return ActionResult("open", "duplicate", previous.investigation_id)
    try:
        body = InvestigationCreate(
            ticket=event.ticket,
            title=(event.title or f"Ticket {event.ticket}")[:200],
            region=event.region,
            tags={"ticket-source": event.source},
        )
    except ValidationError as exc:
        error = InvalidInput(f"cannot open from this ticket: {exc.errors()[0].get('msg', 'invalid')}")
        return _refused(caller, event, "open", None, error)
    try:
        inv, _op, created = investigations.open_investigation(caller, body, idempotency_key=None)
        outcome = "accepted" if created else "existing"
        record_action(caller, event.ticket, "open", "", inv.id, outcome)
        caller.commit()
    except IntegrityError:  # the same event, handled concurrently, recorded the action first
        caller.rollback()
        return ActionResult("open", "duplicate")
    except ServiceError as exc:
        return _refused(caller, event, "open", None, exc)
    return ActionResult("open", outcome, inv.id)


def _freeze(caller: Caller, event: TicketEvent) -> ActionResult:
    inv = investigations.open_for_ticket(caller.session, event.ticket)
    if inv is None:
        return ActionResult("freeze", "ignored", message="the ticket has no open investigation")
    if _existing_action(caller.session, event.ticket, "freeze", inv.id) is not None:
        return ActionResult("freeze", "duplicate", inv.id)
    reason = f"ticket {event.ticket} moved to {event.status}"
    try:
        investigations.request_action(caller, inv.id, Action.FREEZE, {"reason": reason})
        record_action(caller, event.ticket, "freeze", inv.id, inv.id, "accepted")
        caller.commit()
    except IntegrityError:
        caller.rollback()
        return ActionResult("freeze", "duplicate", inv.id)
    except ServiceError as exc:
        return _refused(caller, event, "freeze", inv, exc)
    return ActionResult("freeze", "accepted", inv.id)


def _destroy(ctx: Integrations, caller: Caller, event: TicketEvent) -> ActionResult:
    inv = investigations.open_for_ticket(caller.session, event.ticket)
    if inv is None:
        return ActionResult("destroy", "ignored", message="the ticket has no open investigation")
    previous = _existing_action(caller.session, event.ticket, "destroy", inv.id)
    # The action table decides; the ticket path only remembers what it was told.
    refusal = spec_of(Action.DESTROY).refusal(inv)
    if previous is not None and (
        previous.outcome == "accepted" or (previous.outcome == "refused" and refusal is not None)
    ):
        return ActionResult("destroy", "duplicate", inv.id)
    destroyer = caller.as_principal(ctx.ticket_principal(destroy=True))
    reason = f"ticket {event.ticket} moved to {event.status}"
    try:
        investigations.request_action(
            destroyer, inv.id, Action.DESTROY, {"reason": reason, "retain_evidence_bucket": True}
        )
        record_action(destroyer, event.ticket, "destroy", inv.id, inv.id, "accepted")
        destroyer.commit()
    except IntegrityError:
        destroyer.rollback()
        return ActionResult("destroy", "duplicate", inv.id)
    except StateConflict as exc:
        return _refused(destroyer, event, "destroy", inv, exc, remember=True)
    except ServiceError as exc:
        return _refused(destroyer, event, "destroy", inv, exc)
    return ActionResult("destroy", "accepted", inv.id)
