"""Just-in-time access through the API (fake engine, test clock): a person asks, a second person approves, the
grant is declared and applied by an `up` of the program, and the scheduler removes it once it expired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.access import service as access
from service.db.session import SessionFactory
from service.domain_events import StatusChanged
from service.integrations.notifications import notice_for
from service.investigation_states import Status
from service.investigations.models import Investigation
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.people import TEST_PEOPLE
from tests.support.settings import make_settings

ALICE = "alice@example.com"
BOB = "bob@example.com"
ALICE_ARN = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Forensics_0a1b"
BOB_ARN = "arn:aws:iam::123456789012:role/AWSReservedSSO_Custody_9f8e"


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def app(tmp_path: Path, fake: FakeExecutor, clock: TestClock) -> FastAPI:
    settings = make_settings(
        tmp_path,
        # The schedules run when the test says so, at the test clock's time.
        integrations_periodic_tasks=False,
        person_principals={ALICE: {"principal_arn": ALICE_ARN, "session_name": ALICE}, BOB: BOB_ARN},
        person_aliases=TEST_PEOPLE,
        max_grant_hours=12,
    )
    return create_app(settings, executor=fake, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _inv(app: FastAPI, investigation_id: str) -> Investigation:
    factory: SessionFactory = app.state.session_factory
    with factory() as session:
        inv = session.get(Investigation, investigation_id)
        assert inv is not None
        session.expunge(inv)
        return inv


def _ask(client: TestClient, inv_id: str, who: dict[str, str], **body: Any) -> Any:
    payload = {"role": "investigator", "hours": 1, "reason": "triage of the memory image", **body}
    return client.post(f"/v1/investigations/{inv_id}/access-requests", json=payload, headers=who)


def test_request_approval_by_another_person_and_expiry(
    app: FastAPI, client: TestClient, fake: FakeExecutor, clock: TestClock
) -> None:
    inv = open_ready(client)
    # Alice holds the approving permission herself (a data custodian): still not for her own request.
    alice, bob = issue(client, "data_custodian", ALICE), issue(client, "data_custodian", BOB)
    responder = issue(client, "responder", "carol@example.com")

    # No AWS principal configured for this person: nothing to put in a trust policy.
    refused = _ask(client, inv["id"], responder)
    assert refused.status_code == 422 and "no AWS principal" in refused.json()["error"]["message"]
    too_long = _ask(client, inv["id"], alice, hours=13)
    assert too_long.status_code == 422 and "between 1 and 12" in too_long.json()["error"]["message"]
    assert _ask(client, inv["id"], alice, role="admin").status_code == 422

    asked = _ask(client, inv["id"], alice)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["person"], request["principal_arn"]) == ("requested", ALICE, ALICE_ARN)
    assert _ask(client, inv["id"], alice).status_code == 409  # one waiting request per person and role

    # Self-approval is refused even with the permission; without it, anyone is refused.
    own = client.post(f"/v1/access-requests/{request['id']}/approve", headers=alice)
    assert own.status_code == 403 and "another person" in own.json()["error"]["message"]
    unentitled = client.post(f"/v1/access-requests/{request['id']}/approve", headers=responder)
    assert unentitled.status_code == 403
    assert _inv(app, inv["id"]).grants == []

    calls_before = len(fake.calls)
    approved_at = clock()
    approved = client.post(f"/v1/access-requests/{request['id']}/approve", json={"reason": "ok"}, headers=bob)
    assert approved.status_code == 202, approved.text
    body = approved.json()
    expires = (approved_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["access_request"]["status"] == "approved"
    assert body["access_request"]["decided_by"] == BOB
    assert body["operation"]["action"] == "grant" and body["operation"]["kind"] == "up"
    assert client.post(f"/v1/access-requests/{request['id']}/approve", headers=bob).status_code == 409

    # Declared, then applied through the program: the `up` carries the grant in the stack config.
    declared = _inv(app, inv["id"]).grants
    assert declared == [
        {
            "requestId": request["id"],
            "role": "investigator",
            "principalArn": ALICE_ARN,
            "person": ALICE,
            "expiresAt": expires,
            # Her permission set is shared: the grant is bound to her own session of it.
            "sessionName": ALICE,
        }
    ]
    op = wait_operation(client, body["operation"]["id"])
    assert op["state"] == "succeeded", op
    (up,) = fake.calls[calls_before:]
    assert up.kind == "up"
    assert up.config["grants"] == [
        {
            "role": "investigator",
            "principalArn": ALICE_ARN,
            "person": ALICE,
            "expiresAt": expires,
            "sessionName": ALICE,
        }
    ]
    listed = client.get(f"/v1/investigations/{inv['id']}/access-requests", headers=responder).json()
    assert [(r["id"], r["status"]) for r in listed] == [(request["id"], "active")]

    # A denial changes nothing in AWS.
    other = _ask(client, inv["id"], bob, role="analyst").json()
    denied = client.post(
        f"/v1/access-requests/{other['id']}/deny", json={"reason": "not needed"}, headers=alice
    )
    assert denied.status_code == 200 and denied.json()["access_request"]["status"] == "denied"
    assert denied.json()["operation"] is None
    assert len(_inv(app, inv["id"]).grants) == 1

    # Before the expiry the scheduler leaves it alone.
    jobs_ctx = app.state.jobs.ctx
    clock.advance(minutes=59)
    assert access.expire_grants(jobs_ctx, clock()).expired == []

    # Past it: dropped from the declared state, and an `up` takes it out of the trust policy.
    clock.advance(minutes=2)
    calls_before = len(fake.calls)
    report = access.expire_grants(jobs_ctx, clock())
    assert report.expired == [request["id"]] and report.errors == {}
    sync = report.synced[inv["id"]]
    assert sync is not None
    assert _inv(app, inv["id"]).grants == []
    assert wait_operation(client, sync)["state"] == "succeeded"
    (up,) = fake.calls[calls_before:]
    assert "grants" not in up.config
    expired = client.get(f"/v1/access-requests/{request['id']}", headers=ADMIN).json()
    assert expired["status"] == "expired"
    assert access.expire_grants(jobs_ctx, clock()).expired == []  # nothing twice

    # The custody report says who held which role, granted by whom, until when.
    report_html = client.get(f"/v1/investigations/{inv['id']}/report", headers=ADMIN).text
    assert ALICE_ARN in report_html and "investigator" in report_html and BOB in report_html
    assert "No grants recorded" not in report_html

    audited = client.get("/v1/audit", params={"limit": 200}, headers=ADMIN).json()
    actions = [e["action"] for e in audited["items"] if e["action"].startswith("access.")]
    assert sorted(set(actions)) == sorted(
        {"access.request", "access.approve", "access.active", "access.deny", "access.expire"}
    )


def test_frozen_clean_rooms_take_custodian_grants_only(
    app: FastAPI, client: TestClient, fake: FakeExecutor
) -> None:
    inv = open_ready(client)
    alice, bob = issue(client, "investigator", ALICE), issue(client, "data_custodian", BOB)
    approver = issue(client, "data_custodian", "dana@example.com")
    investigator = _ask(client, inv["id"], alice).json()
    approved = client.post(f"/v1/access-requests/{investigator['id']}/approve", headers=approver).json()
    assert wait_operation(client, approved["operation"]["id"])["state"] == "succeeded"

    # The freeze's own effect on the declared state (tests/investigations/test_freeze.py runs it for real).
    with app.state.session_factory() as session:
        session.execute(
            update(Investigation).where(Investigation.id == inv["id"]).values(status="frozen", frozen=True)
        )
        session.commit()

    # Still declared (the release declares it again), but the program leaves it out while frozen.
    (listed,) = client.get(f"/v1/investigations/{inv['id']}/access-requests", headers=alice).json()
    assert (listed["status"], listed["suspended_by_freeze"]) == ("active", True)
    refused = _ask(client, inv["id"], alice, role="analyst")
    assert refused.status_code == 409 and "only custodian" in refused.json()["error"]["message"]
    # The frozen notice (ticket and chat) names the access the freeze took away.
    with app.state.session_factory() as session:
        frozen = notice_for(session, StatusChanged(inv["id"], Status.FREEZING, Status.FROZEN, "freeze", "x"))
    assert (
        frozen is not None
        and f"Access revoked by the freeze (until a release): {ALICE} (investigator)" in (frozen.detail or "")
    )

    custodian = _ask(client, inv["id"], bob, role="custodian").json()
    calls_before = len(fake.calls)
    approved = client.post(f"/v1/access-requests/{custodian['id']}/approve", headers=approver).json()
    assert wait_operation(client, approved["operation"]["id"])["state"] == "succeeded"
    (up,) = fake.calls[calls_before:]
    assert up.config["frozen"] is True
    assert sorted(g["role"] for g in up.config["grants"]) == ["custodian", "investigator"]
    roles = {
        r["role"]: r
        for r in client.get(f"/v1/investigations/{inv['id']}/access-requests", headers=bob).json()
    }
    assert roles["custodian"]["suspended_by_freeze"] is False

    # Giving up one's own grant needs no approving permission; the service applies it.
    calls_before = len(fake.calls)
    revoked = client.post(f"/v1/access-requests/{custodian['id']}/revoke", headers=bob)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["access_request"]["status"] == "revoked"
    sync = revoked.json()["operation"]
    assert sync["requested_by"] == "access-sync"
    assert wait_operation(client, sync["id"])["state"] == "succeeded"
    (up,) = fake.calls[calls_before:]
    assert [g["role"] for g in up.config["grants"]] == ["investigator"]
    # Someone else's grant is taken back by an approver only.
    assert client.post(f"/v1/access-requests/{investigator['id']}/revoke", headers=bob).status_code == 200
    assert client.post(f"/v1/access-requests/{investigator['id']}/revoke", headers=bob).status_code == 409
