"""Log-in alerts reach the service: the forensic account's login rule publishes to its SNS topic, the topic
delivers to the alert queue (raw delivery off: SNS's envelope around the EventBridge event), and the
scheduled poll turns each event into a notice on the alert channel (and the investigation's ticket), deleting
the message only after the notice is in the outbox; a message delivered again alerts nothing.

The local AWS (moto server) really delivers SNS -> SQS, so the queue path is tested end to end there; the
events are written in EventBridge's "AWS API Call via CloudTrail" shape with CloudTrail's documented
fields."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import aws_clients
from service.integrations import login_alerts
from service.integrations.models import LoginAlert, OutboxMessage
from service.investigations.models import Investigation
from service.jobs.job_context import JobContext
from tests.support.api import ADMIN, open_body
from tests.support.http import RecordingServer
from tests.support.integrations import integration_settings, wait_status
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import grant_service

FORENSIC = "123456789012"  # moto's account
REGION = "eu-west-1"
ALICE_SSO = f"arn:aws:iam::{FORENSIC}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Forensics_0a1b"


def login_event(name: str, request: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An EventBridge "AWS API Call via CloudTrail" event as the login rule matches it."""
    source = "aws.ssm" if name in ("StartSession", "ResumeSession") else "aws.sts"
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": FORENSIC,
        "time": "2026-12-07T00:12:03Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLE:alice",
                "arn": f"arn:aws:sts::{FORENSIC}:assumed-role/{ALICE_SSO.rsplit('/', 1)[1]}/alice",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ALICE_SSO}},
            },
            "eventTime": "2026-12-07T00:12:03Z",
            "eventSource": f"{source.split('.')[1]}.amazonaws.com",
            "eventName": name,
            "awsRegion": REGION,
            "requestParameters": request,
            "eventID": str(uuid.uuid4()),
            "recipientAccountId": FORENSIC,
        },
    }


def envelope(message: str) -> str:
    return json.dumps({"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": message})


# Reading one message


def test_a_session_and_a_role_assumed_are_read_from_the_sns_envelope() -> None:
    session = login_alerts.parse(
        envelope(json.dumps(login_event("StartSession", {"target": "i-0abc"}, event_id="ev-1"))),
        "m1",
        FORENSIC,
    )
    assert (session.event_id, session.event_name, session.target, session.who) == (
        "ev-1",
        "StartSession",
        "i-0abc",
        ALICE_SSO,
    )
    assert login_alerts.describe(session, "") == (
        f"{ALICE_SSO} started a Session Manager session on i-0abc at 2026-12-07T00:12:03Z "
        f"(account {FORENSIC})."
    )
    role = f"arn:aws:iam::{FORENSIC}:role/forensics-inv-1-analyst"
    assumed = login_alerts.parse(
        envelope(json.dumps(login_event("AssumeRole", {"roleArn": role, "sourceIdentity": "alice"}))),
        "m2",
        FORENSIC,
    )
    assert (assumed.role_arn, assumed.source_identity, assumed.problem) == (role, "alice", None)
    assert login_alerts.investigation_of({"inv-1": {"analystRoleArn": role}, "inv-2": {}}, assumed) == "inv-1"
    assert login_alerts.investigation_of({"inv-2": {"instanceId": "i-0abc"}}, session) == "inv-2"
    assert login_alerts.investigation_of({"inv-3": {"instanceId": "i-other"}}, session) is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"Type": "SubscriptionConfirmation", "Message": "{}"}),
        envelope("{oops"),
        envelope(json.dumps({"id": "ev", "detail": "text"})),
        envelope(json.dumps(login_event("AssumeRole", {}))),
        envelope(json.dumps(login_event("DeleteTrail", {}))),
        envelope(json.dumps({**login_event("AssumeRole", {"roleArn": "r"}), "id": None})),
    ],
    # Fixed ids: the bodies hold random message ids, and parallel workers must collect the same tests.
    ids=[
        "not-json",
        "not-an-object",
        "subscription-confirmation",
        "message-not-json",
        "not-an-eventbridge-event",
        "assume-role-without-role",
        "another-event",
        "event-without-id",
    ],
)
def test_anything_else_is_malformed_and_keyed_by_its_sqs_message_id(body: str) -> None:
    event = login_alerts.parse(body, "msg-7", FORENSIC)
    assert event.problem and event.event_id == "sqs:msg-7" and event.account_id == FORENSIC


# Through the local AWS: topic -> queue -> poll -> outbox


@pytest.fixture
def alert_queue(local_aws: LocalAws) -> tuple[str, str]:
    """A topic and a queue subscribed to it, as programs/forensic_account builds them."""
    sns, sqs = local_aws.client("sns"), local_aws.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    topic_arn = sns.create_topic(Name=f"forensics-login-alerts-{suffix}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"forensics-login-alerts-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, url


@pytest.fixture
def jobs_ctx(app: FastAPI, client: TestClient) -> JobContext:
    ctx: JobContext = app.state.jobs.ctx
    return ctx


@pytest.fixture
def settings(
    tmp_path: Path, ticket_server: RecordingServer, local_aws: LocalAws, alert_queue: tuple[str, str]
) -> Any:
    settings = integration_settings(
        tmp_path,
        ticket_server.url,
        outbox_dispatch_on_commit=False,
        slack_notify_url="http://127.0.0.1:9/alerts",
        aws_endpoint_url=local_aws.endpoint_url,
        aws_verify_tls=False,
        forensic_accounts={local_aws.region: {"account_id": FORENSIC, "alert_queue_url": alert_queue[1]}},
    )
    # The service reads (and deletes) the alerts as itself: day zero grants it this account's queue.
    grant_service(settings)
    return settings


def _queued(local_aws: LocalAws, url: str) -> int:
    attrs = local_aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_a_published_login_is_alerted_once_and_leaves_the_queue(
    jobs_ctx: JobContext, local_aws: LocalAws, alert_queue: tuple[str, str]
) -> None:
    topic_arn, url = alert_queue
    event = login_event("StartSession", {"target": "i-0feed"}, event_id="ev-session-1")
    local_aws.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(event))
    assert _queued(local_aws, url) == 1

    report = login_alerts.poll(jobs_ctx)

    assert report.alerts == ["ev-session-1"] and not report.errors
    assert _queued(local_aws, url) == 0
    with jobs_ctx.session_factory() as session:
        notices = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.event == "login_alert")).scalars()
        )
        assert session.get(LoginAlert, "ev-session-1") is not None
    # No investigation owns i-0feed: the alert channel only.
    assert [n.destination for n in notices] == ["http://127.0.0.1:9/alerts"]
    text = json.dumps(notices[0].payload)
    assert "someone signed in to a forensic account" in text
    assert f"{ALICE_SSO} started a Session Manager session on i-0feed at 2026-12-07T00:12:03Z" in text

    # Nothing new: a second run alerts nothing.
    assert login_alerts.poll(jobs_ctx).alerts == []
    # The same event delivered again (SNS/SQS are at-least-once) is deleted without a second notice.
    local_aws.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(event))
    again = login_alerts.poll(jobs_ctx)
    assert (again.alerts, again.repeats, _queued(local_aws, url)) == ([], 1, 0)
    with jobs_ctx.session_factory() as session:
        count = len(
            list(session.execute(select(OutboxMessage).where(OutboxMessage.event == "login_alert")).scalars())
        )
    assert count == 1


def test_a_malformed_message_is_alerted_and_deleted_and_the_next_one_still_read(
    jobs_ctx: JobContext, local_aws: LocalAws, alert_queue: tuple[str, str]
) -> None:
    topic_arn, url = alert_queue
    sns = local_aws.client("sns")
    sns.publish(TopicArn=topic_arn, Message="<html>not an event</html>")
    role = f"arn:aws:iam::{FORENSIC}:role/forensics-inv-9-analyst"
    sns.publish(TopicArn=topic_arn, Message=json.dumps(login_event("AssumeRole", {"roleArn": role})))

    report = login_alerts.poll(jobs_ctx)

    assert len(report.alerts) == 2 and not report.errors
    assert _queued(local_aws, url) == 0
    with jobs_ctx.session_factory() as session:
        events = sorted(m.event for m in session.execute(select(OutboxMessage)).scalars())
    assert events == ["login_alert", "login_alert_malformed"]


def test_a_notice_not_committed_leaves_the_message_on_the_queue(
    jobs_ctx: JobContext, local_aws: LocalAws, alert_queue: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    topic_arn, url = alert_queue
    local_aws.client("sns").publish(TopicArn=topic_arn, Message=json.dumps(login_event("StartSession", {})))

    def crash(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("database went away")

    monkeypatch.setattr(login_alerts, "record", crash)
    report = login_alerts.poll(jobs_ctx)

    assert report.alerts == [] and "RuntimeError" in next(iter(report.errors.values()))
    assert _queued(local_aws, url) == 1


def test_the_service_reads_the_queue_with_its_own_credentials(
    jobs_ctx: JobContext, local_aws: LocalAws
) -> None:
    seen: list[str] = []

    def client_for(region: str) -> Any:
        seen.append(region)
        return aws_clients.client(jobs_ctx.settings, "sqs", region)

    login_alerts.poll(jobs_ctx, client_for)
    assert seen == [local_aws.region]


def test_a_role_of_an_investigation_alerts_its_ticket_too(
    app: FastAPI, client: TestClient, jobs_ctx: JobContext, local_aws: LocalAws, alert_queue: tuple[str, str]
) -> None:
    opened = client.post(
        "/v1/investigations", json=open_body("SEC-921", region=local_aws.region), headers=ADMIN
    )
    inv = wait_status(client, opened.json()["investigation"]["id"], "ready")
    role = f"arn:aws:iam::{FORENSIC}:role/{inv['id']}-analyst"
    with (
        jobs_ctx.session_factory() as session
    ):  # what the stack's `up` reports (the fake engine: a few outputs)
        row = session.get(Investigation, inv["id"])
        assert row is not None
        row.outputs = {**(row.outputs or {}), "analystRoleArn": role}
        session.commit()
    event = login_event("AssumeRole", {"roleArn": role, "sourceIdentity": "alice"}, event_id="ev-role-1")
    local_aws.client("sns").publish(TopicArn=alert_queue[0], Message=json.dumps(event))

    assert login_alerts.poll(jobs_ctx).alerts == ["ev-role-1"]

    with jobs_ctx.session_factory() as session:
        notices = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.event == "login_alert")).scalars()
        )
    assert sorted((n.channel, n.destination) for n in notices) == [
        ("chat", "http://127.0.0.1:9/alerts"),
        ("ticket", "SEC-921"),
    ]
    ticket = next(n for n in notices if n.channel == "ticket")
    assert ticket.investigation_id == inv["id"]
    assert f"{ALICE_SSO} assumed {role} at 2026-12-07T00:12:03Z" in ticket.payload["text"]
    assert "source identity: alice" in ticket.payload["text"]
