from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.api import ADMIN, issue, open_body, open_ready


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
