"""/console: HTTP to the same domain functions as the API, rendered as pages; nothing else.

Every change is a form POST with the session's CSRF token, answered by a redirect (with a one-time notice)
or by the API's error as a page (service.console.wiring renders ServiceError for /console paths).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from programs.forensic_env.config import INVESTIGATION_ID_PATTERN
from service.access import service as access
from service.access.schemas import AccessDecision
from service.api.deps import ClockDep, SessionDep, SettingsDep
from service.api.responses import report_response, stream_events
from service.approvals import service as approvals
from service.approvals.schemas import ApproveRequest, DenyRequest
from service.audit import service as audit
from service.auth import service as auth
from service.auth.roles import Permission, allows
from service.console import forms, pages, sessions
from service.console.deps import CheckedForm, ConsoleCaller, ConsolePrincipal, StreamSlot, session_check
from service.console.models import ConsoleSession
from service.console.rendering import page, redirect, set_cookie, signer
from service.custody import service as custody
from service.features import ACTIONS
from service.investigation_states import Status
from service.investigations import operation_service as operations
from service.investigations import service as investigations
from service.investigations.approval_models import ApprovalRequest
from service.investigations.schemas import InvestigationCreate

router = APIRouter(prefix="/console", include_in_schema=False)

InvestigationId = Annotated[str, Path(pattern=INVESTIGATION_ID_PATTERN)]
Uuid = Annotated[str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
ConsoleAction = Literal[
    "freeze", "extend", "release", "destroy", "memory", "logs", "contain", "release-containment"
]


def _room_url(investigation_id: str) -> str:
    return f"/console/investigations/{investigation_id}"


# Signing in and out


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    nonce = sessions.new_login_nonce()
    response = page(request, "login.html", {"login_nonce": nonce})
    set_cookie(request, response, sessions.LOGIN_COOKIE, nonce)
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str, Form(max_length=500)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The API token is checked as the API checks a bearer token (401 with the API's message)."""
    sessions.check_csrf(request.cookies.get(sessions.LOGIN_COOKIE), csrf_token)
    principal = auth.authenticate(session, clock, settings, token.strip() or None)
    cookie = signer(request).open(session, clock, auth.hash_token(token.strip()), principal.name)
    audit.record(
        session,
        clock,
        actor=principal.actor,
        action="console.sign_in",
        target="console",
        outcome="ok",
        request_id=getattr(request.state, "request_id", None),
    )
    session.commit()
    response = redirect(request, "/console", f"Signed in as {principal.name} ({principal.role.value}).")
    set_cookie(request, response, sessions.SESSION_COOKIE, cookie)
    response.delete_cookie(sessions.LOGIN_COOKIE, path=sessions.COOKIE_PATH)
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, _form: CheckedForm
) -> Response:
    """Ends the session in the database, so the cookie (or a copy of it) never signs anyone in again."""
    row = session.get(ConsoleSession, request.state.console_session)
    if row is not None:
        signer(request).end(row, clock)
    audit.record(
        session,
        clock,
        actor=principal.actor,
        action="console.sign_out",
        target="console",
        outcome="ok",
        request_id=getattr(request.state, "request_id", None),
    )
    session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path=sessions.COOKIE_PATH)
    return response


# Clean rooms


@router.get("", response_class=HTMLResponse)
def rooms(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: ConsolePrincipal,
    status: Annotated[Status | Literal[""], Query()] = "",
    ticket: Annotated[str, Query(max_length=64)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    rows, total = pages.room_rows(
        session, clock(), status=status or None, ticket=ticket.strip() or None, offset=offset
    )
    return page(
        request,
        "rooms.html",
        {
            "rows": rows,
            "total": total,
            "offset": offset,
            "page_size": pages.PAGE_SIZE,
            "status": status,
            "ticket": ticket,
            "statuses": list(Status),
            "regions": sorted(settings.accounts),
            "default_region": settings.aws_region,
            "can_open": allows(principal.role, Permission.OPEN),
        },
    )


@router.post("/investigations")
def open_room(request: Request, form: CheckedForm, caller: ConsoleCaller) -> Response:
    body = forms.parse(InvestigationCreate, form)
    inv, op, created = investigations.open_investigation(caller, body, idempotency_key=None)
    caller.commit()
    notice = (
        f"Opening {inv.id}: operation {op.id} is queued."
        if created
        else f"Ticket {inv.ticket} already has an open clean room: {inv.id}."
    )
    return redirect(request, _room_url(inv.id), notice)


@router.get("/investigations/{investigation_id}", response_class=HTMLResponse)
def room(
    request: Request,
    investigation_id: InvestigationId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: ConsolePrincipal,
) -> Response:
    room_page = pages.room_page(settings, session, principal, investigation_id, clock())
    return page(request, "room.html", {"room": room_page})


@router.get("/investigations/{investigation_id}/report")
def report(
    investigation_id: InvestigationId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    principal: ConsolePrincipal,
    as_format: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
) -> Response:
    """The API's custody report (GET /v1/investigations/{id}/report), for the signed-in caller."""
    content = custody.build_report(settings, session, investigation_id, principal.name, clock())
    return report_response(content, as_format)


@router.get("/investigations/{investigation_id}/{action}", response_class=HTMLResponse)
def confirm(
    request: Request,
    investigation_id: InvestigationId,
    action: ConsoleAction,
    session: SessionDep,
    principal: ConsolePrincipal,
) -> Response:
    """Asks before acting: what the action does, its parameters, and the domain's refusal if any."""
    inv = investigations.get_investigation(session, investigation_id)
    spec = ACTIONS[action]
    principal.require(spec.permission)
    context = {
        "inv": inv,
        "spec": spec,
        "fields": forms.fields_of(spec.params_model),
        "refusal": spec.refusal(inv),
    }
    return page(request, "confirm.html", context)


@router.post("/investigations/{investigation_id}/{action}")
def act(
    request: Request,
    investigation_id: InvestigationId,
    action: ConsoleAction,
    form: CheckedForm,
    caller: ConsoleCaller,
) -> Response:
    spec = ACTIONS[action]
    params = forms.parse(spec.params_model, form)
    notice: str
    if action == "extend":
        values = params.model_dump()
        extended = investigations.extend(caller, investigation_id, values["hours"], values.get("reason"))
        caller.commit()
        if isinstance(extended, ApprovalRequest):
            notice = _held(action, extended)
        else:
            notice = f"Extended: the clean room now expires {extended.expires_at:%Y-%m-%d %H:%M} UTC."
    else:
        requested = investigations.request_action(caller, investigation_id, action, params)
        caller.commit()
        if isinstance(requested, ApprovalRequest):
            notice = _held(action, requested)
        else:
            notice = f"{action.capitalize()} queued: operation {requested[1].id}."
    return redirect(request, _room_url(investigation_id), notice)


def _held(action: str, approval: ApprovalRequest) -> str:
    return (
        f"{action.capitalize()} is held for a second person ({approval.rule}): approval {approval.id}. "
        "Nothing is done until a different person approves it."
    )


# Operations


@router.get("/operations/{operation_id}/events", response_class=EventSourceResponse)
async def operation_events(
    operation_id: Uuid,
    request: Request,
    session: SessionDep,
    _principal: ConsolePrincipal,
    _slot: StreamSlot,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> AsyncIterator[ServerSentEvent]:
    """The API's event stream (GET /v1/operations/{id}/events) for the signed-in caller, for as long as
    the session stays open and its token valid (checked before every poll)."""
    operations.get_operation(session, operation_id)  # 404 before the stream starts
    session.close()
    still_open = session_check(request)
    async for event in stream_events(operation_id, request, last_event_id or 0, still_open):
        yield event


# Approvals


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(
    request: Request, session: SessionDep, settings: SettingsDep, principal: ConsolePrincipal
) -> Response:
    return page(
        request,
        "approvals.html",
        {
            "rows": pages.pending_rows(settings, session, principal),
            "access_rows": pages.access_rows(settings, session, principal),
        },
    )


@router.post("/approvals/{approval_id}/approve")
def approve(request: Request, approval_id: Uuid, form: CheckedForm, caller: ConsoleCaller) -> Response:
    body = forms.parse(ApproveRequest, form)
    decision = approvals.approve(caller, approval_id, body.reason)
    caller.commit()
    row = decision.approval
    done = f"operation {decision.operation.id} queued" if decision.operation else "done"
    return redirect(
        request,
        "/console/approvals",
        f"Approved: {row.action} of {row.investigation_id} asked by {row.requested_by} ({done}).",
    )


@router.post("/approvals/{approval_id}/deny")
def deny(request: Request, approval_id: Uuid, form: CheckedForm, caller: ConsoleCaller) -> Response:
    body = forms.parse(DenyRequest, form)
    decision = approvals.deny(caller, approval_id, body.reason)
    caller.commit()
    row = decision.approval
    return redirect(
        request, "/console/approvals", f"Denied: {row.action} of {row.investigation_id}; nothing was done."
    )


@router.post("/access-requests/{request_id}/{verdict}")
def decide_access(
    request: Request,
    request_id: Uuid,
    verdict: Literal["approve", "deny", "revoke"],
    form: CheckedForm,
    caller: ConsoleCaller,
) -> Response:
    """The API's access decisions (service.access): approve or deny someone else's, withdraw one's own."""
    body = forms.parse(AccessDecision, form)
    if verdict == "revoke":
        row, op = access.revoke(caller, request_id, body.reason)
    else:
        row, op = access.decide(caller, request_id, approve=verdict == "approve", reason=body.reason)
    caller.commit()
    queued = f"; operation {op.id} updates the trust policy" if op else ""
    return redirect(
        request,
        "/console/approvals",
        f"{row.person}'s {row.role} access to {row.investigation_id}: {row.status.value}{queued}.",
    )
