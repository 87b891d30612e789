"""Slack-compatible slash commands: ``/forensics open <ticket> [region] | status <id|ticket> | list |
freeze <id> | destroy <id> | extend <id> <hours> | access <id|ticket> <role> <hours> <reason> | approvals |
contain <id|ticket> <instance> | memory <id|ticket> <instance> | logs <id|ticket> <instance> [since] [until] |
help``. ``<instance>`` is ``[<account>/]<instance-id>`` for all three (the source account may be left out when
exactly one is configured).
(Approve / Deny buttons on the messages that announce waiting requests: slack_actions.py.)

Requests are verified with slack_sdk's v0 signature verifier (5-minute window, the service clock) and a
replay check; no signing secret configured means every request is refused. Chat users map to the same roles
as API tokens (``slack_user_roles``), commands can be limited to channels, and a command the role may not run
is refused with an ephemeral message (and audited). The answer is an immediate ephemeral acknowledgement:
commands only write rows and queue the operation; the engine work happens in the job layer, and progress
and the final Block Kit result reach the command's ``response_url`` through the outbox (a ChatSubscription
on the ticket, written in the same transaction as the request).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.access import service as access
from service.access.schemas import AccessRequestCreate
from service.approvals import service as approval_service
from service.audit import service as audit
from service.auth.roles import Permission, Role
from service.auth.service import Principal
from service.config import Settings
from service.custody.schemas import LogsRequest
from service.errors import Forbidden, InvalidInput, NotFound, ServiceError, Unauthorized
from service.integrations import webhook_hmac
from service.integrations.integration_context import Integrations
from service.integrations.messages import Notice, slack_message, snapshot, text_message
from service.integrations.models import ChatSubscription
from service.investigation_states import Status
from service.investigations import service as investigations
from service.investigations.actions import spec_of
from service.investigations.approval_models import ApprovalRequest, ApprovalStatus
from service.investigations.models import Investigation
from service.investigations.schemas import InvestigationCreate
from service.operations.states import Action
from service.unit_of_work import Caller

logger = logging.getLogger(__name__)

USAGE = (
    "*Forensic clean rooms*\n"
    "`/forensics open <ticket> [region]` open a clean room for a ticket\n"
    "`/forensics status <id|ticket>` status and key outputs\n"
    "`/forensics list` open clean rooms\n"
    "`/forensics freeze <id>` preserve under legal hold\n"
    "`/forensics destroy <id>` tear down (evidence bucket kept)\n"
    "`/forensics extend <id> <hours>` push the expiry back\n"
    "`/forensics contain <id|ticket> [<account>/]<instance-id>` isolate an affected instance\n"
    "`/forensics access <id> <role> <hours> <reason>` ask for a clean-room role for some hours\n"
    "`/forensics memory <id|ticket> [<account>/]<instance-id>` capture an affected instance's memory\n"
    "`/forensics logs <id|ticket> [<account>/]<instance-id> [since] [until]` collect the instance's logs "
    "(ISO 8601 times; default the last 24h)\n"
    "(the account may be left out when one source account is configured)\n"
    "`/forensics approvals` requests waiting for a second person\n"
    "`/forensics help` this text"
)

# What each command needs: the actions' permissions come from the action table.
PERMISSIONS: dict[str, Permission | None] = {
    "open": spec_of(Action.OPEN).permission,
    "status": Permission.READ,
    "list": Permission.READ,
    "freeze": spec_of(Action.FREEZE).permission,
    "destroy": spec_of(Action.DESTROY).permission,
    "extend": spec_of(Action.EXTEND).permission,
    "contain": spec_of(Action.CONTAIN).permission,
    "access": Permission.READ,  # anyone signed in may ask for themselves; approving needs approve_access
    "approvals": Permission.READ,
    "memory": spec_of(Action.MEMORY).permission,
    "logs": spec_of(Action.LOGS).permission,
    "help": None,
}
MUTATING = frozenset({"open", "freeze", "destroy", "extend", "access", "contain", "memory", "logs"})


@dataclass(frozen=True)
class SlashCommand:
    command: str
    text: str
    user_id: str
    user_name: str
    channel_id: str
    response_url: str | None

    @property
    def words(self) -> list[str]:
        return self.text.split()

    @property
    def name(self) -> str:
        return self.words[0].lower() if self.words else "help"


def response_url_refusal(settings: Settings, url: str | None) -> Forbidden | None:
    """Why the service will not POST to this response_url (None: it may). Only the configured Slack hook
    hosts, over https (a listed loopback address may be http: a local stand-in without TLS), no userinfo."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        host, parts = "", urlsplit("")
    allowed = {h.strip().lower() for h in settings.slack_response_url_hosts}
    schemes = {"https", "http"} if _is_loopback(host) else {"https"}
    if host in allowed and parts.scheme in schemes and not parts.username and not parts.password:
        return None
    return Forbidden(
        f"the response_url host {host or url[:80]!r} is not an allowed Slack host "
        f"({', '.join(sorted(allowed))}); nothing was done"
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_form(body: bytes) -> SlashCommand:
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        raise InvalidInput("the command body is not UTF-8 form data") from None
    url = form.get("response_url") or None
    return SlashCommand(
        command=form.get("command", "/forensics"),
        text=form.get("text", "").strip(),
        user_id=form.get("user_id", ""),
        user_name=form.get("user_name", ""),
        channel_id=form.get("channel_id", ""),
        response_url=url,
    )


def handle(
    ctx: Integrations, headers: Mapping[str, str], body: bytes, request_id: str | None, source: str
) -> dict[str, Any]:
    with ctx.session_factory() as session:
        accept_signed(
            ctx, session, headers, body, request_id, source, ("integration.slack_command", "commands")
        )
        cmd = parse_form(body)
        return _run(ctx, session, cmd, request_id)


def accept_signed(
    ctx: Integrations,
    session: Session,
    headers: Mapping[str, str],
    body: bytes,
    request_id: str | None,
    source: str,
    audited_as: tuple[str, str],
) -> None:
    """Slack's v0 signature checked and the signature used up (committed, whatever the request then does),
    or Unauthorized raised after counting the refusal against ``source`` (audited as ``(action,
    integrations/slack/<path>)`` within its allowance)."""
    settings = ctx.settings
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        signature = webhook_hmac.verify_slack(secret, lowered, body, ctx.clock)
        webhook_hmac.remember(session, "slack", signature, ctx.clock())
    except Unauthorized as exc:
        action, path = audited_as
        ctx.reject(session, source, action, f"integrations/slack/{path}", exc, request_id)
        raise
    session.commit()


def chat_principal(settings: Settings, user_id: str, user_name: str) -> Principal | None:
    """A chat user as the API sees them (``slack_user_roles``), the same for slash commands and buttons;
    None when unmapped. The person behind it is ``persons.person_of`` (by user id, never the name)."""
    role = settings.slack_user_roles.get(user_id)
    if role is None:
        return None
    return Principal(f"slack:{user_id}" + (f"({user_name})" if user_name else ""), Role(role))


def channel_refusal(settings: Settings, channel_id: str) -> Forbidden | None:
    if settings.slack_allowed_channels and channel_id not in settings.slack_allowed_channels:
        return Forbidden("/forensics is not allowed in this channel; use an incident channel")
    return None


def _refuse(
    ctx: Integrations,
    session: Session,
    cmd: SlashCommand,
    actor: audit.Actor,
    exc: ServiceError,
    rid: str | None,
) -> dict[str, Any]:
    session.rollback()
    if cmd.name in MUTATING or isinstance(exc, Forbidden):
        audit.record(
            session,
            ctx.clock,
            actor=actor,
            action=f"chat.{cmd.name}"[:64],
            target=f"chat/{cmd.channel_id or '-'}",
            outcome=f"refused:{exc.code}",
            request_id=rid,
            details={"text": cmd.text[:200], "user": cmd.user_id, "message": exc.message},
        )
        session.commit()
    return text_message(f":no_entry: {exc.message}")


def _run(ctx: Integrations, session: Session, cmd: SlashCommand, rid: str | None) -> dict[str, Any]:
    settings = ctx.settings
    principal = chat_principal(settings, cmd.user_id, cmd.user_name)
    actor = principal.actor if principal else audit.Actor(f"slack:{cmd.user_id or '-'}", "none")
    error = channel_refusal(settings, cmd.channel_id) or response_url_refusal(settings, cmd.response_url)
    if error is not None:
        return _refuse(ctx, session, cmd, actor, error, rid)
    if cmd.name == "help":
        return text_message(USAGE)
    if principal is None:
        error = Forbidden(
            f"you ({cmd.user_id or 'unknown user'}) are not mapped to a forensics role; ask an admin"
        )
        return _refuse(ctx, session, cmd, actor, error, rid)
    handler = _HANDLERS.get(cmd.name)
    if handler is None:
        return text_message(f"Unknown command `{cmd.name}`.\n{USAGE}")
    permission = PERMISSIONS[cmd.name]
    try:
        if permission is not None:
            try:
                principal.require(permission)
            except Forbidden:
                raise Forbidden(
                    f"your role {principal.role.value} may not {cmd.name} clean rooms", details=None
                ) from None
        return handler(ctx.caller(session, principal, rid), cmd)
    except ServiceError as exc:
        return _refuse(ctx, session, cmd, actor, exc, rid)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        return _refuse(ctx, session, cmd, actor, InvalidInput(f"{field}: {first.get('msg', 'invalid')}"), rid)


def _args(cmd: SlashCommand, minimum: int, maximum: int, usage: str) -> list[str]:
    args = cmd.words[1:]
    if not minimum <= len(args) <= maximum:
        raise InvalidInput(f"usage: {cmd.command} {usage}")
    return args


def _subscribe(caller: Caller, cmd: SlashCommand, ticket: str) -> None:
    if cmd.response_url:
        now = caller.clock()
        caller.session.add(
            ChatSubscription(
                ticket=ticket,
                url=cmd.response_url,
                user=cmd.user_id,
                created_at=now,
                expires_at=now + timedelta(minutes=caller.settings.slack_response_url_minutes),
            )
        )


def _find(session: Session, ref: str) -> Investigation:
    inv = session.get(Investigation, ref)
    if inv is not None:
        return inv
    inv = session.execute(
        select(Investigation)
        .where(Investigation.ticket == ref)
        .order_by(Investigation.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if inv is None:
        raise NotFound(f"no investigation or ticket {ref}")
    return inv


def _open(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    args = _args(cmd, 1, 2, "open <ticket> [region]")
    body = InvestigationCreate(
        ticket=args[0],
        title=f"Opened from chat by {cmd.user_name or cmd.user_id}"[:200],
        region=args[1] if len(args) > 1 else None,
    )
    inv, op, created = investigations.open_investigation(caller, body, idempotency_key=None)
    _subscribe(caller, cmd, body.ticket)  # committed with the investigation (or to follow the existing one)
    caller.commit()
    if not created:
        return slack_message(Notice("info", snapshot(inv), f"{inv.ticket} already has this clean room."))
    return text_message(
        f":hourglass_flowing_sand: Opening a clean room for *{inv.ticket}* in {inv.region}: `{inv.id}` "
        f"(operation `{op.id}`). Progress and the result will follow here."
    )


def _status(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    (ref,) = _args(cmd, 1, 1, "status <id|ticket>")
    inv = _find(caller.session, ref)
    return slack_message(Notice("info", snapshot(inv), inv.attention_reason))


def _list(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    _args(cmd, 0, 0, "list")
    rows = list(
        caller.session.execute(
            select(Investigation)
            .where(Investigation.status != Status.DESTROYED)
            .order_by(Investigation.created_at.desc())
            .limit(20)
        ).scalars()
    )
    if not rows:
        return text_message("No open clean rooms.")
    lines = [
        f"• `{i.id}` {i.ticket} — *{i.status}* ({i.region}), expires {i.expires_at:%Y-%m-%d %H:%M} UTC"
        for i in rows
    ]
    return text_message("*Open clean rooms*\n" + "\n".join(lines))


def _request(caller: Caller, cmd: SlashCommand, action: Action, params: dict[str, Any]) -> tuple[str, str]:
    (ref,) = _args(cmd, 1, 1, f"{action.value} <id>")
    inv = investigations.get_investigation(caller.session, ref)
    _subscribe(caller, cmd, inv.ticket)
    inv, op = investigations.request_now(caller, inv.id, action, params)
    caller.commit()
    return inv.id, op.id


def _freeze(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    investigation_id, op_id = _request(
        caller, cmd, Action.FREEZE, {"reason": f"chat: {caller.principal.name}"}
    )
    return text_message(f":lock: Freezing `{investigation_id}` under legal hold (operation `{op_id}`).")


def _destroy(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    params = {"reason": f"chat: {caller.principal.name}", "retain_evidence_bucket": True}
    investigation_id, op_id = _request(caller, cmd, Action.DESTROY, params)
    return text_message(
        f":wastebasket: Destroying `{investigation_id}` (operation `{op_id}`); the evidence bucket is kept."
    )


def _extend(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    ref, hours = _args(cmd, 2, 2, "extend <id> <hours>")
    if not hours.isdigit():
        raise InvalidInput("hours must be a whole number")
    inv = investigations.get_investigation(caller.session, ref)
    _subscribe(caller, cmd, inv.ticket)
    result = investigations.extend(caller, inv.id, int(hours))
    caller.commit()
    if isinstance(result, ApprovalRequest):
        return text_message(
            f":raised_hand: Extending `{inv.id}` by {hours}h needs a second person ({result.rule}). "
            f"Approval `{result.id}` waits until {result.expires_at:%Y-%m-%d %H:%M} UTC for someone else to "
            f"approve it (POST /v1/approvals/{result.id}/approve)."
        )
    return text_message(f":alarm_clock: `{result.id}` now expires {result.expires_at:%Y-%m-%d %H:%M} UTC.")


def _contain(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    usage = f"contain <id|ticket> {SOURCE_INSTANCE}"
    ref, target = _args(cmd, 2, 2, usage)
    inv = _find(caller.session, ref)
    account, instance_id = _source_instance(caller.settings, cmd, target, usage)
    params = {
        "source_account_id": account,
        "region": inv.region,
        "instance_id": instance_id,
        "reason": f"chat: {caller.principal.name}",
    }
    _subscribe(caller, cmd, inv.ticket)
    inv, op = investigations.request_now(caller, inv.id, Action.CONTAIN, params)
    caller.commit()
    return text_message(
        f":shield: Containing instance `{instance_id}` of account {account} for `{inv.id}` "
        f"(operation `{op.id}`): its state is recorded first; nothing is stopped or terminated. "
        "Progress and the result follow here."
    )


def _access(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    args = cmd.words[1:]
    if len(args) < 4:
        raise InvalidInput(f"usage: {cmd.command} access <id|ticket> <role> <hours> <reason>")
    ref, role, hours = args[0], args[1].lower(), args[2]
    if not hours.isdigit():
        raise InvalidInput("hours must be a whole number")
    inv = _find(caller.session, ref)
    reason = " ".join(args[3:])
    body = AccessRequestCreate.model_validate({"role": role, "hours": int(hours), "reason": reason})
    _subscribe(caller, cmd, inv.ticket)
    row = access.request_access(caller, inv.id, body)
    caller.commit()
    return text_message(
        f":key: You asked for the {row.role} role on `{inv.id}` for {row.hours}h (request `{row.id}`). "
        "Someone else with the approving permission decides; you will hear here."
    )


def _approvals(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    _args(cmd, 0, 0, "approvals")
    rows, total = approval_service.list_approvals(
        caller.session, status=ApprovalStatus.PENDING, investigation_id=None, limit=20, offset=0
    )
    if not rows:
        return text_message("Nothing waits for a second person.")
    lines = [
        f"• `{r.id}` {r.action} on `{r.investigation_id}` asked by {r.requested_by}, "
        f"until {r.expires_at:%Y-%m-%d %H:%M} UTC"
        for r in rows
    ]
    return text_message(f"*Waiting for a second person* ({total})\n" + "\n".join(lines))


def _memory(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    """The instance is in the investigation's region."""
    usage = f"memory <id|ticket> {SOURCE_INSTANCE}"
    ref, target = _args(cmd, 2, 2, usage)
    inv = _find(caller.session, ref)
    account, instance_id = _source_instance(caller.settings, cmd, target, usage)
    params = {"source_account_id": account, "region": inv.region, "instance_id": instance_id}
    _subscribe(caller, cmd, inv.ticket)
    inv, op = investigations.request_now(caller, inv.id, Action.MEMORY, params)
    caller.commit()
    return text_message(
        f":brain: Capturing the memory of `{instance_id}` into `{inv.id}` (operation `{op.id}`); the image's "
        "hashes and the result will follow here."
    )


def _logs(caller: Caller, cmd: SlashCommand) -> dict[str, Any]:
    """The instance is in the investigation's region; the window defaults to the 24 hours before now."""
    usage = f"logs <id|ticket> {SOURCE_INSTANCE} [since] [until]"
    args = _args(cmd, 2, 4, usage)
    inv = _find(caller.session, args[0])
    account, instance_id = _source_instance(caller.settings, cmd, args[1], usage)
    params: dict[str, Any] = {"source_account_id": account, "region": inv.region, "instance_id": instance_id}
    params.update(dict(zip(("since", "until"), args[2:], strict=False)))
    body = LogsRequest.model_validate(params)
    _subscribe(caller, cmd, inv.ticket)
    inv, op = investigations.request_now(caller, inv.id, Action.LOGS, body)
    caller.commit()
    return text_message(
        f":scroll: Collecting the logs of {instance_id} into `{inv.id}` (operation `{op.id}`); each source "
        "becomes a hashed artifact in the evidence bucket."
    )


# How every command acting on an affected instance names it (contain, memory, logs).
SOURCE_INSTANCE = "[<account>/]<instance-id>"


def _source_instance(settings: Settings, cmd: SlashCommand, target: str, usage: str) -> tuple[str, str]:
    """``[<account>/]<instance-id>`` -> (source account, instance id). The account may be left out only when
    exactly one source account is configured: with several, guessing one would act in the wrong account.
    Whether the account is configured and owns the instance is the action's own check (as over REST)."""
    account, _, instance_id = target.rpartition("/")
    if account:
        return account, instance_id
    configured = sorted(settings.sources)
    if len(configured) != 1:
        raise InvalidInput(
            f"name the source account ({', '.join(configured) or 'none configured'}) as "
            f"<account>/<instance-id>; usage: {cmd.command} {usage}"
        )
    return configured[0], instance_id


Handler = Callable[[Caller, SlashCommand], dict[str, Any]]
_HANDLERS: dict[str, Handler] = {
    "open": _open,
    "status": _status,
    "list": _list,
    "freeze": _freeze,
    "destroy": _destroy,
    "extend": _extend,
    "contain": _contain,
    "access": _access,
    "approvals": _approvals,
    "memory": _memory,
    "logs": _logs,
}
