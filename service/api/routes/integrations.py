"""/v1/integrations: ticket webhooks, Slack slash commands and buttons, the outbox (read-only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from service.api.deps import RequestIdDep, SessionDep, require
from service.api.forwarded import client_address
from service.api.schemas import ERROR_RESPONSES, MAX_OFFSET, ErrorResponse, Page
from service.auth.roles import Permission
from service.auth.service import Principal
from service.integrations import slack, slack_actions, ticket_webhooks
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.integrations.schemas import (
    OutboxMessageOut,
    SlackActionReply,
    SlackReply,
    TicketActionOut,
    TicketWebhookResult,
)

router = APIRouter(prefix="/v1/integrations", tags=["integrations"], responses=ERROR_RESPONSES)

# Inbound endpoints answer 429 to a source that has used up its refusals (refusals.py).
_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "too many refused requests from this source (Retry-After)"}
}

AuditReaderDep = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


def get_integrations(request: Request) -> Integrations:
    ctx: Integrations = request.app.state.integrations
    return ctx


IntegrationsDep = Annotated[Integrations, Depends(get_integrations)]

_WEBHOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A Jira issue event (webhookEvent, issue, changelog) or "
                    "{event, ticket, labels, status, title, region}",
                }
            }
        },
    },
    "parameters": [
        {"name": "X-Forensics-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}},
        {
            "name": "X-Forensics-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": 'sha256=hex(hmac_sha256(secret, f"{timestamp}.{raw body}"))',
        },
    ],
}
_SLACK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "command": {"type": "string"},
                        "text": {"type": "string"},
                        "user_id": {"type": "string"},
                        "channel_id": {"type": "string"},
                        "response_url": {"type": "string"},
                    },
                }
            }
        },
    },
    "parameters": [
        {"name": "X-Slack-Request-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "X-Slack-Signature", "in": "header", "required": True, "schema": {"type": "string"}},
    ],
}


@router.post(
    "/tickets/webhook", response_model=TicketWebhookResult, openapi_extra=_WEBHOOK_BODY, responses=_LIMITED
)
async def ticket_webhook(
    request: Request, ctx: IntegrationsDep, request_id: RequestIdDep
) -> TicketWebhookResult:
    """Ticket events (HMAC-signed): forensics label -> open, legal-hold status -> freeze, done -> destroy."""
    source = client_address(request, ctx.settings)
    await run_in_threadpool(ctx.admit, source, ticket_webhooks.WEBHOOK_TARGET)
    body = await request.body()
    outcome = await run_in_threadpool(
        ticket_webhooks.handle, ctx, dict(request.headers), body, request_id, source
    )
    return TicketWebhookResult(
        ticket=outcome.ticket,
        results=[TicketActionOut(**r.__dict__) for r in outcome.results],
    )


@router.post(
    "/slack/commands",
    response_model=SlackReply,
    response_model_exclude_none=True,
    openapi_extra=_SLACK_BODY,
    responses=_LIMITED,
)
async def slack_command(request: Request, ctx: IntegrationsDep, request_id: RequestIdDep) -> SlackReply:
    """`/forensics ...` slash commands (Slack v0 signature); answers at once with an ephemeral message."""
    source = client_address(request, ctx.settings)
    await run_in_threadpool(ctx.admit, source, "integrations/slack/commands")
    body = await request.body()
    reply = await run_in_threadpool(slack.handle, ctx, dict(request.headers), body, request_id, source)
    return SlackReply(**reply)


_SLACK_ACTION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"payload": {"type": "string", "description": "block_actions JSON"}},
                }
            }
        },
    },
    "parameters": _SLACK_BODY["parameters"],
}


@router.post(
    "/slack/actions", response_model=SlackActionReply, openapi_extra=_SLACK_ACTION_BODY, responses=_LIMITED
)
async def slack_action(request: Request, ctx: IntegrationsDep, request_id: RequestIdDep) -> SlackActionReply:
    """Approve / Deny button presses (Slack interactivity, v0 signature): the presser decides as
    themselves."""
    source = client_address(request, ctx.settings)
    await run_in_threadpool(ctx.admit, source, "integrations/slack/actions")
    body = await request.body()
    outcome = await run_in_threadpool(
        slack_actions.handle, ctx, dict(request.headers), body, request_id, source
    )
    return SlackActionReply(**slack_actions.reply_body(outcome))


@router.get("/outbox", response_model=Page[OutboxMessageOut])
def list_outbox(
    session: SessionDep,
    _: AuditReaderDep,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[OutboxMessageOut]:
    """Notifications waiting for (or done with) delivery: for operators watching a ticketing outage."""
    query = select(OutboxMessage)
    if state:
        query = query.where(OutboxMessage.state == state)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)).scalars()
    return Page(
        items=[OutboxMessageOut.model_validate(m) for m in rows], total=int(total), limit=limit, offset=offset
    )
