"""The two-person rule counts people, so it refuses whoever maps to nobody: the proved attack was a token
"alice" asking and Alice's own unmapped chat account approving, two names for one person. Tokens are minted
only for configured people and for service principals (``service:<name>``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.approvals import service as approvals
from service.auth.roles import Role
from service.auth.service import Principal
from service.errors import Forbidden
from service.investigation_states import Status
from service.investigations import service as investigations
from service.investigations.models import Investigation
from tests.cli.test_cli_approvals import forensics
from tests.support.api import ADMIN, ADMIN_TOKEN, issue, open_ready

ALICE = "alice@example.com"  # a configured person (tests/support/people.py)
ALICE_CHAT = "slack:UALICE2(alice)"  # her chat account, which nobody mapped


def _frozen(app: FastAPI, investigation_id: str) -> None:
    with app.state.session_factory() as session:
        inv = session.get(Investigation, investigation_id)
        inv.status, inv.frozen, inv.legal_hold = Status.FROZEN, True, True
        session.commit()


def _as(app: FastAPI, session: object, name: str, role: Role) -> object:
    return app.state.integrations.caller(session, Principal(name, role), None)


def test_an_unmapped_chat_account_cannot_approve_nor_ask(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client)
    _frozen(app, inv["id"])
    asked = client.post(
        f"/v1/investigations/{inv['id']}/release",
        json={"reason": "counsel agreed"},
        headers=issue(client, "data_custodian", ALICE),
    )
    assert asked.status_code == 202 and "approval" in asked.json(), asked.text
    approval_id = asked.json()["approval"]["id"]

    with app.state.session_factory() as session:
        caller = _as(app, session, ALICE_CHAT, Role.DATA_CUSTODIAN)
        with pytest.raises(Forbidden, match="not mapped to a person") as refused:
            approvals.approve(caller, approval_id)  # type: ignore[arg-type]
        assert refused.value.details["rule"] == "two_person"
        session.rollback()
    with app.state.session_factory() as session:
        caller = _as(app, session, ALICE_CHAT, Role.DATA_CUSTODIAN)
        with pytest.raises(Forbidden, match="not mapped to a person"):
            approvals.deny(caller, approval_id, "no")  # type: ignore[arg-type]
        # Nor may it ask for what needs a second person (its approver could be Alice's token).
        with pytest.raises(Forbidden, match="not mapped to a person"):
            investigations.request_action(  # type: ignore[arg-type]
                caller, inv["id"], "release", {"reason": "asked from chat", "remove_legal_holds": True}
            )
        session.rollback()
    row = client.get(f"/v1/approvals/{approval_id}", headers=ADMIN).json()
    assert row["status"] == "pending_approval"
    assert client.get("/v1/approvals", headers=ADMIN).json()["total"] == 1


def test_a_service_principal_is_nobody_for_the_two_person_rule(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client)
    _frozen(app, inv["id"])
    machine = issue(client, "data_custodian", "service:ticket-bridge")
    asked = client.post(
        f"/v1/investigations/{inv['id']}/release", json={"reason": "automation"}, headers=machine
    )
    assert asked.status_code == 403, asked.text
    assert "not mapped to a person" in asked.json()["error"]["message"]
    assert client.get("/v1/approvals", headers=ADMIN).json()["total"] == 0


def test_tokens_only_for_people_and_service_principals(client: TestClient) -> None:
    def mint(principal: str, role: str = "responder") -> Any:
        return client.post("/v1/tokens", json={"principal": principal, "role": role}, headers=ADMIN)

    refused = mint("mallory@example.com", "admin")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["fields"][0]["field"] == "principal"
    assert "FORENSICS_PERSON_ALIASES" in refused.json()["error"]["message"]
    assert mint("service:").status_code == 422
    for principal in ("service:ticket-bridge", ALICE):
        minted = mint(principal)
        assert minted.status_code == 201, minted.text
    minted_for = {t["principal"] for t in client.get("/v1/tokens", headers=ADMIN).json()}
    assert minted_for == {"service:ticket-bridge", ALICE}
    # The CLI goes through the same check.
    cli = forensics(client, ADMIN_TOKEN, "tokens", "create", "mallory@example.com", "--role", "admin", code=1)
    assert "422" in cli.stderr
