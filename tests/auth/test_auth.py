from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.access.service import requester_signed_in
from service.auth.service import BOOTSTRAP_PRINCIPAL, bootstrap_enabled, hash_token, is_bootstrap_token
from service.config import Settings
from tests.support.api import ADMIN, ADMIN_TOKEN, issue, open_body, open_ready


def test_missing_or_wrong_token_is_401(client: TestClient) -> None:
    missing = client.get("/v1/investigations")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = client.get("/v1/investigations", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert (
        client.post(
            "/v1/investigations", json=open_body(), headers={"Authorization": "Basic abc"}
        ).status_code
        == 401
    )


def test_roles(client: TestClient) -> None:
    inv = open_ready(client)
    analyst = issue(client, "analyst")
    investigator = issue(client, "investigator")
    responder = issue(client, "responder")
    assert client.get(f"/v1/investigations/{inv['id']}", headers=analyst).status_code == 200
    assert client.get("/v1/investigations", headers=investigator).status_code == 200
    refused = client.post("/v1/investigations", json=open_body("SEC-2"), headers=analyst)
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "role analyst may not open",
        "details": {"role": "analyst", "permission": "open"},
    }
    assert client.post(f"/v1/investigations/{inv['id']}/preview", headers=investigator).status_code == 403
    assert (
        client.post(
            f"/v1/investigations/{inv['id']}/release", json={"reason": "done"}, headers=responder
        ).status_code
        == 403
    )
    assert client.get("/v1/audit", headers=responder).status_code == 403
    assert (
        client.post("/v1/tokens", json={"principal": "x", "role": "admin"}, headers=responder).status_code
        == 403
    )
    assert client.post(f"/v1/investigations/{inv['id']}/preview", headers=responder).status_code == 202


def test_tokens_are_shown_once_stored_hashed_and_revocable(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/v1/tokens", json={"principal": "bob", "role": "responder"}, headers=ADMIN)
    assert response.status_code == 201
    token = response.json()["token"]
    listed = client.get("/v1/tokens", headers=ADMIN).json()
    assert all("token" not in t for t in listed)
    from sqlalchemy import text

    with app.state.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert token not in stored and len(stored[0]) == 64
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/investigations", headers=headers).status_code == 200
    assert client.delete(f"/v1/tokens/{response.json()['id']}", headers=ADMIN).status_code == 200
    assert client.get("/v1/investigations", headers=headers).status_code == 401


def _with_bootstrap(settings: Settings, token: str | None) -> Settings:
    return settings.model_copy(
        update={"bootstrap_admin_token": SecretStr(token) if token is not None else None}
    )


def test_the_bootstrap_token_is_decided_in_one_place(settings: Settings) -> None:
    """Only the configured token (by its digest) is the bootstrap admin's; an unset or empty setting turns
    the bootstrap admin off everywhere, also for access requests it asked before."""
    configured = _with_bootstrap(settings, "the-bootstrap-token")
    assert is_bootstrap_token(configured, hash_token("the-bootstrap-token"))
    assert not is_bootstrap_token(configured, hash_token("the-bootstrap-tokem"))
    assert not is_bootstrap_token(configured, "the-bootstrap-token")
    for off in (_with_bootstrap(settings, None), _with_bootstrap(settings, "")):
        assert not bootstrap_enabled(off)
        assert not is_bootstrap_token(off, hash_token(""))
        assert not requester_signed_in(off, None, BOOTSTRAP_PRINCIPAL, datetime.now(UTC))  # type: ignore[arg-type]
    assert requester_signed_in(configured, None, BOOTSTRAP_PRINCIPAL, datetime.now(UTC))  # type: ignore[arg-type]


def test_a_wrong_bootstrap_token_is_refused_by_the_api(client: TestClient) -> None:
    assert (
        client.get("/v1/investigations", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code
        == 200
    )
    for wrong in (ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x", ADMIN_TOKEN.upper()):
        answer = client.get("/v1/investigations", headers={"Authorization": f"Bearer {wrong}"})
        assert answer.status_code == 401, wrong
        assert answer.json()["error"]["code"] == "unauthorized"
