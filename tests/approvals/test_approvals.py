"""The two-person rule and break-glass through the API (fake engine; a release runs with its legal hold in the
local AWS). Persons, not tokens, are compared; time is the test clock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.approvals import service as approvals
from service.auth.persons import person_of
from service.auth.roles import Role
from service.auth.service import Principal
from service.config import Settings
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, issue, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.people import TEST_PEOPLE
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

ALICE = "alice@example.com"
ALICE_LAPTOP = "alice-laptop@example.com"
BOB = "bob@example.com"
OFFICER = "oncall-officer@example.com"


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:

    return make_settings(
        tmp_path,
        operation_stale_seconds=10**7,
        # Expiry is driven by the test clock (app.state.jobs.expire_approvals), not the schedule.
        integrations_periodic_tasks=False,
        # Alice's second token is still Alice.
        person_aliases={**TEST_PEOPLE, ALICE: "alice", ALICE_LAPTOP: "alice"},
    )


@pytest.fixture
def app(settings: Settings, fake: FakeExecutor, clock: TestClock) -> FastAPI:
    return create_app(settings, executor=fake, clock=clock)


def _audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    response = client.get("/v1/audit", params={"action": action, "limit": 100}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _timeline(client: TestClient, investigation_id: str) -> list[str]:
    detail = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    return [op["action"] for op in detail["timeline"]]


def _status(client: TestClient, investigation_id: str) -> str:
    return str(client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["status"])


def _held(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"approval", "message"}, body
    assert body["approval"]["status"] == "pending_approval"
    assert "second person" in body["message"] and "/approve" in body["message"]
    return dict(body["approval"])


def _destroy_unretained(client: TestClient, investigation_id: str, headers: dict[str, str]) -> Any:
    return client.post(
        f"/v1/investigations/{investigation_id}/destroy",
        json={"retain_evidence_bucket": False, "reason": "case closed, evidence exported"},
        headers=headers,
    )


# Persons


def test_a_person_is_one_person_across_tokens_and_chat_accounts(settings: Settings) -> None:
    aliased = settings.model_copy(update={"person_aliases": {ALICE_LAPTOP: ALICE, "U42": ALICE}})
    custodian = Role.DATA_CUSTODIAN
    assert person_of(aliased, Principal(ALICE, custodian)) == ALICE
    assert person_of(aliased, Principal(ALICE_LAPTOP, custodian)) == ALICE
    # A chat user is their user id (mapped here to Alice), whatever display name the command carries.
    assert person_of(aliased, Principal("slack:U42(alice)", custodian)) == ALICE
    assert person_of(aliased, "slack:U42(someone-else)") == ALICE
    assert person_of(aliased, "slack:U7(bob)") == person_of(aliased, "slack:U7") == "slack:U7"
    assert person_of(aliased, BOB) == BOB


# Release


@pytest.fixture
def bucket(local_aws: LocalAws) -> Iterator[str]:
    name = f"forensics-approvals-{uuid.uuid4().hex[:12]}-evidence"  # a clean room's evidence bucket name
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=name, Key="disk.img", Body=b"evidence", ChecksumAlgorithm="SHA256")
    yield name
    for v in s3.list_object_versions(Bucket=name).get("Versions", []):
        s3.put_object_legal_hold(
            Bucket=name, Key=v["Key"], VersionId=v["VersionId"], LegalHold={"Status": "OFF"}
        )
        s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True)
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def aws_client(
    settings: Settings, fake: FakeExecutor, clock: TestClock, local_aws: LocalAws, bucket: str
) -> Iterator[TestClient]:
    """The fake engine, with the legal hold placed and lifted for real in the local AWS."""
    fake.bucket = bucket
    local = settings.model_copy(
        update={
            "aws_endpoint_url": local_aws.endpoint_url,
            "aws_verify_tls": False,
            "audit_anchor_bucket": f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}",
        }
    )
    seed(local)
    with TestClient(create_app(local, executor=fake, clock=clock)) as client:
        yield client


def test_a_release_waits_for_a_second_person_and_runs_once_approved(aws_client: TestClient) -> None:
    client = aws_client
    inv = open_ready(client)
    frozen = client.post(
        f"/v1/investigations/{inv['id']}/freeze", json={"reason": "litigation"}, headers=ADMIN
    )
    assert wait_operation(client, frozen.json()["operation"]["id"])["state"] == "succeeded"
    alice = issue(client, "data_custodian", ALICE)
    alice_laptop = issue(client, "data_custodian", ALICE_LAPTOP)
    bob = issue(client, "data_custodian", BOB)
    responder = issue(client, "responder")

    # Asked for: held, nothing queued, still frozen.
    body = {"reason": "counsel agreed"}
    held = _held(client.post(f"/v1/investigations/{inv['id']}/release", json=body, headers=alice))
    assert (held["action"], held["requested_by"], held["requester_person"]) == ("release", ALICE, "alice")
    assert "legal hold" in held["rule"] and held["params"] == {
        "reason": "counsel agreed",
        "remove_legal_holds": False,
    }
    assert _status(client, inv["id"]) == "frozen" and _timeline(client, inv["id"]) == ["open", "freeze"]
    waiting = client.get("/v1/approvals", params={"status": "pending_approval"}, headers=responder).json()
    assert [a["id"] for a in waiting["items"]] == [held["id"]] and waiting["total"] == 1
    # Asking again while it waits is the same request.
    again = _held(client.post(f"/v1/investigations/{inv['id']}/release", json=body, headers=alice_laptop))
    assert again["id"] == held["id"]

    # Not the requester, not their other token, not someone without the permission.
    own = client.post(f"/v1/approvals/{held['id']}/approve", headers=alice)
    assert own.status_code == 403, own.text
    assert "same person" in own.json()["error"]["message"]
    assert own.json()["error"]["details"]["rule"] == "two_person"
    second_token = client.post(f"/v1/approvals/{held['id']}/approve", headers=alice_laptop)
    assert (
        second_token.status_code == 403 and "same person (alice)" in second_token.json()["error"]["message"]
    )
    assert client.post(f"/v1/approvals/{held['id']}/approve", headers=responder).status_code == 403
    assert _status(client, inv["id"]) == "frozen" and _timeline(client, inv["id"]) == ["open", "freeze"]

    # A second custodian: the release is queued as Alice asked it, in her name, with Bob recorded.
    approved = client.post(
        f"/v1/approvals/{held['id']}/approve", json={"reason": "seen the order"}, headers=bob
    )
    assert approved.status_code == 200, approved.text
    decision = approved.json()
    assert decision["approval"]["status"] == "approved" and decision["approval"]["decided_by_person"] == BOB
    op = decision["operation"]
    assert (op["action"], op["requested_by"]) == ("release", ALICE)
    assert op["params"]["approved_by"] == BOB and op["params"]["approval_id"] == held["id"]
    assert op["params"]["reason"] == "counsel agreed" and op["params"]["remove_legal_holds"] is False
    assert decision["approval"]["operation_id"] == op["id"]
    assert wait_operation(client, op["id"])["state"] == "succeeded"
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert (detail["status"], detail["frozen"], detail["legal_hold"]) == ("ready", False, True)

    # Decided once.
    twice = client.post(f"/v1/approvals/{held['id']}/approve", headers=bob)
    assert twice.status_code == 409 and "already approved" in twice.json()["error"]["message"]
    assert _timeline(client, inv["id"]) == ["open", "freeze", "release"]

    # Every step in the audit log.
    release = _audit(client, "investigation.release")
    assert [(e["actor"], e["outcome"]) for e in reversed(release)] == [
        (ALICE, "pending_approval"),
        (ALICE_LAPTOP, "pending_approval"),
        (ALICE, "accepted"),
    ]
    assert release[0]["details"]["approved_by"] == BOB and release[0]["details"]["operation_id"] == op["id"]
    approve = _audit(client, "approval.approve")
    assert [(e["actor"], e["details"]["requested_by"]) for e in approve] == [(BOB, ALICE)]
    refused = _audit(client, f"POST /v1/approvals/{held['id']}/approve")
    assert sorted(e["outcome"] for e in refused) == ["refused:forbidden"] * 3 + ["refused:state_conflict"]


def test_lifting_legal_holds_is_a_retention_change(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client)
    _freeze_in_db(app, inv["id"])
    alice = issue(client, "data_custodian", ALICE)
    held = _held(
        client.post(
            f"/v1/investigations/{inv['id']}/release",
            json={"reason": "retention over", "remove_legal_holds": True},
            headers=alice,
        )
    )
    assert "retention change" in held["rule"]


def _freeze_in_db(app: FastAPI, investigation_id: str) -> None:
    """Frozen as a real freeze leaves it, without the local AWS (nothing here runs the release)."""
    from service.investigation_states import Status
    from service.investigations.models import Investigation

    with app.state.session_factory() as session:
        inv = session.get(Investigation, investigation_id)
        inv.status, inv.frozen, inv.legal_hold = Status.FROZEN, True, True
        session.commit()


# Destroy without the evidence bucket, deny, expiry


def test_destroy_without_the_evidence_bucket_waits_and_runs_once(
    client: TestClient, fake: FakeExecutor
) -> None:
    inv = open_ready(client)
    alice, bob = issue(client, "data_custodian", ALICE), issue(client, "data_custodian", BOB)
    # Keeping the bucket needs nobody else.
    held = _held(_destroy_unretained(client, inv["id"], alice))
    assert "deletes evidence" in held["rule"]
    assert _status(client, inv["id"]) == "ready" and _timeline(client, inv["id"]) == ["open"]

    approved = client.post(f"/v1/approvals/{held['id']}/approve", headers=bob)
    assert approved.status_code == 200, approved.text
    op = approved.json()["operation"]
    assert approved.json()["investigation"]["status"] == "destroying"
    assert wait_operation(client, op["id"])["state"] == "succeeded"
    assert [(c.kind, c.config["retainEvidenceBucket"]) for c in fake.calls[1:]] == [
        ("up", False),
        ("destroy", False),
    ]
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert (detail["status"], detail["outputs"], detail["retain_evidence_bucket"]) == ("destroyed", {}, False)
    assert client.post(f"/v1/approvals/{held['id']}/approve", headers=ADMIN).status_code == 409
    assert (
        client.post(f"/v1/approvals/{held['id']}/deny", json={"reason": "too late"}, headers=bob).status_code
        == 409
    )
    assert _timeline(client, inv["id"]) == ["open", "destroy"]


def test_a_denied_request_does_nothing(client: TestClient) -> None:
    inv = open_ready(client)
    alice, bob = issue(client, "data_custodian", ALICE), issue(client, "data_custodian", BOB)
    held = _held(_destroy_unretained(client, inv["id"], alice))
    assert client.post(f"/v1/approvals/{held['id']}/deny", json={}, headers=bob).status_code == 422
    responder = issue(client, "responder")
    by_responder = client.post(f"/v1/approvals/{held['id']}/deny", json={"reason": "nope"}, headers=responder)
    assert by_responder.status_code == 403

    denied = client.post(
        f"/v1/approvals/{held['id']}/deny", json={"reason": "keep the evidence"}, headers=bob
    )
    assert denied.status_code == 200, denied.text
    body = denied.json()
    assert (
        body["approval"]["status"] == "denied" and body["approval"]["decision_reason"] == "keep the evidence"
    )
    assert body["operation"] is None and "nothing was done" in body["message"]
    late = client.post(f"/v1/approvals/{held['id']}/approve", headers=bob)
    assert late.status_code == 409 and "already denied by bob@example.com" in late.json()["error"]["message"]
    assert _status(client, inv["id"]) == "ready" and _timeline(client, inv["id"]) == ["open"]
    entry = _audit(client, "approval.deny")[0]
    assert (entry["actor"], entry["details"]["reason"], entry["details"]["requested_by"]) == (
        BOB,
        "keep the evidence",
        ALICE,
    )
    assert client.get("/v1/approvals", params={"status": "denied"}, headers=responder).json()["total"] == 1


def test_an_expired_request_can_no_longer_be_approved(
    client: TestClient, app: FastAPI, clock: TestClock
) -> None:
    inv = open_ready(client)
    alice, bob = issue(client, "data_custodian", ALICE), issue(client, "data_custodian", BOB)
    held = _held(_destroy_unretained(client, inv["id"], alice))
    settings: Settings = app.state.settings
    clock.advance(hours=settings.approval_ttl_hours, seconds=1)

    # Past its expiry it is refused even before the periodic task marks it.
    late = client.post(f"/v1/approvals/{held['id']}/approve", headers=bob)
    assert late.status_code == 409 and "expired" in late.json()["error"]["message"]
    assert late.json()["error"]["details"]["status"] == "expired"
    assert _status(client, inv["id"]) == "ready" and _timeline(client, inv["id"]) == ["open"]

    assert app.state.jobs.expire_approvals() == [held["id"]]
    assert app.state.jobs.expire_approvals() == []
    row = client.get(f"/v1/approvals/{held['id']}", headers=ADMIN).json()
    assert row["status"] == "expired" and row["decided_by"] is None
    entry = _audit(client, "approval.expire")[0]
    assert (entry["actor"], entry["target"]) == ("system", f"approval/{held['id']}")
    assert client.post(f"/v1/approvals/{held['id']}/approve", headers=bob).status_code == 409
    assert _timeline(client, inv["id"]) == ["open"]


# Extend


def test_an_extension_beyond_the_limit_needs_a_second_person(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client, ttl_hours=24)
    limit = app.state.settings.two_person_extension_hours
    responder, alice = issue(client, "responder"), issue(client, "data_custodian", ALICE)

    within = client.post(f"/v1/investigations/{inv['id']}/extend", json={"hours": limit}, headers=responder)
    assert within.status_code == 200, within.text
    assert within.json()["ttl_hours"] == 24 + limit

    beyond = client.post(
        f"/v1/investigations/{inv['id']}/extend",
        json={"hours": limit + 1, "reason": "imaging"},
        headers=responder,
    )
    held = _held(beyond)
    assert held["action"] == "extend" and f"{limit} hours" in held["rule"]
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["ttl_hours"] == 24 + limit

    approved = client.post(f"/v1/approvals/{held['id']}/approve", headers=alice)
    assert approved.status_code == 200, approved.text
    assert approved.json()["operation"] is None
    assert approved.json()["investigation"]["ttl_hours"] == 24 + 2 * limit + 1
    extended = _audit(client, "investigation.extend")
    assert [(e["actor"], e["outcome"]) for e in reversed(extended)] == [
        ("responder@example.com", "ok"),
        ("responder@example.com", "pending_approval"),
        ("responder@example.com", "ok"),
    ]
    assert extended[0]["details"]["approved_by"] == ALICE and extended[0]["details"]["reason"] == "imaging"


# Cancel


def test_cancelling_a_custodians_destroy_by_someone_else_needs_a_second_person(
    client: TestClient, fake: FakeExecutor
) -> None:
    inv = open_ready(client)
    release = threading.Event()
    fake.script.append(block_until(release))
    preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN).json()["operation"]
    wait_operation(client, preview["id"], until=("running",))
    alice, responder = issue(client, "data_custodian", ALICE), issue(client, "responder")
    destroy = client.post(f"/v1/investigations/{inv['id']}/destroy", headers=alice)
    assert destroy.status_code == 202, destroy.text
    op_id = destroy.json()["operation"]["id"]

    held = _held(client.post(f"/v1/operations/{op_id}/cancel", headers=responder))
    assert held["action"] == "cancel" and held["params"] == {"operation_id": op_id, "action": "destroy"}
    assert held["operation_id"] == op_id
    assert client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()["state"] == "queued"
    # The responder cannot approve their own cancel, nor could they cancel a destroy alone.
    assert client.post(f"/v1/approvals/{held['id']}/approve", headers=responder).status_code == 403

    approved = client.post(f"/v1/approvals/{held['id']}/approve", headers=alice)
    assert approved.status_code == 200, approved.text
    assert (
        approved.json()["operation"]["id"] == op_id and approved.json()["operation"]["state"] == "cancelled"
    )
    assert _status(client, inv["id"]) == "ready"
    cancels = _audit(client, "operation.cancel")
    assert [(e["actor"], e["outcome"]) for e in reversed(cancels)] == [
        ("responder@example.com", "pending_approval"),
        ("responder@example.com", "cancelled"),
    ]
    assert cancels[0]["details"]["approved_by"] == ALICE
    release.set()
    wait_operation(client, preview["id"])


# Break-glass


def test_break_glass_acts_at_once_and_is_recorded(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client)
    _freeze_in_db(app, inv["id"])
    officer, responder = issue(client, "break_glass_officer", OFFICER), issue(client, "responder")
    url = f"/v1/investigations/{inv['id']}/break-glass"
    params = {"reason": "counsel unreachable, the court ordered the room back"}
    reason = "ransomware spreading from the clean room, nobody else reachable"

    short = client.post(
        url, json={"action": "release", "params": params, "reason": "urgent"}, headers=officer
    )
    assert short.status_code == 422
    needless = client.post(url, json={"action": "freeze", "params": {}, "reason": reason}, headers=officer)
    assert needless.status_code == 422 and "nothing to break glass for" in needless.json()["error"]["message"]
    bad = client.post(
        url, json={"action": "release", "params": {**params, "nope": 1}, "reason": reason}, headers=officer
    )
    assert (
        bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "body.params.nope"
    )
    assert _timeline(client, inv["id"]) == ["open"]

    response = client.post(
        url, json={"action": "release", "params": params, "reason": reason}, headers=officer
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["approval"]["status"] == "break_glass" and body["approval"]["reason"] == reason
    assert (
        body["approval"]["decided_by"] == OFFICER
        and body["approval"]["operation_id"] == body["operation"]["id"]
    )
    assert body["operation"]["params"]["break_glass"] is True
    assert body["operation"]["params"]["remove_legal_holds"] is False
    assert body["operation"]["requested_by"] == OFFICER and body["investigation"]["status"] == "releasing"
    wait_operation(client, body["operation"]["id"])

    entry = _audit(client, "investigation.break_glass")[0]
    assert (entry["actor"], entry["outcome"], entry["details"]["reason"]) == (OFFICER, "break_glass", reason)
    assert entry["details"]["operation_id"] == body["operation"]["id"]
    assert _audit(client, "investigation.release")[0]["details"]["approval_id"] == body["approval"]["id"]
    with app.state.session_factory() as session:
        uses = approvals.break_glass_uses(session, inv["id"])
        assert [(u.id, u.action, u.requested_by) for u in uses] == [
            (body["approval"]["id"], "release", OFFICER)
        ]
    listed = client.get("/v1/approvals", params={"status": "break_glass"}, headers=responder).json()
    assert listed["total"] == 1


def test_break_glass_is_the_officers_alone(client: TestClient, app: FastAPI) -> None:
    """A custodian (or a responder, or an admin) cannot act alone on what the two-person rule holds: the
    break-glass permission belongs to a role of its own. Each refusal is audited."""
    inv = open_ready(client)
    _freeze_in_db(app, inv["id"])
    url = f"/v1/investigations/{inv['id']}/break-glass"
    body = {
        "action": "release",
        "params": {"reason": "counsel unreachable"},
        "reason": "ransomware spreading, nobody else reachable",
    }
    for role, principal in (("data_custodian", ALICE), ("responder", None), ("admin", None)):
        refused = client.post(url, json=body, headers=issue(client, role, principal))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["error"]["details"]["permission"] == "break_glass"
    assert _status(client, inv["id"]) == "frozen" and _timeline(client, inv["id"]) == ["open"]
    audited = _audit(client, f"POST {url.split('?')[0]}")
    assert [e["outcome"] for e in audited] == ["refused:forbidden"] * 3
    assert _audit(client, "investigation.break_glass") == []


@pytest.mark.parametrize(
    ("action", "params", "frozen"),
    [
        ("release", {"remove_legal_holds": True, "reason": "retention is over"}, True),
        ("destroy", {"retain_evidence_bucket": False, "reason": "disk full, evidence exported"}, False),
    ],
)
def test_break_glass_never_deletes_evidence_nor_lifts_holds(
    client: TestClient, app: FastAPI, action: str, params: dict[str, Any], frozen: bool
) -> None:
    inv = open_ready(client)
    if frozen:
        _freeze_in_db(app, inv["id"])
    before = _status(client, inv["id"])
    officer = issue(client, "break_glass_officer", OFFICER)
    refused = client.post(
        f"/v1/investigations/{inv['id']}/break-glass",
        json={"action": action, "params": params, "reason": "nobody else reachable, it must happen now"},
        headers=officer,
    )
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["details"]["rule"] == "two_person" and "always needs a second person" in error["message"]
    assert _status(client, inv["id"]) == before and _timeline(client, inv["id"]) == ["open"]
    assert _audit(client, "investigation.break_glass") == []
    with app.state.session_factory() as session:
        assert approvals.break_glass_uses(session, inv["id"]) == []


def test_break_glass_extends_at_once(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client, ttl_hours=24)
    responder = issue(client, "break_glass_officer", OFFICER)
    hours = app.state.settings.two_person_extension_hours + 24
    response = client.post(
        f"/v1/investigations/{inv['id']}/break-glass",
        json={"action": "extend", "params": {"hours": hours}, "reason": "weekend, custodians unreachable"},
        headers=responder,
    )
    assert response.status_code == 202, response.text
    assert response.json()["operation"] is None
    assert response.json()["investigation"]["ttl_hours"] == 24 + hours
