"""Log-in alerts: reads each forensic account's alert queue (programs/forensic_account: the login rule ->
SNS topic -> this SQS queue, raw message delivery off, so each body is SNS's notification envelope around
the EventBridge event) and turns every Session Manager session and clean-room role assumed there into a
notice on the alert channel and, when the role or instance is an investigation's, on its ticket.

Nothing is lost and nothing is said twice: a message is deleted only after the commit that put its notice in
the outbox, and that commit also keeps the event id (``LoginAlert``), so a message SQS delivers again (a
crash before the delete, a visibility timeout that ran out) is deleted without a second notice. A message
that cannot be read is alerted as malformed (once, by its SQS message id) and deleted; it never stops the
loop. The service reads the queue with its own credentials (the queue policy names its principals).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from service import aws_clients
from service.access.cloudtrail import caller_of
from service.audit import service as audit
from service.domain_events import LoginAlerted
from service.integrations.models import LoginAlert
from service.investigation_states import Status
from service.investigations.actions import StepContext
from service.investigations.models import Investigation

logger = logging.getLogger(__name__)

# What one poll takes from a queue at most (SQS's largest batch) and how many batches, so one busy account
# cannot hold the schedule for the others.
BATCH = 10
MAX_BATCHES = 10
MAX_BODY_SHOWN = 300

ClientFor = Callable[[str], Any]


@dataclass(frozen=True)
class LoginEvent:
    """One alert, as read from a message: who signed in where, when; or why the message is unreadable."""

    event_id: str
    event_name: str
    account_id: str
    who: str
    when: str
    role_arn: str | None = None
    target: str | None = None
    source_identity: str | None = None
    problem: str | None = None


@dataclass
class PollReport:
    received: int = 0
    alerts: list[str] = field(default_factory=list)
    repeats: int = 0
    errors: dict[str, str] = field(default_factory=dict)


class Malformed(ValueError):
    pass


def parse(body: str, message_id: str, account_id: str) -> LoginEvent:
    """The log-in in one SQS message body; a body that is not one is a ``LoginEvent`` with ``problem``."""
    try:
        return _parse(body)
    except Malformed as exc:
        return LoginEvent(
            event_id=f"sqs:{message_id}"[:128],
            event_name="malformed",
            account_id=account_id,
            who="unknown",
            when="-",
            problem=str(exc),
        )


def _parse(body: str) -> LoginEvent:
    envelope = _json_object(body, "the message body")
    if envelope.get("Type") != "Notification" or not isinstance(envelope.get("Message"), str):
        raise Malformed("the body is not an SNS notification")
    event = _json_object(envelope["Message"], "the SNS message")
    detail = event.get("detail")
    event_id = event.get("id")
    if not isinstance(detail, dict) or not isinstance(event_id, str) or not event_id:
        raise Malformed("the SNS message is not an EventBridge event with an id and a detail")
    name = detail.get("eventName")
    request = detail.get("requestParameters") or {}
    if not isinstance(request, dict):
        raise Malformed("requestParameters is not an object")
    common = {
        "event_id": event_id[:128],
        "account_id": str(event.get("account") or detail.get("recipientAccountId") or "-"),
        "who": caller_of(detail.get("userIdentity") or {}),
        "when": str(detail.get("eventTime") or event.get("time") or "-"),
    }
    if name in ("StartSession", "ResumeSession"):
        target = request.get("target") or request.get("sessionId")
        return LoginEvent(event_name=str(name), target=str(target) if target else None, **common)
    if name == "AssumeRole":
        role_arn = request.get("roleArn")
        if not isinstance(role_arn, str):
            raise Malformed("an AssumeRole event without requestParameters.roleArn")
        identity = request.get("sourceIdentity")
        return LoginEvent(
            event_name="AssumeRole",
            role_arn=role_arn,
            source_identity=str(identity) if identity else None,
            **common,
        )
    raise Malformed(f"an event the log-in rule does not send: {name!r}")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise Malformed(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value


def describe(event: LoginEvent, body: str) -> str:
    if event.problem:
        shown = body[:MAX_BODY_SHOWN] + ("..." if len(body) > MAX_BODY_SHOWN else "")
        return f"A message on the log-in alert queue could not be read ({event.problem}): {shown}"
    if event.role_arn:
        return f"{event.who} assumed {event.role_arn} at {event.when} (account {event.account_id})."
    what = "started" if event.event_name == "StartSession" else "resumed"
    on = f" on {event.target}" if event.target else ""
    return f"{event.who} {what} a Session Manager session{on} at {event.when} (account {event.account_id})."


def investigation_of(
    outputs_by_investigation: Mapping[str, Mapping[str, Any]], event: LoginEvent
) -> str | None:
    """The live investigation whose stack outputs name the role or the instance signed in to."""
    wanted = {v for v in (event.role_arn, event.target) if v}
    for investigation_id, outputs in outputs_by_investigation.items():
        if wanted & {v for v in outputs.values() if isinstance(v, str)}:
            return investigation_id
    return None


def record(ctx: StepContext, event: LoginEvent, body: str) -> bool:
    """Keeps, audits and announces ``event`` unless it was already; True if it alerted now."""
    with ctx.unit_of_work() as uow:
        if uow.session.get(LoginAlert, event.event_id) is not None:
            return False
        live = uow.session.execute(
            select(Investigation.id, Investigation.outputs).where(Investigation.status != Status.DESTROYED)
        )
        investigation_id = investigation_of({i: o or {} for i, o in live}, event)
        uow.session.add(
            LoginAlert(
                event_id=event.event_id,
                account_id=event.account_id[:12],
                event_name=event.event_name[:64],
                investigation_id=investigation_id,
                received_at=uow.clock(),
            )
        )
        uow.session.flush()
        audit.record(
            uow.session,
            uow.clock,
            actor=audit.SYSTEM,
            action="forensics.login_alert",
            target=f"investigation/{investigation_id}" if investigation_id else f"account/{event.account_id}",
            outcome="malformed" if event.problem else "alert",
            details={
                "event_id": event.event_id,
                "event_name": event.event_name,
                "who": event.who,
                "when": event.when,
                "role_arn": event.role_arn,
                "target": event.target,
                "problem": event.problem,
            },
        )
        facts: dict[str, Any] = {"event name": event.event_name}
        if event.source_identity:
            facts["source identity"] = event.source_identity
        uow.emit(
            LoginAlerted(
                investigation_id,
                event.event_id,
                event.account_id,
                describe(event, body),
                facts,
                malformed=event.problem is not None,
            )
        )
    return True


def poll(ctx: StepContext, client_for: ClientFor | None = None) -> PollReport:
    """Reads every forensic account's alert queue until it is empty (at most ``MAX_BATCHES`` batches each).
    One queue's failure is reported and does not stop the others."""
    settings = ctx.settings
    make = client_for or (lambda region: aws_clients.client(settings, "sqs", region))
    report = PollReport()
    for region, account in sorted(settings.accounts.items()):
        url = account.alert_queue_url
        if not url:
            continue
        try:
            _drain(ctx, make(region), url, account.account_id, report)
        except Exception as exc:
            logger.exception("reading the log-in alert queue %s", url)
            report.errors[url] = f"{type(exc).__name__}: {exc}"
    return report


def _drain(ctx: StepContext, sqs: Any, url: str, account_id: str, report: PollReport) -> None:
    for _ in range(MAX_BATCHES):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return
        for message in messages:
            report.received += 1
            body = str(message.get("Body", ""))
            event = parse(body, str(message["MessageId"]), account_id)
            if record(ctx, event, body):
                report.alerts.append(event.event_id)
            else:
                report.repeats += 1
            # Only now: the notice (or the proof it was sent before) is committed.
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
