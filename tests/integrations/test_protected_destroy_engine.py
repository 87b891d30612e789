"""On the real engine: a release whose second step fails leaves a stack that is still frozen (stopped,
denied, on legal hold) in ``needs_attention``, and destroy is then refused from every entry point (REST,
ticket webhook, slash command, reaper), because the action table asks the declared stack state, not the
status string. The stack is checked in the local AWS with boto3 to be still there; a real release
afterwards thaws it and destroy goes through."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.expiry import service as teardown
from service.integrations.integration_context import Integrations
from service.investigations import actions
from service.investigations.models import Investigation
from service.main import create_app
from service.operations.states import Action
from service.orchestration.messages import OperationKind
from tests.support.api import ADMIN, issue, wait_operation
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, integration_settings, jira_event, signed_webhook, slash
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

pytestmark = pytest.mark.engine

DEPLOY_TIMEOUT = 900
TICKET = "SEC-880"


@pytest.fixture
def engine_app(
    tmp_path: Path, local_aws: LocalAws, pulumi_cli: Path, ticket_server: RecordingServer, clock: TestClock
) -> Iterator[tuple[TestClient, Integrations]]:
    settings = integration_settings(
        tmp_path,
        ticket_server.url,
        aws_endpoint_url=local_aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
        jobs_poll_max_delay=0.2,
        shutdown_grace_seconds=5.0,
        default_ttl_hours=2,
    )
    seed(settings)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client, client.app.state.integrations  # type: ignore[attr-defined]


def _run(client: TestClient, investigation_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"/v1/investigations/{investigation_id}/{action}", json=body, headers=ADMIN)
    assert response.status_code == 202, response.text
    if "approval" in response.json():
        # Held by the two-person rule (a release): a second person, a custodian, approves it.
        second = issue(client, "data_custodian", "second@example.com")
        response = client.post(f"/v1/approvals/{response.json()['approval']['id']}/approve", headers=second)
        assert response.status_code == 200, response.text
    return wait_operation(client, response.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)


RELEASE = actions.ACTIONS[Action.RELEASE]


def _second_step_fails(inv: Investigation, params: actions.Params, settings: Any) -> list[actions.Step]:
    """The real unprotect step, then a thaw whose config the program refuses (a failed second step)."""
    assert RELEASE.steps is not None
    unprotect, _thaw = RELEASE.steps(inv, params, settings)
    broken = actions.engine_step(inv, settings, OperationKind.UP, "up (released, broken)", ttlHours=-1)
    return [unprotect, broken]


def _events(client: TestClient, operation_id: str) -> list[dict[str, Any]]:
    import json

    with client.stream("GET", f"/v1/operations/{operation_id}/events", headers=ADMIN) as stream:
        return [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]


def test_destroy_is_refused_everywhere_while_the_stack_is_frozen(
    engine_app: tuple[TestClient, Integrations],
    clock: TestClock,
    local_aws: LocalAws,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, ctx = engine_app
    ec2 = local_aws.client("ec2")
    opened = client.post(
        "/v1/investigations",
        json={"ticket": TICKET, "title": "Protected stack", "region": "us-east-1"},
        headers=ADMIN,
    )
    assert opened.status_code == 202, opened.text
    investigation_id = opened.json()["investigation"]["id"]
    assert (
        wait_operation(client, opened.json()["operation"]["id"], timeout=DEPLOY_TIMEOUT)["state"]
        == "succeeded"
    )
    assert _run(client, investigation_id, "freeze", {"reason": "counsel"})["state"] == "succeeded"
    vpc_id = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["outputs"]["vpcId"]

    # A release whose second step fails, after the first really lifted protection on the engine.
    monkeypatch.setitem(
        actions.ACTIONS, Action.RELEASE, dataclasses.replace(RELEASE, steps=_second_step_fails)
    )
    failed = _run(client, investigation_id, "release", {"reason": "counsel agreed"})
    monkeypatch.setitem(actions.ACTIONS, Action.RELEASE, RELEASE)
    # It was the second step that failed, in the program, after the first one ran on the engine.
    assert failed["state"] == "failed" and failed["error"]["code"] == "program_error", failed
    assert "ttlHours" in failed["error"]["message"], failed
    steps = {e["step_label"] for e in _events(client, failed["id"]) if "step_label" in e}
    assert "up (unprotected)" in steps, steps  # the first step ran on the engine; the thaw never started
    inv = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    assert inv["status"] == "needs_attention" and inv["frozen"] is True, inv

    # REST
    response = client.post(f"/v1/investigations/{investigation_id}/destroy", headers=ADMIN)
    assert response.status_code == 409 and "legal hold" in response.json()["error"]["message"], response.text
    # Ticket moved to Done
    done = jira_event(
        TICKET, event="jira:issue_updated", status="Done", changelog=[{"field": "status", "toString": "Done"}]
    )
    body, headers = signed_webhook(done, clock)
    result = client.post("/v1/integrations/tickets/webhook", content=body, headers=headers).json()["results"]
    assert result[-1]["action"] == "destroy" and result[-1]["outcome"] == "refused", result
    # Slash command, by a data custodian (who may destroy)
    clock.advance(seconds=1)
    body, headers = slash(f"destroy {investigation_id}", clock, user="UCUST")
    reply = client.post("/v1/integrations/slack/commands", content=body, headers=headers).json()
    assert reply["text"].startswith(":no_entry:") and "legal hold" in reply["text"], reply
    # Reaper, once the TTL has run out
    clock.advance(hours=3)
    with ctx.session_factory() as session:
        plan = {i.investigation_id: i for i in teardown.plan(session, ctx.settings, clock())}
    assert plan[investigation_id].action == "skip" and "legal hold" in plan[investigation_id].reason
    report = teardown.run_teardown(ctx, clock())
    assert investigation_id in report.skipped and investigation_id not in report.destroying

    # Nothing was destroyed or even queued, and the stack is still in the local AWS.
    timeline = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["timeline"]
    assert [op["action"] for op in timeline] == ["open", "freeze", "release"]
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["State"] == "available"
    refusals = [e for e in audit_entries(client) if e["outcome"] == "refused:state_conflict"]
    assert {e["action"] for e in refusals} >= {
        f"POST /v1/investigations/{investigation_id}/destroy",
        "ticket.destroy",
        "chat.destroy",
    }

    # A real release from needs_attention thaws it; then destroy is allowed and goes through.
    assert _run(client, investigation_id, "release", {"reason": "counsel agreed"})["state"] == "succeeded"
    assert client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["frozen"] is False
    assert _run(client, investigation_id, "destroy")["state"] == "succeeded"
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Vpcs"]
    assert vpcs == []
