"""The `forensics` commands for people deciding together (access, approvals, release, extend, break-glass,
cancel) and for the admin (audit, tokens), against the real API app (fake engine) through its transport seam.
Each test drives the CLI with the tokens of different people and checks what the service did."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import Result
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from service.access.schemas import AccessRole
from service.cli import app as cli
from service.cli import choices
from service.cli.client import console, err
from service.config import Settings
from service.investigations.approval_models import ApprovalStatus
from service.main import create_app
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, ADMIN_TOKEN, issue, open_ready, wait_operation
from tests.support.people import TEST_PEOPLE
from tests.support.settings import make_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

runner = CliRunner()
ALICE = "alice@example.com"
ALICE_LAPTOP = "alice-laptop@example.com"
BOB = "bob@example.com"
ALICE_ARN = "arn:aws:iam::123456789012:role/AWSReservedSSO_Forensics_0a1b"
BOB_ARN = "arn:aws:iam::123456789012:role/AWSReservedSSO_Custody_9f8e"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as they need: a terminal's 80 columns would fold the ids the tests look for."""
    monkeypatch.setattr(console, "width", 220)
    monkeypatch.setattr(err, "width", 220)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        integrations_periodic_tasks=False,
        # Alice's second token is still Alice; Alice and Bob may be given a clean room's roles.
        person_aliases={**TEST_PEOPLE, ALICE: "alice", ALICE_LAPTOP: "alice"},
        # Keyed by person: Alice's tokens are one person, "alice", with one AWS principal.
        person_principals={"alice": ALICE_ARN, BOB: BOB_ARN},
    )


@pytest.fixture
def aws_client(settings: Settings, fake: FakeExecutor, local_aws: LocalAws) -> Iterator[TestClient]:
    """The fake engine, with freeze's and release's legal holds really placed in the local AWS."""
    bucket = f"forensics-cli-{uuid.uuid4().hex[:12]}-evidence"  # a clean room's evidence bucket name
    local_aws.client("s3").create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    fake.bucket = bucket
    local = settings.model_copy(
        update={
            "aws_endpoint_url": local_aws.endpoint_url,
            "aws_verify_tls": False,
            "audit_anchor_bucket": f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}",
        }
    )
    seed(local)
    with TestClient(create_app(local, executor=fake)) as client:
        yield client


def token_of(client: TestClient, role: str, principal: str) -> str:
    return issue(client, role, principal)["Authorization"].removeprefix("Bearer ")


def forensics(client: TestClient, token: str, *args: str, code: int = 0) -> Result:
    """Runs `forensics ARGS` as the token's holder against the client's app; the exit code is checked."""
    result = runner.invoke(
        cli,
        list(args),
        obj=client._transport,
        env={"FORENSICS_URL": "http://testserver", "FORENSICS_TOKEN": token},
    )
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def found(pattern: str, output: str) -> str:
    match = re.search(pattern, output)
    assert match, f"{pattern!r} not in {output!r}"
    return match.group(1)


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_clis_choices_are_the_apis() -> None:
    assert {c.value for c in choices.AccessRole} == set(get_args(AccessRole))
    assert {c.value for c in choices.ApprovalStatus} == {s.value for s in ApprovalStatus}


def test_access_is_asked_for_by_one_person_and_decided_by_another(app: FastAPI) -> None:
    with TestClient(app) as client:
        inv = open_ready(client)
        alice = token_of(client, "data_custodian", ALICE)
        bob = token_of(client, "data_custodian", BOB)
        ask = ("--role", "investigator", "--hours", "2", "--reason", "triage of the memory image")

        asked = forensics(client, alice, "access", "request", inv["id"], *ask).stdout
        request_id = found(rf"access request ({UUID}) requested", asked)
        assert ALICE_ARN in asked
        # One's own request, even with the permission: refused, with the API's reason on stderr.
        own = forensics(client, alice, "access", "approve", request_id, code=1)
        assert "403" in own.stderr and "another person" in own.stderr
        assert get(client, f"/v1/access-requests/{request_id}")["status"] == "requested"

        approved = forensics(client, bob, "access", "approve", request_id, "--reason", "on call").stdout
        assert f"access request {request_id}: approved" in approved
        row = get(client, f"/v1/access-requests/{request_id}")
        assert (row["status"], row["decided_by"], row["decision_reason"]) == ("approved", BOB, "on call")
        grant_op = found(rf"operation ({UUID}) queued", approved)
        assert row["operation_id"] == grant_op
        assert wait_operation(client, grant_op)["state"] == "succeeded"

        # Bob asks too; Alice denies it; Alice gives her own grant back.
        bobs = forensics(client, bob, "access", "request", inv["id"], *ask).stdout
        bobs_id = found(rf"access request ({UUID}) requested", bobs)
        forensics(client, alice, "access", "deny", bobs_id, "--reason", "not on this case")
        denied = get(client, f"/v1/access-requests/{bobs_id}")
        assert (denied["status"], denied["decided_by"]) == ("denied", ALICE)
        listed = forensics(client, bob, "access", "list", inv["id"]).stdout
        assert request_id in listed and bobs_id in listed and "denied" in listed

        revoked = forensics(client, alice, "access", "revoke", request_id, "--reason", "done").stdout
        assert f"access request {request_id}: revoked" in revoked
        assert get(client, f"/v1/access-requests/{request_id}")["status"] == "revoked"
        wait_operation(client, found(rf"operation ({UUID}) queued", revoked))


def test_a_release_is_held_until_a_second_custodian_approves_it(aws_client: TestClient) -> None:
    client = aws_client
    inv = open_ready(client)
    assert "succeeded" in forensics(client, ADMIN_TOKEN, "freeze", inv["id"], "--reason", "litigation").stdout
    alice = token_of(client, "data_custodian", ALICE)
    alice_laptop = token_of(client, "data_custodian", ALICE_LAPTOP)
    bob = token_of(client, "data_custodian", BOB)

    # Held: exit 0, the approval's id and the message; nothing queued, still frozen.
    asked = forensics(client, alice, "release", inv["id"], "--reason", "counsel agreed").stdout
    approval_id = found(rf"approval ({UUID}) pending", asked)
    assert "needs a second person" in asked and f"forensics approvals approve {approval_id}" in asked
    assert get(client, f"/v1/investigations/{inv['id']}")["status"] == "frozen"
    pending = ("--status", "pending_approval", "--investigation", inv["id"])
    waiting = forensics(client, bob, "approvals", *pending).stdout
    assert approval_id in waiting and "1-1 of 1" in waiting

    # Not the requester, not through her other token.
    for own in (alice, alice_laptop):
        refused = forensics(client, own, "approvals", "approve", approval_id, code=1)
        assert "403" in refused.stderr and "same person" in refused.stderr
    assert get(client, f"/v1/approvals/{approval_id}")["status"] == "pending_approval"

    why = ("--reason", "seen the order")
    approved = forensics(client, bob, "approvals", "approve", approval_id, *why).stdout
    op_id = found(rf"release: operation ({UUID}) queued", approved)
    approval = get(client, f"/v1/approvals/{approval_id}")
    assert (approval["status"], approval["decided_by"], approval["operation_id"]) == ("approved", BOB, op_id)
    op = wait_operation(client, op_id)
    assert (op["action"], op["requested_by"], op["state"]) == ("release", ALICE, "succeeded")
    assert get(client, f"/v1/investigations/{inv['id']}")["status"] == "ready"
    # Decided once.
    again = forensics(client, bob, "approvals", "approve", approval_id, code=1)
    assert "409" in again.stderr
    audited = forensics(client, ADMIN_TOKEN, "audit", "--action", "approval.approve").stdout
    assert BOB in audited and "1-1 of 1" in audited


def test_extensions_held_denied_and_broken_glass(app: FastAPI) -> None:
    with TestClient(app) as client:
        inv = open_ready(client)
        alice = token_of(client, "data_custodian", ALICE)
        bob = token_of(client, "data_custodian", BOB)

        # A short extension needs nobody else.
        before = get(client, f"/v1/investigations/{inv['id']}")["expires_at"]
        extended = forensics(client, alice, "extend", inv["id"], "2", "--reason", "still imaging").stdout
        after = get(client, f"/v1/investigations/{inv['id']}")["expires_at"]
        assert after > before and "now expires at" in extended

        # A long one waits; Bob denies it and nothing changes.
        held = forensics(client, alice, "extend", inv["id"], "100").stdout
        approval_id = found(rf"approval ({UUID}) pending", held)
        forensics(client, bob, "approvals", "deny", approval_id, "--reason", "ask for less")
        assert get(client, f"/v1/approvals/{approval_id}")["status"] == "denied"
        assert get(client, f"/v1/investigations/{inv['id']}")["expires_at"] == after

        # Alone, at once, loudly: the break-glass officer only.
        reason = "counsel needs the room over the long weekend"
        asked = ("break-glass", inv["id"], "extend", "--reason", reason, "--param", "hours=100")
        refused = forensics(client, alice, *asked, code=1)
        assert "403" in refused.stderr
        officer = token_of(client, "break_glass_officer", "oncall-officer@example.com")
        bad = forensics(
            client, officer, "break-glass", inv["id"], "extend", "--reason", reason, "--param", "x", code=2
        )
        assert "key=value" in bad.stderr
        broke = forensics(
            client, officer, "break-glass", inv["id"], "extend", "--reason", reason, "--param", "hours=100"
        ).stdout
        assert "break-glass: extend acted on without a second person" in broke
        used = get(client, "/v1/approvals", status="break_glass")["items"]
        assert [(u["action"], u["params"]["hours"], u["reason"]) for u in used] == [("extend", 100, reason)]
        assert get(client, f"/v1/investigations/{inv['id']}")["expires_at"] > after
        listed = forensics(client, bob, "approvals", "--status", "break_glass").stdout
        assert used[0]["id"] in listed


def test_cancel_stops_a_running_operation(app: FastAPI, fake: FakeExecutor) -> None:
    with TestClient(app) as client:
        inv = open_ready(client)
        release = threading.Event()
        fake.script.append(block_until(release))
        preview = client.post(f"/v1/investigations/{inv['id']}/preview", headers=ADMIN).json()["operation"]
        wait_operation(client, preview["id"], until=("running",))
        try:
            forensics(client, ADMIN_TOKEN, "cancel", preview["id"])
            assert wait_operation(client, preview["id"])["state"] == "cancelled"
        finally:
            release.set()
        missing = forensics(client, ADMIN_TOKEN, "cancel", str(uuid.uuid4()), code=1)
        assert "404" in missing.stderr


def test_tokens_and_the_audit_chain(app: FastAPI) -> None:
    with TestClient(app) as client:
        carol = ("carol@example.com", "--role", "responder")
        created = forensics(client, ADMIN_TOKEN, "tokens", "create", *carol).stdout
        token_id = found(rf"token ({UUID}) for carol@example.com \(responder\)", created)
        secret = created.strip().splitlines()[-1]
        # The new token works, within its role.
        forensics(client, secret, "list")
        assert "403" in forensics(client, secret, "tokens", "list", code=1).stderr
        assert token_id in forensics(client, ADMIN_TOKEN, "tokens", "list").stdout

        forensics(client, ADMIN_TOKEN, "tokens", "revoke", token_id)
        assert "401" in forensics(client, secret, "list", code=1).stderr
        revoked = [t for t in get(client, "/v1/tokens") if t["id"] == token_id]
        assert revoked[0]["revoked_at"] is not None

        entries = forensics(client, ADMIN_TOKEN, "audit", "--action", "token.revoke").stdout
        assert f"token/{token_id}" in entries
        intact = forensics(client, ADMIN_TOKEN, "audit", "--verify").stdout
        assert "the audit chain is intact" in intact
        with app.state.engine.begin() as conn:
            conn.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = 1"))
        broken = forensics(client, ADMIN_TOKEN, "audit", "--verify", code=1).stdout
        assert "NOT intact" in broken and re.search(r"first_bad_id\W+1\b", broken)
