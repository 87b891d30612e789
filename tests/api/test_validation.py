from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.api import ADMIN, open_body


def _fields(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "invalid_input"
    return [f["field"] for f in body["details"]["fields"]]


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/investigations", content=b'{"ticket": ', headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"ttl_hours": "soon"}, "body.ttl_hours"),
        ({"ttl_hours": 0}, "body.ttl_hours"),
        ({"ticket": ""}, "body.ticket"),
        ({"region": "moon-1"}, "body.region"),
        ({"account_id": "123"}, "body.account_id"),
        ({"evidence_snapshot_ids": ["snap-0123456789abcdef0"]}, "body.evidence_snapshot_ids"),
        (
            {"evidence": [{"snapshot_id": "snap-0123456789abcdef0"}]},
            "body.evidence.0.SnapshotAtOpen.source_account_id",
        ),
        ({"golden_ami": {"ami_id": "ami-0123456789abcdef0", "tag": "a=b"}}, "body.golden_ami"),
        ({"tags": {"aws:owner": "x"}}, "body.tags"),
        ({"colour": "blue"}, "body.colour"),
    ],
)
def test_bad_fields_are_named(client: TestClient, patch: dict[str, object], field: str) -> None:
    assert field in _fields(client.post("/v1/investigations", json={**open_body(), **patch}, headers=ADMIN))


def test_missing_fields_are_named(client: TestClient) -> None:
    assert set(_fields(client.post("/v1/investigations", json={}, headers=ADMIN))) == {
        "body.ticket",
        "body.title",
    }


def test_unknown_field_on_action_body(client: TestClient) -> None:
    fields = _fields(
        client.post("/v1/investigations/sec-1-abcdef12/destroy", json={"force": True}, headers=ADMIN)
    )
    assert fields == ["body.force"]


def test_oversized_body_is_413(client: TestClient) -> None:
    big = open_body(title="x" * 100_000)
    response = client.post("/v1/investigations", json=big, headers=ADMIN)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b" " * 1024

    streamed = client.post(
        "/v1/investigations", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_bad_and_unknown_ids(client: TestClient) -> None:
    assert "path.investigation_id" in _fields(client.get("/v1/investigations/NOT_AN_ID", headers=ADMIN))
    missing = client.get("/v1/investigations/sec-1-abcdef12", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "path.operation_id" in _fields(client.get("/v1/operations/123", headers=ADMIN))
    assert client.get(f"/v1/operations/{uuid.uuid4()}", headers=ADMIN).status_code == 404
    assert client.get(f"/v1/operations/{uuid.uuid4()}/events", headers=ADMIN).status_code == 404
    assert client.post(f"/v1/operations/{uuid.uuid4()}/cancel", headers=ADMIN).status_code == 404
    unknown_route = client.get("/v1/nothing-here", headers=ADMIN)
    assert unknown_route.status_code == 404 and unknown_route.json()["error"]["code"] == "not_found"
    assert client.delete("/v1/investigations", headers=ADMIN).json()["error"]["code"] == "method_not_allowed"


def test_unexpected_errors_are_500_in_the_error_shape(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal error; see the service log", "details": None}
    }
    assert "secret" not in response.text


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/investigations/{investigation_id}/freeze" in spec["paths"]
    assert "/v1/operations/{operation_id}/events" in spec["paths"]


def test_every_api_route_documents_the_error_body(client: TestClient) -> None:
    """Each route under /v1 documents its refusals (401, 403, 404, 409, 413, 422) as JSON of the error shape,
    whose schema the document holds (service/api/schemas.py names it by reference)."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def resolved(schema: dict[str, object]) -> dict[str, object]:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return dict(schemas[ref.rsplit("/", 1)[1]])
        return schema

    routes = [
        (path, op) for path, ops in spec["paths"].items() if path.startswith("/v1/") for op in ops.values()
    ]
    assert len(routes) > 30
    for path, op in routes:
        for code in ("401", "403", "404", "409", "413", "422"):
            documented = op["responses"][code]["content"]["application/json"]["schema"]
            error = resolved(documented)["properties"]["error"]  # type: ignore[index]
            assert set(resolved(error)["properties"]) == {"code", "message", "details"}, (path, code)  # type: ignore[call-overload]


def test_stack_config_is_checked_by_the_program_validator(client: TestClient) -> None:
    pytest.importorskip("programs.forensic_env.config")
    from service.investigations import stack_config

    with pytest.raises(Exception, match="investigationId"):
        stack_config.validate({"investigationId": "X", "ticket": "SEC-1"})
    stack_config.validate({"investigationId": "sec-1-abc", "ticket": "SEC-1"}, region="eu-west-1")
