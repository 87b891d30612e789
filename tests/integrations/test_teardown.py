"""The reaper and the drift check with a test clock: warn once, destroy expired, skip frozen and busy ones,
survive failures (retried next run); drift in a refresh result is an alert (outbox + audit), never a fix."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from service.expiry import service as teardown
from service.integrations.integration_context import Integrations
from service.integrations.models import OutboxMessage
from service.investigations import service as investigations_service
from service.investigations.models import Investigation
from service.orchestration.fake_engine import ScriptedExecutor, fail_with
from service.orchestration.messages import OperationKind, OperationRequest, OperationResult
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.http import RecordingServer
from tests.support.integrations import audit_entries, held_then_failed, wait_status


def _events(ctx: Integrations, ticket: str) -> list[str]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.stream == f"ticket:{ticket}").order_by(OutboxMessage.id)
        ).scalars()
        return [m.event for m in rows]


def _force_frozen(ctx: Integrations, investigation_id: str) -> None:
    """The freeze itself is core's (tests/investigations/test_freeze.py); here only its resulting state
    matters."""
    with ctx.session_factory() as session:
        session.execute(
            update(Investigation)
            .where(Investigation.id == investigation_id)
            .values(status="frozen", frozen=True, legal_hold=True)
        )
        session.commit()


def _plan(client: TestClient) -> dict[str, tuple[str, str]]:
    body = client.get("/v1/teardown/plan", headers=ADMIN).json()
    return {i["investigation_id"]: (i["action"], i["reason"]) for i in body["items"]}


def test_reaper_warns_destroys_skips_and_survives_failures(
    client: TestClient,
    clock: TestClock,
    ctx: Integrations,
    executor: ScriptedExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expiring = open_ready(client, "SEC-401", ttl_hours=2)
    frozen = open_ready(client, "SEC-402", ttl_hours=2)
    busy = open_ready(client, "SEC-403", ttl_hours=2)
    raising = open_ready(client, "SEC-404", ttl_hours=2)
    failing = open_ready(client, "SEC-405", ttl_hours=2)
    later = open_ready(client, "SEC-406", ttl_hours=48)
    _force_frozen(ctx, frozen["id"])

    # Inside the warning window (1h before expiry): warn everything but the frozen one, once.
    clock.advance(minutes=70)
    plan = _plan(client)
    assert plan[frozen["id"]][0] == "skip" and "legal hold" in plan[frozen["id"]][1]
    assert {k for k, (a, _) in plan.items() if a == "warn"} == {
        expiring["id"],
        busy["id"],
        raising["id"],
        failing["id"],
    }
    assert later["id"] not in plan
    report = teardown.run_teardown(ctx, clock())
    assert sorted(report.warned) == sorted([expiring["id"], busy["id"], raising["id"], failing["id"]])
    assert teardown.run_teardown(ctx, clock()).warned == []  # once per expiry
    assert _events(ctx, "SEC-401") == ["opened", "ready", "ttl_warning"]
    warnings = audit_entries(client, action="investigation.ttl_warning")
    assert len(warnings) == 4 and {e["actor"] for e in warnings} == {"ttl-reaper"}

    # Busy: an operation is running on it when it expires.
    release = threading.Event()
    executor.when(busy["stack_name"], OperationKind.PREVIEW, held_then_failed(release))
    preview = client.post(f"/v1/investigations/{busy['id']}/preview", headers=ADMIN).json()["operation"]
    wait_operation(client, preview["id"], until=("running",))
    # One destroy request blows up; one destroy operation fails in the engine.
    real_request = investigations_service.request_action
    blown: list[str] = []

    def request_once_broken(caller: Any, investigation_id: str, action: str, params: Any = None) -> Any:
        if investigation_id == raising["id"] and action == "destroy" and not blown:
            blown.append(raising["id"])
            raise RuntimeError("database hiccup")
        return real_request(caller, investigation_id, action, params)

    monkeypatch.setattr(investigations_service, "request_action", request_once_broken)
    executor.when(
        failing["stack_name"], OperationKind.DESTROY, fail_with("deploy_failed", "DependencyViolation")
    )

    clock.advance(minutes=60)  # all five short ones have expired
    plan = _plan(client)
    assert plan[busy["id"]][0] == "skip" and "running" in plan[busy["id"]][1]
    assert plan[frozen["id"]][0] == "skip"
    report = teardown.run_teardown(ctx, clock())
    assert sorted(report.destroying) == sorted([expiring["id"], failing["id"]])
    assert set(report.skipped) == {frozen["id"], busy["id"]}
    assert list(report.errors) == [raising["id"]] and "database hiccup" in report.errors[raising["id"]]
    wait_status(client, expiring["id"], "destroyed")
    wait_status(client, failing["id"], "failed")
    assert client.get(f"/v1/investigations/{raising['id']}", headers=ADMIN).json()["status"] == "ready"
    errors = audit_entries(client, action="teardown.destroy")
    assert [(e["target"], e["outcome"]) for e in errors] == [
        (f"investigation/{raising['id']}", "error:internal_error")
    ]

    # Next run: the two that failed are retried and go; frozen and busy are still left alone.
    clock.advance(minutes=5)
    report = teardown.run_teardown(ctx, clock())
    assert sorted(report.destroying) == sorted([raising["id"], failing["id"]])
    assert report.errors == {}
    wait_status(client, raising["id"], "destroyed")
    wait_status(client, failing["id"], "destroyed")
    assert client.get(f"/v1/investigations/{frozen['id']}", headers=ADMIN).json()["status"] == "frozen"
    assert client.get(f"/v1/investigations/{busy['id']}", headers=ADMIN).json()["status"] == "ready"
    assert client.get(f"/v1/investigations/{later['id']}", headers=ADMIN).json()["status"] == "ready"

    destroys = audit_entries(client, action="investigation.destroy")
    assert {e["actor"] for e in destroys} == {"ttl-reaper"} and len(destroys) == 4
    assert _events(ctx, "SEC-401") == ["opened", "ready", "ttl_warning", "destroying", "destroyed"]
    assert _events(ctx, "SEC-405") == [
        "opened",
        "ready",
        "ttl_warning",
        "destroying",
        "failed",
        "destroying",
        "destroyed",
    ]
    release.set()
    wait_operation(client, preview["id"])


def test_a_cancelled_freeze_is_never_left_for_the_reaper(
    client: TestClient, clock: TestClock, ctx: Integrations, executor: ScriptedExecutor
) -> None:
    """Responder A asks to freeze; responder B cannot cancel it alone (held for a second person). Whoever
    cancels it in the end, the clean room waits for a person (needs_attention): once expired, the reaper's
    plan skips it and its run destroys nothing."""
    by_requester = open_ready(client, "SEC-411", ttl_hours=2)
    by_approval = open_ready(client, "SEC-412", ttl_hours=2)
    rita = issue(client, "responder", "rita@example.com")
    ron = issue(client, "responder", "ron@example.com")
    custodian = issue(client, "data_custodian", "dana@example.com")
    # A preview keeps each freeze queued behind it, so it can still be cancelled before it runs.
    release = threading.Event()
    previews = []
    for inv in (by_requester, by_approval):
        executor.when(inv["stack_name"], OperationKind.PREVIEW, held_then_failed(release))
        preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN).json()["operation"]
        wait_operation(client, preview["id"], until=("running",))
        previews.append(preview["id"])
    freezes = {}
    for inv in (by_requester, by_approval):
        asked = client.post(f"/v1/investigations/{inv['id']}/freeze", json={"reason": "hold"}, headers=rita)
        assert asked.status_code == 202, asked.text
        freezes[inv["id"]] = asked.json()["operation"]["id"]

    # Someone else's freeze: held for a second person, not cancelled.
    held = client.post(f"/v1/operations/{freezes[by_approval['id']]}/cancel", headers=ron)
    assert held.status_code == 202, held.text
    approval = held.json()["approval"]
    assert approval["status"] == "pending_approval" and approval["params"]["action"] == "freeze"
    assert (
        client.get(f"/v1/operations/{freezes[by_approval['id']]}", headers=ADMIN).json()["state"] == "queued"
    )
    approved = client.post(f"/v1/approvals/{approval['id']}/approve", headers=custodian)
    assert approved.status_code == 200, approved.text
    # The requester's own cancel acts at once.
    own = client.post(f"/v1/operations/{freezes[by_requester['id']]}/cancel", headers=rita)
    assert own.status_code == 202 and own.json()["state"] == "cancelled", own.text

    for inv in (by_requester, by_approval):
        detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
        assert detail["status"] == "needs_attention" and "cancelled" in detail["attention_reason"]
    release.set()
    for preview_id in previews:
        wait_operation(client, preview_id)
    clock.advance(hours=3)  # both have expired
    plan = _plan(client)
    for inv in (by_requester, by_approval):
        assert plan[inv["id"]][0] == "skip" and "needs attention" in plan[inv["id"]][1]
    report = teardown.run_teardown(ctx, clock())
    assert report.destroying == [] and set(report.skipped) >= {by_requester["id"], by_approval["id"]}
    assert audit_entries(client, action="investigation.destroy") == []
    for inv in (by_requester, by_approval):
        assert (
            client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "needs_attention"
        )


def test_extend_moves_expiry_and_rearms_the_warning(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    inv = open_ready(client, "SEC-410", ttl_hours=1)
    assert teardown.run_teardown(ctx, clock()).warned == [inv["id"]]
    response = client.post(
        f"/v1/investigations/{inv['id']}/extend", json={"hours": 3, "reason": "still imaging"}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["ttl_hours"] == 4
    assert _plan(client) == {}  # 4h left, outside the 1h window
    clock.advance(hours=3, minutes=30)
    assert teardown.run_teardown(ctx, clock()).warned == [inv["id"]]  # warned again for the new expiry
    entry = audit_entries(client, action="investigation.extend")[0]
    assert entry["details"]["hours"] == 3 and entry["details"]["reason"] == "still imaging"
    # Analysts may not extend; destroyed ones cannot be.
    analyst = client.post(
        "/v1/tokens", json={"principal": "ana@example.com", "role": "analyst"}, headers=ADMIN
    ).json()["token"]
    denied = client.post(
        f"/v1/investigations/{inv['id']}/extend",
        json={"hours": 1},
        headers={"Authorization": f"Bearer {analyst}"},
    )
    assert denied.status_code == 403


def _drifted(request: OperationRequest, cancel: threading.Event) -> OperationResult:
    return OperationResult(
        kind=request.kind,
        stack_name=request.stack_name,
        succeeded=True,
        drift=[
            {
                "urn": f"urn:pulumi:{request.stack_name}::forensics::aws:ec2/securityGroup:SecurityGroup::sg",
                "type": "aws:ec2/securityGroup:SecurityGroup",
                "op": "update",
            }
        ],
    )


def test_drift_check_alerts_and_never_remediates(
    client: TestClient,
    clock: TestClock,
    ctx: Integrations,
    executor: ScriptedExecutor,
    chat_server: RecordingServer,
) -> None:
    ctx.settings.slack_notify_url = f"{chat_server.url}/services/alerts"
    drifting = open_ready(client, "SEC-420")
    clean = open_ready(client, "SEC-421")
    assert teardown.run_drift_check(ctx, clock()).checked == []  # checked "recently" (at creation)
    executor.when(drifting["stack_name"], OperationKind.REFRESH, _drifted)

    clock.advance(hours=ctx.settings.drift_check_interval_hours + 1)
    report = teardown.run_drift_check(ctx, clock())
    assert sorted(report.checked) == sorted([drifting["id"], clean["id"]])
    for inv in (drifting, clean):
        detail = wait_status(client, inv["id"], "ready")
        refresh = [op for op in detail["timeline"] if op["action"] == "refresh"]
        assert len(refresh) == 1 and refresh[0]["requested_by"] == "drift-check"
        wait_operation(client, refresh[0]["id"])
    assert (
        client.get(f"/v1/investigations/{drifting['id']}", headers=ADMIN).json()["drift"]["drifted"] is True
    )

    assert _events(ctx, "SEC-420") == ["opened", "ready", "drift"]
    assert _events(ctx, "SEC-421") == ["opened", "ready"]
    alerts = audit_entries(client, action="investigation.drift_alert")
    assert [(a["target"], a["details"]["remediated"]) for a in alerts] == [
        (f"investigation/{drifting['id']}", False)
    ]
    with ctx.session_factory() as session:
        text = session.execute(
            select(OutboxMessage.payload).where(
                OutboxMessage.event == "drift", OutboxMessage.channel == "ticket"
            )
        ).scalar_one()["text"]
    assert "DRIFT" in text and "securityGroup" in text and "Nothing was changed" in text
    # Never remediated: the only operations after ready are the refreshes (no up, no destroy).
    kinds = [
        op["kind"]
        for op in client.get(f"/v1/investigations/{drifting['id']}", headers=ADMIN).json()["timeline"]
    ]
    assert kinds == ["up", "refresh"]
    alert = chat_server.wait_for(lambda got: len(got) >= 1)[0]
    assert alert.path == "/services/alerts" and alert.body["response_type"] == "in_channel"
    assert alert.body["text"].startswith("DRIFT detected")
    # The next run does not check again before the interval.
    assert teardown.run_drift_check(ctx, clock()).checked == []
