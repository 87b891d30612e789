"""The integrations on the real engine and moto: a Jira webhook delivered twice opens one clean room that
reaches ready; an ingress rule added behind Pulumi's back with boto3 is reported as drift (ticket, chat,
audit) and left in place; when the TTL runs out the reaper destroys the clean room and moto holds nothing of
it but the evidence bucket. One deployment carries those three checks, because each `up` costs minutes.
A slash command's response_url follows a real build: requested, halfway, ready."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.expiry import service as teardown
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.main import create_app
from tests.support.api import ADMIN, wait_operation
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, integration_settings, jira_event, signed_webhook, slash
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

DEPLOY_TIMEOUT = 900
WEBHOOK = "/v1/integrations/tickets/webhook"
TICKET = "SEC-777"


@pytest.fixture
def engine_app(
    tmp_path: Path,
    local_aws: LocalAws,
    pulumi_cli: Path,
    ticket_server: RecordingServer,
    chat_server: RecordingServer,
    clock: TestClock,
) -> Iterator[tuple[TestClient, Integrations]]:
    settings = integration_settings(
        tmp_path,
        ticket_server.url,
        aws_endpoint_url=local_aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
        jobs_poll_max_delay=0.2,
        shutdown_grace_seconds=5.0,
        slack_notify_url=f"{chat_server.url}/services/alerts",
        default_ttl_hours=4,
        ttl_warning_hours=1.0,
        drift_check_interval_hours=1.0,
    )
    seed(settings)
    app = create_app(settings, clock=clock)  # no executor: the real engine (PulumiExecutor)
    with TestClient(app) as client:
        yield client, app.state.integrations


def _latest(client: TestClient, investigation_id: str, action: str) -> dict[str, Any]:
    timeline = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["timeline"]
    ops = [op for op in timeline if op["action"] == action]
    assert ops, f"no {action} operation in {[op['action'] for op in timeline]}"
    op = wait_operation(client, ops[-1]["id"], timeout=DEPLOY_TIMEOUT)
    assert op["state"] == "succeeded", op
    return op


def _ticket_events(ctx: Integrations) -> list[str]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage.event)
            .where(OutboxMessage.stream == f"ticket:{TICKET}")
            .order_by(OutboxMessage.id)
        )
        return [event for (event,) in rows]


def _comments(ticket_server: RecordingServer, count: int) -> list[str]:
    got = ticket_server.wait_for(lambda got: len(got) >= count, timeout=60)
    time.sleep(0.5)  # nothing more may arrive: each update exactly once
    delivered = ticket_server.delivered()
    assert len(delivered) == len(got) == count, [r.body["body"].splitlines()[0] for r in delivered]
    assert all(r.path == f"/rest/api/2/issue/{TICKET}/comment" for r in delivered)
    return [r.body["body"] for r in delivered]


def test_jira_webhook_drift_alert_and_ttl_teardown_on_the_engine(
    engine_app: tuple[TestClient, Integrations],
    clock: TestClock,
    local_aws: LocalAws,
    ticket_server: RecordingServer,
    chat_server: RecordingServer,
) -> None:
    client, ctx = engine_app
    ec2, s3 = local_aws.client("ec2"), local_aws.client("s3")

    # A Jira "created" webhook, delivered twice: one investigation, one stack, ready on the real engine.
    payload = jira_event(TICKET, labels=["forensics"])
    first = client.post(WEBHOOK, **_signed(payload, clock))
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["outcome"] == "accepted"
    investigation_id = first.json()["results"][0]["investigation_id"]
    clock.advance(seconds=30)
    again = client.post(WEBHOOK, **_signed(payload, clock))
    assert again.status_code == 200, again.text
    assert again.json()["results"][0]["outcome"] == "duplicate"
    assert again.json()["results"][0]["investigation_id"] == investigation_id

    _latest(client, investigation_id, "open")
    inv = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    assert inv["status"] == "ready", inv
    listed = client.get("/v1/investigations", params={"ticket": TICKET}, headers=ADMIN).json()["items"]
    assert [i["id"] for i in listed] == [investigation_id]
    out = inv["outputs"]
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:forensics:ticket", "Values": [TICKET]}])["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [out["vpcId"]]  # one clean room in AWS, not two
    comments = _comments(ticket_server, 2)
    assert "is ready" in comments[1] and f"vpcId: {out['vpcId']}" in comments[1]

    # Someone opens SSH to the workstation behind Pulumi's back: the drift check alerts, fixes nothing.
    sg = out["securityGroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    clock.advance(hours=1.1)  # past the drift interval (1 h), well before expiry (4 h)
    assert teardown.run_drift_check(ctx, clock()).checked == [investigation_id]
    refresh = _latest(client, investigation_id, "refresh")
    assert refresh["requested_by"] == "drift-check"
    drift = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["drift"]
    assert drift["drifted"] is True
    assert any("securityGroup" in str(r) for r in drift["resources"]), drift
    alerts = audit_entries(client, action="investigation.drift_alert")
    assert [a["target"] for a in alerts] == [f"investigation/{investigation_id}"]
    assert alerts[0]["details"]["remediated"] is False
    (group,) = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"]
    assert any(p.get("FromPort") == 22 for p in group["IpPermissions"])  # left for the humans to see
    chat = chat_server.wait_for(lambda got: any("DRIFT" in r.body["text"] for r in got), timeout=60)
    assert chat[-1].path == "/services/alerts"
    comments = _comments(ticket_server, 3)
    assert "DRIFT" in comments[2]

    # The TTL runs out: a warning first, then the reaper destroys; the evidence bucket outlives it.
    expires = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["expires_at"]
    plan = client.get("/v1/teardown/plan", headers=ADMIN).json()["items"]
    assert plan == []  # hours before the warning window (the last hour)
    clock.advance(hours=2.0)  # 3.1 h in: inside the warning window
    assert clock() < datetime.fromisoformat(expires)
    report = teardown.run_teardown(ctx, clock())
    assert report.warned == [investigation_id] and report.destroying == []
    assert teardown.run_teardown(ctx, clock()).warned == []  # warned once, not every run
    clock.advance(hours=1.0)  # 4.1 h in: expired
    plan = client.get("/v1/teardown/plan", headers=ADMIN).json()["items"]
    assert [(i["investigation_id"], i["action"]) for i in plan] == [(investigation_id, "destroy")]
    report = teardown.run_teardown(ctx, clock())
    assert report.destroying == [investigation_id] and report.errors == {}
    destroy = _latest(client, investigation_id, "destroy")
    assert destroy["requested_by"] == ctx.settings.teardown_principal
    gone = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    assert gone["status"] == "destroyed"

    tag = [{"Name": "tag:forensics:investigation-id", "Values": [out["investigationId"]]}]
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [out["vpcId"]]}])["Vpcs"] == []
    assert ec2.describe_security_groups(Filters=tag)["SecurityGroups"] == []
    endpoints = ec2.describe_vpc_endpoints(Filters=tag)["VpcEndpoints"]
    assert endpoints and all(e["State"].lower() == "deleted" for e in endpoints)  # AWS lists them a while
    assert ec2.describe_volumes(Filters=tag)["Volumes"] == []
    instances = [i for r in ec2.describe_instances(Filters=tag)["Reservations"] for i in r["Instances"]]
    assert all(i["State"]["Name"] == "terminated" for i in instances)
    s3.head_bucket(Bucket=out["evidenceBucket"])  # evidence outlives the clean room

    assert _ticket_events(ctx) == ["opened", "ready", "drift", "ttl_warning", "destroying", "destroyed"]
    comments = _comments(ticket_server, 6)
    assert "destroyed" in comments[5].splitlines()[0].lower()
    actions = [e["action"] for e in audit_entries(client, target=f"investigation/{investigation_id}")]
    assert {"investigation.ttl_warning", "investigation.destroy", "investigation.drift_alert"} <= set(actions)
    assert client.get("/v1/audit/verify", headers=ADMIN).json()["ok"] is True


def _signed(payload: dict[str, Any], clock: TestClock) -> dict[str, Any]:
    body, headers = signed_webhook(payload, clock)
    return {"content": body, "headers": headers}


def test_slash_command_build_progress_reaches_the_response_url(
    engine_app: tuple[TestClient, Integrations], clock: TestClock, chat_server: RecordingServer
) -> None:
    client, _ = engine_app
    response_url = f"{chat_server.url}/commands/T1/42/xyz"
    body, headers = slash("open SEC-778", clock, response_url=response_url)
    ack = client.post("/v1/integrations/slack/commands", content=body, headers=headers)
    assert ack.status_code == 200, ack.text
    assert "SEC-778" in ack.json()["text"]

    received = chat_server.wait_for(
        lambda got: any(r.body["text"].startswith("Forensic clean room is ready") for r in got),
        timeout=DEPLOY_TIMEOUT,
    )
    assert [r.path for r in received] == ["/commands/T1/42/xyz"] * 3
    headlines = [r.body["blocks"][0]["text"]["text"] for r in received]
    assert headlines == [
        "Forensic clean room requested: opening",
        "Building the clean room",
        "Forensic clean room is ready",
    ]
    progress = " ".join(b.get("text", {}).get("text", "") for b in received[1].body["blocks"])
    done, planned = (int(n) for n in progress.split("Halfway: ")[1].split(" resources")[0].split(" of "))
    assert planned > 20 and planned / 2 <= done < planned  # the real plan of a clean room
    inv = client.get("/v1/investigations", params={"ticket": "SEC-778"}, headers=ADMIN).json()["items"][0]
    assert inv["status"] == "ready"
    ready_fields = " ".join(f["text"] for b in received[2].body["blocks"] for f in b.get("fields", []))
    assert inv["outputs"]["instanceId"] in ready_fields
