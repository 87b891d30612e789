"""Access decisions that race: a withdrawal committed while an approver read the request, an approval
committed while the requester withdrew, and a request whose token was revoked before anyone approved it.
Each loser is a 409 and nothing is granted that nobody meant to grant."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.access import service as access
from service.access.models import AccessRequest, AccessStatus
from tests.access.test_access import ALICE, BOB, _ask, _inv, app, client, clock
from tests.support.api import ADMIN, issue, open_ready

__all__ = ["app", "client", "clock"]


def _commit_meanwhile(app: FastAPI, request_id: str, status: AccessStatus) -> None:
    """What another request committed between this one's read and its write."""
    with app.state.session_factory() as session:
        session.execute(update(AccessRequest).where(AccessRequest.id == request_id).values(status=status))
        session.commit()


def _stale_read_then(
    monkeypatch: pytest.MonkeyPatch, app: FastAPI, request_id: str, status: AccessStatus
) -> None:
    """The next read of the request returns it as it was; right after, someone else's change commits."""
    real = access.get_request
    raced: list[str] = []

    def read_then_race(session: Any, wanted: str) -> AccessRequest:
        row = real(session, wanted)
        if wanted == request_id and not raced:
            raced.append(wanted)
            _commit_meanwhile(app, wanted, status)
        return row

    monkeypatch.setattr(access, "get_request", read_then_race)


def test_a_withdrawal_racing_an_approval_grants_nothing(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = open_ready(client)
    alice, bob = issue(client, "investigator", ALICE), issue(client, "data_custodian", BOB)
    request = _ask(client, inv["id"], alice).json()
    _stale_read_then(monkeypatch, app, request["id"], AccessStatus.REVOKED)

    approved = client.post(f"/v1/access-requests/{request['id']}/approve", headers=bob)
    assert approved.status_code == 409, approved.text
    assert approved.json()["error"]["details"]["status"] == "revoked"
    assert client.get(f"/v1/access-requests/{request['id']}", headers=ADMIN).json()["status"] == "revoked"
    assert _inv(app, inv["id"]).grants == []
    detail = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert [op["action"] for op in detail["timeline"]] == ["open"]


def test_an_approval_racing_a_withdrawal_is_a_conflict_to_read_again(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = open_ready(client)
    alice = issue(client, "investigator", ALICE)
    request = _ask(client, inv["id"], alice).json()
    _stale_read_then(monkeypatch, app, request["id"], AccessStatus.DENIED)

    withdrawn = client.post(f"/v1/access-requests/{request['id']}/revoke", headers=alice)
    assert withdrawn.status_code == 409, withdrawn.text
    # The decision committed meanwhile stands; the withdrawal did not overwrite it.
    assert client.get(f"/v1/access-requests/{request['id']}", headers=ADMIN).json()["status"] == "denied"


def test_a_request_whose_token_was_revoked_is_never_granted(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client)
    issued = client.post(
        "/v1/tokens", json={"principal": ALICE, "role": "investigator"}, headers=ADMIN
    ).json()
    alice = {"Authorization": f"Bearer {issued['token']}"}
    bob = issue(client, "data_custodian", BOB)
    request = _ask(client, inv["id"], alice).json()
    # Alice's token leaks; the admin revokes it before anyone approved what was asked with it.
    assert client.delete(f"/v1/tokens/{issued['id']}", headers=ADMIN).status_code == 200

    approved = client.post(f"/v1/access-requests/{request['id']}/approve", headers=bob)
    assert approved.status_code == 409, approved.text
    assert "no longer holds a valid token" in approved.json()["error"]["message"]
    assert client.get(f"/v1/access-requests/{request['id']}", headers=ADMIN).json()["status"] == "requested"
    assert _inv(app, inv["id"]).grants == []
    denied = client.post(f"/v1/access-requests/{request['id']}/deny", json={"reason": "leaked"}, headers=bob)
    assert denied.status_code == 200, denied.text
