from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from service.orchestration.fake_engine import FakeExecutor, block_until, fail_with
from service.orchestration.messages import PolicyViolation
from tests.support.api import ADMIN, issue, open_body, open_ready, wait_operation


def test_open_answers_202_with_the_investigation_and_its_up(client: TestClient, fake: FakeExecutor) -> None:
    response = client.post(
        "/v1/investigations",
        json=open_body(tags={"team": "ir"}),
        headers=ADMIN,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    inv, op = body["investigation"], body["operation"]
    assert inv["status"] == "opening"
    assert inv["stack_name"] == f"inv-{inv['id']}"
    assert response.headers["location"] == f"/v1/investigations/{inv['id']}"
    assert (op["kind"], op["action"], op["sequence"]) == ("up", "open", 1)

    done = wait_operation(client, op["id"])
    assert done["state"] == "succeeded"
    assert done["progress"] == {"done": 1, "planned": 1}
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert detail["status"] == "ready"
    assert detail["outputs"]["vpcId"] == "vpc-123"
    assert detail["policy_results"]["passed"] is True
    assert [t["id"] for t in detail["timeline"]] == [op["id"]]
    (call,) = fake.calls
    assert call.config["investigationId"] == inv["id"]
    assert call.config["ticket"] == "SEC-123"
    assert call.config["evidenceSnapshotIds"] == []  # evidence is acquired, never mounted by id
    assert call.config["amiSsmParameter"] == "/forensics/golden-ami/latest"
    assert call.config["frozen"] is False


def test_idempotency_key_and_open_ticket_return_the_existing_investigation(client: TestClient) -> None:
    headers = {**ADMIN, "Idempotency-Key": "req-1"}
    first = client.post("/v1/investigations", json=open_body(), headers=headers)
    again = client.post("/v1/investigations", json=open_body(), headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["investigation"]["id"] == first.json()["investigation"]["id"]
    assert again.json()["operation"]["id"] == first.json()["operation"]["id"]

    same_ticket = client.post("/v1/investigations", json=open_body(title="another title"), headers=ADMIN)
    assert same_ticket.status_code == 200
    assert same_ticket.json()["investigation"]["id"] == first.json()["investigation"]["id"]

    reused = client.post("/v1/investigations", json=open_body("SEC-999"), headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_conflict"

    listing = client.get("/v1/investigations", headers=ADMIN).json()
    assert listing["total"] == 1


def test_list_filters_and_paginates(client: TestClient) -> None:
    ids = [open_ready(client, f"SEC-{n}")["id"] for n in range(3)]
    page = client.get("/v1/investigations?limit=2&offset=0", headers=ADMIN).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    rest = client.get("/v1/investigations?limit=2&offset=2", headers=ADMIN).json()
    assert {i["id"] for i in page["items"] + rest["items"]} == set(ids)
    assert client.get("/v1/investigations?ticket=SEC-1", headers=ADMIN).json()["items"][0]["id"] == ids[1]
    assert client.get("/v1/investigations?status=ready", headers=ADMIN).json()["total"] == 3
    assert client.get("/v1/investigations?status=frozen", headers=ADMIN).json()["total"] == 0
    assert client.get("/v1/investigations?status=bogus", headers=ADMIN).status_code == 422


def test_preview_and_refresh_report_without_changing_status(client: TestClient, fake: FakeExecutor) -> None:
    inv = open_ready(client)
    preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN)
    assert preview.status_code == 202
    assert preview.json()["operation"]["kind"] == "preview"
    assert wait_operation(client, preview.json()["operation"]["id"])["state"] == "succeeded"

    from service.orchestration.messages import OperationResult

    def drifted(request, cancel):  # type: ignore[no-untyped-def]
        return OperationResult(
            kind=request.kind,
            stack_name=request.stack_name,
            succeeded=True,
            drift=[
                {
                    "urn": "urn:x",
                    "resource_type": "aws:ec2/securityGroup:SecurityGroup",
                    "op": "update",
                    "properties": ["ingress"],
                }
            ],
        )

    fake.script.append(drifted)
    refresh = client.post(f"/v1/investigations/{inv['id']}/refresh", headers=ADMIN)
    op = wait_operation(client, refresh.json()["operation"]["id"])
    assert op["kind"] == "refresh" and op["state"] == "succeeded"
    assert op["result"]["drift"][0]["properties"] == ["ingress"]
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert detail["status"] == "ready"
    assert detail["drift"]["drifted"] is True
    assert [c.kind for c in fake.calls] == ["up", "preview", "refresh"]


def test_policy_violation_is_reported_with_policy_names(client: TestClient, fake: FakeExecutor) -> None:
    violation = PolicyViolation(
        policy_pack="forensics", policy_name="no-public-ingress", message="SG open to world"
    )
    fake.script.append(fail_with("policy_violation", "blocked by policy: no-public-ingress", [violation]))
    response = client.post("/v1/investigations", json=open_body(), headers=ADMIN)
    op = wait_operation(client, response.json()["operation"]["id"])
    assert op["state"] == "failed"
    assert op["error"] == {"code": "policy_violation", "message": "blocked by policy: no-public-ingress"}
    detail = client.get(f"/v1/investigations/{response.json()['investigation']['id']}", headers=ADMIN).json()
    assert detail["status"] == "failed"
    assert detail["policy_results"]["passed"] is False
    assert detail["policy_results"]["violations"][0]["policy_name"] == "no-public-ingress"


def test_concurrent_update_is_retried_not_a_conflict(client: TestClient, fake: FakeExecutor) -> None:
    fake.script.append(fail_with("concurrent_update", "another operation holds this stack's lock"))
    response = client.post("/v1/investigations", json=open_body(), headers=ADMIN)
    op = wait_operation(client, response.json()["operation"]["id"])
    assert op["state"] == "succeeded"
    assert op["params"]["concurrent_update_retries"] == 1
    assert len(fake.calls) == 2


def test_operations_of_one_investigation_run_in_order(client: TestClient, fake: FakeExecutor) -> None:
    release = threading.Event()
    fake.script.append(block_until(release))
    opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    later = [
        client.post(f"/v1/investigations/{inv_id}/{kind}", headers=ADMIN).json()["operation"]
        for kind in ("preview", "refresh", "preview")
    ]
    assert [op["sequence"] for op in later] == [2, 3, 4]
    assert all(op["state"] == "queued" for op in later)
    release.set()
    for op in later:
        assert wait_operation(client, op["id"])["state"] == "succeeded"
    assert [c.kind for c in fake.calls] == ["up", "preview", "refresh", "preview"]
    for before, after in zip(fake.calls, fake.calls[1:], strict=False):
        assert before.ended <= after.started


def test_different_investigations_run_in_parallel(client: TestClient, fake: FakeExecutor) -> None:
    release = threading.Event()
    fake.script.extend([block_until(release), block_until(release)])
    ops = [
        client.post("/v1/investigations", json=open_body(f"SEC-{n}"), headers=ADMIN).json()["operation"]
        for n in (1, 2)
    ]
    for op in ops:
        wait_operation(client, op["id"], until=("running",))
    release.set()
    for op in ops:
        assert wait_operation(client, op["id"])["state"] == "succeeded"


def test_destroy_with_bucket_deletion_needs_a_custodian_and_applies_an_up_first(
    client: TestClient, fake: FakeExecutor
) -> None:
    inv = open_ready(client)
    responder = issue(client, "responder")
    custodian = issue(client, "data_custodian")
    assert client.post(f"/v1/investigations/{inv['id']}/destroy", headers=responder).status_code == 403
    denied = client.post(
        f"/v1/investigations/{inv['id']}/destroy",
        json={"retain_evidence_bucket": False},
        headers=issue(client, "responder", "r2"),
    )
    assert denied.status_code == 403

    response = client.post(
        f"/v1/investigations/{inv['id']}/destroy",
        json={"retain_evidence_bucket": False, "reason": "case closed"},
        headers=custodian,
    )
    assert response.status_code == 202, response.text
    # Deleting evidence waits for a second custodian (tests/approvals/test_approvals.py).
    second = issue(client, "data_custodian", "second@example.com")
    response = client.post(f"/v1/approvals/{response.json()['approval']['id']}/approve", headers=second)
    assert response.status_code == 200, response.text
    assert response.json()["investigation"]["status"] == "destroying"
    op = wait_operation(client, response.json()["operation"]["id"])
    assert op["state"] == "succeeded"
    assert [(c.kind, c.config["retainEvidenceBucket"]) for c in fake.calls[1:]] == [
        ("up", False),
        ("destroy", False),
    ]
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert detail["status"] == "destroyed"
    assert detail["outputs"] == {}
    # The ticket is free again once its investigation is destroyed.
    again = client.post("/v1/investigations", json=open_body(), headers=ADMIN)
    assert again.status_code == 202 and again.json()["investigation"]["id"] != inv["id"]


def test_destroy_keeps_the_evidence_bucket_by_default(client: TestClient, fake: FakeExecutor) -> None:
    inv = open_ready(client)
    response = client.post(f"/v1/investigations/{inv['id']}/destroy", headers=ADMIN)
    wait_operation(client, response.json()["operation"]["id"])
    assert [c.kind for c in fake.calls] == ["up", "destroy"]
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert detail["status"] == "destroyed"
    assert detail["outputs"] == {"evidenceBucket": f"evidence-inv-{inv['id']}"}


def test_state_conflicts_are_409_with_a_reason(client: TestClient, fake: FakeExecutor) -> None:
    release = threading.Event()
    fake.script.append(block_until(release))
    opened = client.post("/v1/investigations", json=open_body(), headers=ADMIN).json()
    inv_id = opened["investigation"]["id"]
    conflict = client.post(f"/v1/investigations/{inv_id}/freeze", headers=ADMIN)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "state_conflict"
    assert "still opening" in conflict.json()["error"]["message"]
    release.set()
    wait_operation(client, opened["operation"]["id"])
    not_frozen = client.post(f"/v1/investigations/{inv_id}/release", json={"reason": "done"}, headers=ADMIN)
    assert not_frozen.status_code == 409
    assert "not frozen" in not_frozen.json()["error"]["message"]
