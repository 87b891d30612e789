"""CloudTrail's AssumeRole events judged against the grants: every use of a clean-room role that no live grant
covered is alerted once on the ticket, in chat and in the audit log; covered uses are quiet.

The local AWS records no CloudTrail events, so the records here are written in CloudTrail's own JSON format
(the fields AWS documents for an sts AssumeRole event, successful and refused), and the trail reader is
driven through botocore's Stubber, which checks every LookupEvents call and answer against the API model."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.access import cloudtrail
from service.access.models import RoleUseAlert
from service.access.scheduled import ROLE_USE_SCAN_TASK
from service.db.session import SessionFactory
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.investigations.models import Investigation
from service.main import create_app
from service.orchestration.fake_engine import ScriptedExecutor
from tests.support.api import ADMIN, issue, open_body, wait_operation
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, integration_settings, wait_status

FORENSIC = "123456789012"
ALICE = "alice@example.com"
BOB = "bob@example.com"
ALICE_SSO = f"arn:aws:iam::{FORENSIC}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Forensics_0a1b"
MALLORY_SSO = f"arn:aws:iam::{FORENSIC}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_77aa"
STANDING = f"arn:aws:iam::{FORENSIC}:role/ir-oncall"


@pytest.fixture
def settings_overrides(chat_server: RecordingServer) -> dict[str, Any]:
    return {
        "outbox_dispatch_on_commit": False,
        "slack_notify_url": f"{chat_server.url}/alerts",
        # Alice's permission set is shared: her grants are bound to her own session of it.
        "person_principals": {ALICE: {"principal_arn": ALICE_SSO, "session_name": ALICE}},
        "human_principal_arns": [STANDING],
    }


def assume_role_record(
    role_arn: str,
    caller_role_arn: str,
    at: datetime,
    *,
    person: str | None,
    investigation_id: str,
    error: str | None = None,
    session: str | None = None,
) -> dict[str, Any]:
    """An sts.amazonaws.com AssumeRole event as CloudTrail records it, by a role session (SSO or IAM) named
    ``session`` (default: the person, as an SSO sign-in names it)."""
    issuer_name = caller_role_arn.rsplit("/", 1)[-1]
    session = session or person or "session"
    request: dict[str, Any] = {
        "roleArn": role_arn,
        "roleSessionName": session,
        "durationSeconds": 3600,
        "tags": [{"key": "forensics-investigation", "value": investigation_id}],
    }
    if person:
        request["sourceIdentity"] = person
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROA3EXAMPLEID:{session}",
            "arn": f"arn:aws:sts::{FORENSIC}:assumed-role/{issuer_name}/{session}",
            "accountId": FORENSIC,
            "accessKeyId": "ASIA3EXAMPLEKEY",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROA3EXAMPLEID",
                    "arn": caller_role_arn,
                    "accountId": FORENSIC,
                    "userName": issuer_name,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": "2026-11-26T08:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8",
        "requestParameters": request,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "resources": [{"accountId": FORENSIC, "type": "AWS::IAM::Role", "ARN": role_arn}],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": FORENSIC,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = (
            f"User: {record['userIdentity']['arn']} is not authorized to perform: sts:AssumeRole on "
            f"resource: {role_arn}"
        )
    else:
        record["responseElements"] = {
            "credentials": {
                "accessKeyId": "ASIA3EXAMPLEOUT",
                "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE",
                "expiration": "Nov 26, 2026, 9:15:03 PM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROA3ROLEID:{session}",
                "arn": f"arn:aws:sts::{FORENSIC}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}",
            },
            **({"sourceIdentity": person} if person else {}),
        }
    return record


def lookup_item(record: dict[str, Any]) -> dict[str, Any]:
    """How LookupEvents returns a record: a summary plus the whole event as the CloudTrailEvent string."""
    return {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true",
        "AccessKeyId": record["userIdentity"]["accessKeyId"],
        "EventTime": datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
        "EventSource": record["eventSource"],
        "Username": record["requestParameters"]["roleSessionName"],
        "Resources": [
            {"ResourceType": "AWS::IAM::Role", "ResourceName": record["requestParameters"]["roleArn"]}
        ],
        "CloudTrailEvent": json.dumps(record),
    }


def _clean_room_with_alice_granted(
    app: FastAPI, client: TestClient, ticket: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    opened = client.post("/v1/investigations", json=open_body(ticket), headers=ADMIN)
    inv = wait_status(client, opened.json()["investigation"]["id"], "ready")
    alice, bob = issue(client, "investigator", ALICE), issue(client, "data_custodian", BOB)
    asked = client.post(
        f"/v1/investigations/{inv['id']}/access-requests",
        json={"role": "investigator", "hours": 1, "reason": "memory triage"},
        headers=alice,
    ).json()
    approved = client.post(f"/v1/access-requests/{asked['id']}/approve", headers=bob).json()
    assert wait_operation(client, approved["operation"]["id"])["state"] == "succeeded"
    roles = {
        f"{role}RoleArn": f"arn:aws:iam::{FORENSIC}:role/{inv['id']}-{role}"
        for role in ("responder", "investigator", "custodian", "analyst")
    }
    factory: SessionFactory = app.state.session_factory
    with factory() as session:  # what the stack's `up` reports (the fake engine reports a few outputs only)
        row = session.get(Investigation, inv["id"])
        assert row is not None
        row.outputs = {**(row.outputs or {}), **roles}
        session.commit()
    grant = client.get(f"/v1/access-requests/{asked['id']}", headers=ADMIN).json()
    return inv, roles, grant


def test_uses_without_a_live_grant_are_alerted_once_and_granted_ones_are_quiet(
    app: FastAPI, client: TestClient, ctx: Integrations, clock: TestClock
) -> None:
    inv, roles, grant = _clean_room_with_alice_granted(app, client, "SEC-801")
    investigator = roles["investigatorRoleArn"]
    granted_at = datetime.fromisoformat(grant["decided_at"])
    expires = datetime.fromisoformat(grant["expires_at"])

    def record(**kw: Any) -> dict[str, Any]:
        kw.setdefault("investigation_id", inv["id"])
        return assume_role_record(**kw)

    quiet = [
        record(
            role_arn=investigator,
            caller_role_arn=ALICE_SSO,
            at=granted_at + timedelta(minutes=5),
            person=ALICE,
        ),
        # Not a clean room's role: none of our business.
        record(
            role_arn=f"arn:aws:iam::{FORENSIC}:role/payroll",
            caller_role_arn=MALLORY_SSO,
            at=granted_at,
            person=None,
        ),
    ]
    loud = {
        "after the expiry": record(
            role_arn=investigator, caller_role_arn=ALICE_SSO, at=expires + timedelta(seconds=1), person=ALICE
        ),
        "before the grant": record(
            role_arn=investigator,
            caller_role_arn=ALICE_SSO,
            at=granted_at - timedelta(minutes=1),
            person=ALICE,
        ),
        "another role": record(
            role_arn=roles["custodianRoleArn"],
            caller_role_arn=ALICE_SSO,
            at=granted_at + timedelta(minutes=5),
            person=ALICE,
        ),
        "another principal as alice": record(
            role_arn=investigator,
            caller_role_arn=MALLORY_SSO,
            at=granted_at + timedelta(minutes=5),
            person=ALICE,
        ),
        # Bob is assigned the same permission set: he signs in as his own session and claims to be alice.
        "alice's permission set, bob's session, as alice": record(
            role_arn=investigator,
            caller_role_arn=ALICE_SSO,
            at=granted_at + timedelta(minutes=5),
            person=ALICE,
            session=BOB,
        ),
        "alice's principal as someone else": record(
            role_arn=investigator,
            caller_role_arn=ALICE_SSO,
            at=granted_at + timedelta(minutes=5),
            person="mallory",
        ),
        "refused by STS": record(
            role_arn=investigator,
            caller_role_arn=MALLORY_SSO,
            at=granted_at + timedelta(minutes=6),
            person=None,
            error="AccessDenied",
        ),
        "standing principal": record(
            role_arn=roles["analystRoleArn"],
            caller_role_arn=STANDING,
            at=granted_at + timedelta(minutes=7),
            person="oncall",
        ),
    }
    # Both spellings CloudTrail gives: LookupEvents items and the records of a trail's log files.
    records = [lookup_item(r) for r in quiet] + [lookup_item(r) for r in list(loud.values())[:4]]
    records += list(loud.values())[4:]
    alerted = cloudtrail.check_records(app.state.jobs.ctx, records)
    assert sorted(alerted) == sorted(r["eventID"] for r in loud.values())
    assert cloudtrail.check_records(app.state.jobs.ctx, records) == []  # each event once

    with ctx.session_factory() as session:
        rows = {r.event_id: r for r in session.execute(select(RoleUseAlert)).scalars()}
    findings = {name: rows[r["eventID"]].finding for name, r in loud.items()}
    assert findings == {
        "after the expiry": "no_grant",
        "before the grant": "no_grant",
        "another role": "no_grant",
        "another principal as alice": "no_grant",
        "alice's permission set, bob's session, as alice": "no_grant",
        "alice's principal as someone else": "no_grant",
        "refused by STS": "refused",
        "standing principal": "standing",
    }

    entries = audit_entries(client, action="access.role_use_alert")
    assert sorted(e["details"]["event_id"] for e in entries) == sorted(alerted)
    with ctx.session_factory() as session:
        notices = list(
            session.execute(select(OutboxMessage).where(OutboxMessage.event == "role_use_alert")).scalars()
        )
    destinations = sorted((m.channel, m.destination) for m in notices)
    assert destinations == sorted(
        [("ticket", "SEC-801")] * len(loud) + [("chat", ctx.settings.slack_notify_url or "")] * len(loud)
    )
    text = next(
        m.payload["text"] for m in notices if m.channel == "ticket" and "mallory" in m.payload["text"]
    )
    assert investigator in text and ALICE_SSO in text


def test_the_trail_is_read_through_lookup_events_for_every_assume_role_kind(
    app: FastAPI, client: TestClient, clock: TestClock
) -> None:
    inv, roles, _ = _clean_room_with_alice_granted(app, client, "SEC-802")
    stranger = assume_role_record(
        roles["investigatorRoleArn"],
        MALLORY_SSO,
        clock() - timedelta(minutes=3),
        person="mallory",
        investigation_id=inv["id"],
    )
    settings = app.state.jobs.ctx.settings
    # One forensic account for two regions: read once, through the first region's deploy role.
    forensic_regions = sorted(settings.accounts)
    assert {a.account_id for a in settings.accounts.values()} == {FORENSIC}
    home = forensic_regions[0]
    role_arn = settings.accounts[home].deploy_role_arn
    # Only its forensic regions are enabled; the event is in us-east-1's trail.
    clients = _stubbed_account(
        clock() - timedelta(minutes=settings.cloudtrail_lookback_minutes),
        clock(),
        home=home,
        enabled=forensic_regions,
        events={"us-east-1": [lookup_item(stranger)]},
    )
    asked: list[tuple[str, str, str | None]] = []

    def client_for(service: str, where: str, role: str | None) -> Any:
        asked.append((service, where, role))
        return clients[(service, where)][0]

    report = cloudtrail.scan(app.state.jobs.ctx, clock(), client_for)
    for _client, stub in clients.values():
        stub.assert_no_pending_responses()
    assert report.errors == {} and report.read == 1 and report.alerts == [stranger["eventID"]]
    # Through the forensic account's deploy role, like every other call the service makes there.
    expected = [("ec2", home, role_arn)]
    expected += [("cloudtrail", r, role_arn) for r in sorted({*forensic_regions, "us-east-1"})]
    assert asked == expected


def _stubbed_account(
    start: datetime,
    end: datetime,
    *,
    home: str,
    enabled: list[str],
    events: dict[str, list[dict[str, Any]]],
) -> dict[tuple[str, str], tuple[Any, Stubber]]:
    """Stubbed clients of one forensic account (checked against the API model): EC2 in ``home`` lists the
    ``enabled`` regions, and each region's trail answers every AssumeRole* lookup, with ``events[region]`` for
    AssumeRole."""
    made: dict[tuple[str, str], tuple[Any, Stubber]] = {}

    def stubbed(service: str, region: str) -> Stubber:
        client = boto3.client(service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        stub = Stubber(client)
        stub.activate()
        made[(service, region)] = (client, stub)
        return stub

    regions = [{"RegionName": r, "Endpoint": f"ec2.{r}.amazonaws.com"} for r in enabled]
    stubbed("ec2", home).add_response("describe_regions", {"Regions": regions}, {})
    for region in sorted({*enabled, "us-east-1"}):
        stub = stubbed("cloudtrail", region)
        for name in cloudtrail.ASSUME_EVENTS:
            params = {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": start,
                "EndTime": end,
            }
            found = events.get(region, []) if name == "AssumeRole" else []
            stub.add_response("lookup_events", {"Events": found}, params)
    return made


def test_events_of_every_region_and_the_global_endpoint_are_judged_once(
    app: FastAPI, client: TestClient, clock: TestClock
) -> None:
    """AssumeRole through the global STS endpoint is logged in us-east-1 only, through a regional endpoint in
    that region only: the reader looks in every enabled region and us-east-1, not just the forensic ones.
    An event shown by two regions' trails (same event id) is alerted once."""
    inv, roles, _ = _clean_room_with_alice_granted(app, client, "SEC-803")
    settings = app.state.jobs.ctx.settings
    forensic_regions = sorted(settings.accounts)
    assert "eu-central-1" not in forensic_regions

    def stranger(minutes: int) -> dict[str, Any]:
        return assume_role_record(
            roles["investigatorRoleArn"],
            MALLORY_SSO,
            clock() - timedelta(minutes=minutes),
            person="mallory",
            investigation_id=inv["id"],
        )

    global_endpoint, regional, twice = stranger(3), stranger(4), stranger(5)
    events = {
        "us-east-1": [lookup_item(global_endpoint), lookup_item(twice)],
        "eu-central-1": [lookup_item(regional), lookup_item(twice)],
    }
    start = clock() - timedelta(minutes=settings.cloudtrail_lookback_minutes)
    enabled = [*forensic_regions, "eu-central-1"]
    clients = _stubbed_account(start, clock(), home=forensic_regions[0], enabled=enabled, events=events)
    report = cloudtrail.scan(app.state.jobs.ctx, clock(), lambda s, r, _role: clients[(s, r)][0])
    for _client, stub in clients.values():
        stub.assert_no_pending_responses()
    assert report.errors == {}
    assert report.read == 3
    assert sorted(report.alerts) == sorted(e["eventID"] for e in (global_endpoint, regional, twice))
    entries = audit_entries(client, action="access.role_use_alert")
    assert sorted(e["details"]["event_id"] for e in entries) == sorted(report.alerts)


def test_on_real_aws_the_scan_is_scheduled_and_reads_each_trail_through_the_deploy_role(
    tmp_path: Path, executor: ScriptedExecutor, clock: TestClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``target=aws`` settings the scan is on Huey's schedule (and not locally, where no trail exists);
    the scheduled task itself reads CloudTrail, its calls checked against the API model by the Stubber."""
    deploy_role = f"arn:aws:iam::{FORENSIC}:role/forensics-deploy"
    aws_settings = integration_settings(
        tmp_path,
        None,
        target="aws",
        integrations_periodic_tasks=True,
        cloudtrail_scan_minutes=10,
        forensic_accounts={"eu-west-1": {"account_id": FORENSIC, "deploy_role_arn": deploy_role}},
        service_principal_arns=[f"arn:aws:iam::{FORENSIC}:role/forensics-service"],
        audit_anchor_bucket="forensics-audit-anchors-test",
        pulumi_passphrase="a-passphrase-for-this-test-only",
        jobs_signing_secret="a-job-signing-secret-for-this-test-only",
    )
    local = create_app(
        integration_settings(tmp_path / "local", None, integrations_periodic_tasks=True), executor=executor
    )
    assert ROLE_USE_SCAN_TASK not in {t.name for t in local.state.jobs.huey._registry.periodic_tasks}
    app = create_app(aws_settings, executor=executor, clock=clock)
    tasks = {t.name: t for t in app.state.jobs.huey._registry.periodic_tasks}
    scan_task = tasks[ROLE_USE_SCAN_TASK]
    assert [m for m in range(60) if scan_task.validate_datetime(datetime(2026, 12, 6, 9, m))] == [
        0,
        10,
        20,
        30,
        40,
        50,
    ]

    stranger = assume_role_record(
        f"arn:aws:iam::{FORENSIC}:role/payroll",
        MALLORY_SSO,
        clock(),
        person=None,
        investigation_id="inv-none",
    )
    start = clock() - timedelta(minutes=aws_settings.cloudtrail_lookback_minutes)
    clients = _stubbed_account(
        start, clock(), home="eu-west-1", enabled=["eu-west-1"], events={"eu-west-1": [lookup_item(stranger)]}
    )
    asked: list[tuple[str, str | None, str | None]] = []

    def aws_client(settings: Any, service: str, region: str | None = None, **kw: Any) -> Any:
        if service not in {"ec2", "cloudtrail"}:  # other schedules of the app (the audit anchor) have no AWS
            raise RuntimeError(f"no {service} in this test")
        asked.append((service, region, kw.get("role_arn")))
        return clients[(service, str(region))][0]

    reports: list[cloudtrail.ScanReport] = []
    real_scan = cloudtrail.scan

    def observed_scan(*args: Any, **kwargs: Any) -> cloudtrail.ScanReport:
        reports.append(real_scan(*args, **kwargs))
        return reports[-1]

    with TestClient(app):
        monkeypatch.setattr(cloudtrail.aws_clients, "client", aws_client)
        monkeypatch.setattr(cloudtrail, "scan", observed_scan)
        scan_task.execute()
    for _client, stub in clients.values():
        stub.assert_no_pending_responses()
    assert asked == [
        ("ec2", "eu-west-1", deploy_role),
        ("cloudtrail", "eu-west-1", deploy_role),
        ("cloudtrail", "us-east-1", deploy_role),
    ]
    (report,) = reports
    assert report.errors == {} and report.read == 1 and report.alerts == []  # not a clean room's role
