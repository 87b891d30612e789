"""Slack interactive buttons: Approve / Deny on a waiting request's chat message.

Slack posts a press as ``payload=<JSON>`` (``type: block_actions``) to the interactivity URL, signed exactly
like a slash command: the same v0 verifier, window and replay check (a captured press cannot be pressed
again). The button carries only which request and which decision; who decides is the presser's Slack user
id, mapped like slash commands (``slack_user_roles``, and to a person through ``person_aliases``), and the
decision goes through the same domain functions as the API: the requester pressing Approve on their own
request is refused by the two-person rule, a role without the permission is refused, a decided request is a
conflict. Every refusal is audited. Slack ignores the HTTP answer to a press, so the outcome is posted to the
press's ``response_url`` through the outbox, in the transaction of the decision.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.orm import Session

from service.access import service as access
from service.approvals import service as approvals
from service.audit import service as audit
from service.auth.service import Principal
from service.config import Settings
from service.errors import Forbidden, InvalidInput, ServiceError
from service.integrations import outbox
from service.integrations.integration_context import Integrations
from service.integrations.messages import DECIDABLE, text_message
from service.integrations.slack import (
    accept_signed,
    channel_refusal,
    chat_principal,
    response_url_refusal,
)
from service.unit_of_work import Caller

logger = logging.getLogger(__name__)

# action_id -> (kind of request, approve?); the ids messages.decision_buttons puts on the buttons.
ACTIONS: dict[str, tuple[str, bool]] = {
    f"{kind}.{verb}": (kind, verb == "approve") for kind in DECIDABLE.values() for verb in ("approve", "deny")
}
AUDIT_ACTION = "integration.slack_action"


@dataclass(frozen=True)
class ButtonPress:
    action_id: str
    request_id: str
    user_id: str
    user_name: str
    channel_id: str
    response_url: str | None

    @property
    def kind(self) -> str:
        return ACTIONS[self.action_id][0]

    @property
    def approve(self) -> bool:
        return ACTIONS[self.action_id][1]


@dataclass(frozen=True)
class PressOutcome:
    ok: bool
    text: str


def parse_payload(body: bytes) -> ButtonPress:
    """The one button press in a ``block_actions`` payload; anything else is InvalidInput."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, KeyError, IndexError, ValueError):
        raise InvalidInput("the interaction body is not form data with a JSON payload") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise InvalidInput("only block_actions interactions are handled")
    actions = payload.get("actions")
    user = payload.get("user")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise InvalidInput("a button press carries exactly one action")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        raise InvalidInput("the interaction names no user")
    action = actions[0]
    action_id, value = action.get("action_id"), action.get("value")
    if action_id not in ACTIONS or not isinstance(value, str) or not 0 < len(value) <= 64:
        raise InvalidInput(f"unknown button {str(action_id)[:64]!r}")
    channel = payload.get("channel")
    url = payload.get("response_url")
    if not isinstance(url, str) or not url:
        url = None
    return ButtonPress(
        action_id=str(action_id),
        request_id=value,
        user_id=user["id"],
        user_name=str(user.get("username") or user.get("name") or ""),
        channel_id=str(channel.get("id", "")) if isinstance(channel, dict) else "",
        response_url=url,
    )


def handle(
    ctx: Integrations, headers: Mapping[str, str], body: bytes, request_id: str | None, source: str
) -> PressOutcome:
    """Verify, then decide as the presser. A forged or replayed press raises Unauthorized (401) after
    auditing it; a press that is refused for who pressed or what it asks answers ok=False, audited."""
    settings = ctx.settings
    with ctx.session_factory() as session:
        accept_signed(ctx, session, headers, body, request_id, source, (AUDIT_ACTION, "actions"))
        press = parse_payload(body)
        principal = chat_principal(settings, press.user_id, press.user_name)
        url_refusal = response_url_refusal(settings, press.response_url)
        if url_refusal is not None:  # refused, and told only in the HTTP answer: never posted there
            press = dataclasses.replace(press, response_url=None)
        try:
            refusal = url_refusal or channel_refusal(settings, press.channel_id)
            if refusal is not None:
                raise refusal
            if principal is None:
                raise Forbidden(
                    f"you ({press.user_id}) are not mapped to a forensics role, so you cannot decide requests"
                )
            caller = ctx.caller(session, principal, request_id)
            text = _decide(caller, press)
            _reply(settings, session, ctx.clock(), press, text)
            caller.commit()
            return PressOutcome(True, text)
        except ServiceError as exc:
            return _refuse(ctx, session, press, principal, exc, request_id)


def _decide(caller: Caller, press: ButtonPress) -> str:
    who = caller.principal.name
    if press.kind == "approval":
        if press.approve:
            decision = approvals.approve(caller, press.request_id, reason=f"approved in chat by {who}")
            op = decision.operation
            queued = f"; operation `{op.id}` is queued" if op else ""
            action = decision.approval.action
            return f":white_check_mark: You approved `{press.request_id}` ({action}){queued}."
        approvals.deny(caller, press.request_id, reason=f"denied in chat by {who}")
        return f":no_entry_sign: You denied `{press.request_id}`; nothing was done."
    row, op = access.decide(
        caller, press.request_id, approve=press.approve, reason=f"decided in chat by {who}"
    )
    if press.approve:
        return (
            f":white_check_mark: You approved {row.person}'s {row.role} access until "
            f"{row.expires_at:%Y-%m-%d %H:%M} UTC (operation `{op.id if op else '-'}` updates the trust "
            "policy)."
        )
    return f":no_entry_sign: You denied {row.person}'s {row.role} access."


def _reply(settings: Settings, session: Session, now: datetime, press: ButtonPress, text: str) -> None:
    """Tell the presser what happened (Slack shows nothing for the HTTP answer to a press)."""
    if press.response_url:
        outbox.enqueue(
            session,
            now,
            channel=outbox.CHAT,
            destination=press.response_url,
            stream=outbox.chat_stream(press.response_url),
            event="button_press",
            payload=text_message(text),
            investigation_id=None,
            expires_at=now + timedelta(minutes=settings.slack_response_url_minutes),
        )


def _refuse(
    ctx: Integrations,
    session: Session,
    press: ButtonPress,
    principal: Principal | None,
    exc: ServiceError,
    request_id: str | None,
) -> PressOutcome:
    session.rollback()
    actor = principal.actor if principal else audit.Actor(f"slack:{press.user_id}", "none")
    text = f":no_entry: {exc.message}"
    audit.record(
        session,
        ctx.clock,
        actor=actor,
        action=AUDIT_ACTION,
        target=f"{press.kind}/{press.request_id}",
        outcome=f"refused:{exc.code}",
        request_id=request_id,
        details={
            "button": press.action_id,
            "user": press.user_id,
            "channel": press.channel_id,
            "message": exc.message,
        },
    )
    _reply(ctx.settings, session, ctx.clock(), press, text)
    outbox.sequence(session)  # outside a unit of work: the reply takes its stream position here
    session.commit()
    return PressOutcome(False, text)


def reply_body(outcome: PressOutcome) -> dict[str, Any]:
    return {"ok": outcome.ok, **text_message(outcome.text)}
