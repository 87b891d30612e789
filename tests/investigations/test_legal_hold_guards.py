"""Legal hold cannot be undone by the wrong person or by a side door: cancelling needs the permission of the
action it cancels (someone else's cancel of a custodian's decision waits for an approver who has it),
extensions stop at the program's total TTL, and the service refuses to start against real AWS with settings
that would make every freeze fail or the state readable."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from programs.forensic_env.config import MAX_TTL_HOURS
from service.config import ForensicAccount, Settings
from service.errors import Misconfigured
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, issue, open_ready, wait_operation


def test_a_responder_cannot_cancel_a_custodians_destroy(client: TestClient, fake: FakeExecutor) -> None:
    inv = open_ready(client)
    release = threading.Event()
    fake.script.append(block_until(release))
    preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN).json()["operation"]
    wait_operation(client, preview["id"], until=("running",))
    custodian, responder = issue(client, "data_custodian"), issue(client, "responder")
    responder_preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=responder)
    assert responder_preview.status_code == 202
    destroy = client.post(f"/v1/investigations/{inv['id']}/destroy", headers=custodian)
    assert destroy.status_code == 202, destroy.text
    op_id = destroy.json()["operation"]["id"]

    # Asking is allowed; it waits for an approver with the destroy permission (two-person rule).
    held = client.post(f"/v1/operations/{op_id}/cancel", headers=responder)
    assert held.status_code == 202, held.text
    approval = held.json()["approval"]["id"]
    refused = client.post(f"/v1/approvals/{approval}/approve", headers=issue(client, "responder", "r2"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"]["permission"] == "destroy"
    assert client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()["state"] == "queued"
    # The responder may still cancel what a responder may ask for.
    own = responder_preview.json()["operation"]["id"]
    assert client.post(f"/v1/operations/{own}/cancel", headers=responder).status_code == 202

    # Whoever may destroy may cancel it.
    assert client.post(f"/v1/operations/{op_id}/cancel", headers=custodian).status_code == 202
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "ready"
    release.set()
    wait_operation(client, preview["id"])


def _extend(client: TestClient, investigation_id: str, hours: int) -> tuple[int, dict[str, Any]]:
    """Long extensions wait for a second person: approved here by a custodian, so the limits are what is
    tested. Returns the status and the body (the investigation once extended)."""
    response = client.post(
        f"/v1/investigations/{investigation_id}/extend", json={"hours": hours}, headers=ADMIN
    )
    if response.status_code != 202:
        return response.status_code, response.json()
    second = issue(client, "data_custodian", "second@example.com")
    approved = client.post(f"/v1/approvals/{response.json()['approval']['id']}/approve", headers=second)
    assert approved.status_code == 200, approved.text
    return 200, approved.json()["investigation"]


def test_extension_past_the_total_ttl_is_refused_and_changes_nothing(client: TestClient) -> None:
    inv = open_ready(client, ttl_hours=24)
    before = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    step = 24 * 90
    extended = 0
    while True:
        code, body = _extend(client, inv["id"], step)
        if code != 200:
            break
        extended += 1
    assert code == 422, body
    assert f"at most {MAX_TTL_HOURS} hours" in body["error"]["message"]
    after = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert after["ttl_hours"] <= MAX_TTL_HOURS
    assert after["ttl_hours"] == before["ttl_hours"] + extended * step
    # What is left can still be used, to the hour.
    left = MAX_TTL_HOURS - after["ttl_hours"]
    if left:
        code, body = _extend(client, inv["id"], left)
        assert code == 200 and body["ttl_hours"] == MAX_TTL_HOURS
    assert _extend(client, inv["id"], 1)[0] == 422
    # And the clean room can still be frozen: its config is valid for the program.
    assert client.post(f"/v1/investigations/{inv['id']}/freeze", headers=ADMIN).status_code == 202


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"service_principal_arns": []}, "FORENSICS_SERVICE_PRINCIPAL_ARNS"),
        (
            {"service_principal_arns": ["arn:aws:iam::111122223333:role/forensics-service"]},
            "FORENSICS_PULUMI_PASSPHRASE",
        ),
        ({"service_principal_arns": ["arn:aws:iam::111122223333:role/x"]}, "FORENSICS_FORENSIC_ACCOUNTS"),
        ({"service_principal_arns": ["arn:aws:iam::111122223333:role/x"]}, "FORENSICS_AUDIT_ANCHOR_BUCKET"),
    ],
)
def test_real_aws_refuses_unsafe_settings(tmp_path: Path, overrides: dict[str, object], words: str) -> None:
    settings = Settings(target="aws", data_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    with pytest.raises(Misconfigured, match=words):
        create_app(settings)
    safe = settings.model_copy(
        update={
            "service_principal_arns": ["arn:aws:iam::111122223333:role/forensics-service"],
            "pulumi_passphrase": SecretStr("a long random passphrase from the secret store"),
            "jobs_signing_secret": SecretStr("a long random job-signing secret from the secret store"),
            "audit_anchor_bucket": "forensics-audit-anchors-111122223333",
            "forensic_accounts": {
                "eu-west-1": ForensicAccount(
                    account_id="111122223333",
                    deploy_role_arn="arn:aws:iam::111122223333:role/forensics-deploy",
                )
            },
        }
    )
    create_app(safe)  # builds (nothing is started until the app runs)
