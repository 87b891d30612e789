"""The apps of one process share the routers' routes, built once (service/api/shared_routes.py), and an app
made that way documents and answers as one made with FastAPI's ``include_router``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service import main
from service.api.shared_routes import add_routes
from service.console import wiring
from service.orchestration.fake_engine import FakeExecutor
from tests.support.api import ADMIN, issue, open_body
from tests.support.settings import make_settings


def _api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    return {
        (route.path, method): route
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }


def test_the_apps_of_a_process_share_the_routes(tmp_path: Path) -> None:
    first = main.create_app(make_settings(tmp_path / "first"), executor=FakeExecutor())
    second = main.create_app(make_settings(tmp_path / "second"), executor=FakeExecutor())
    routes = _api_routes(first)
    assert ("/v1/investigations", "POST") in routes and ("/console", "GET") in routes
    shared = _api_routes(second)
    assert shared.keys() == routes.keys()
    assert all(shared[key] is route for key, route in routes.items())


MISSING = uuid.uuid4()


def _included(app: FastAPI, router: APIRouter) -> None:
    app.include_router(router)


def _answers(app: FastAPI) -> list[tuple[int, Any]]:
    """What the app answers to requests across its routers (each answer's status and body or redirect)."""
    answers: list[tuple[int, Any]] = []
    with TestClient(app) as client:
        opened = client.post("/v1/investigations", json=open_body("SEC-900"), headers=ADMIN)
        answers.append((opened.status_code, sorted(opened.json())))
        investigation = opened.json()["investigation"]["id"]
        analyst = issue(client, "analyst")
        for method, path, headers, body in [
            ("GET", "/healthz", {}, None),
            ("GET", "/readyz", {}, None),
            ("GET", "/v1/investigations", {}, None),
            ("GET", "/v1/investigations", ADMIN, None),
            ("POST", "/v1/investigations", ADMIN, {"ticket": ""}),
            ("POST", f"/v1/investigations/{investigation}/destroy", analyst, None),
            ("GET", f"/v1/operations/{MISSING}", ADMIN, None),
            ("DELETE", "/v1/investigations", ADMIN, None),
            ("GET", "/v1/no-such-route", ADMIN, None),
            ("POST", "/v1/integrations/tickets/webhook", {}, {}),
            ("GET", "/console", {}, None),
            ("GET", "/console/login", {}, None),
            ("POST", "/console/login", {}, None),
        ]:
            response = client.request(method, path, headers=headers, json=body, follow_redirects=False)
            if response.headers.get("content-type", "").startswith("application/json"):
                content: Any = response.json()
                if isinstance(content, dict) and "items" in content:
                    content = len(content["items"])
                if isinstance(content, dict) and isinstance(content.get("error"), dict):
                    content["error"].pop("request_id", None)
            else:
                content = response.headers.get("location") or response.headers.get("content-type")
            answers.append((response.status_code, content))
    return answers


def test_an_app_with_shared_routes_documents_and_answers_as_with_include_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = main.create_app(make_settings(tmp_path / "shared"), executor=FakeExecutor())
    with monkeypatch.context() as patched:
        patched.setattr(main, "add_routes", _included)
        patched.setattr(wiring, "add_routes", _included)
        included = main.create_app(make_settings(tmp_path / "included"), executor=FakeExecutor())
    assert not any(isinstance(route, APIRoute) for route in included.routes)  # FastAPI's own inclusion
    assert shared.openapi() == included.openapi()
    assert _answers(shared) == _answers(included)


def test_a_router_holding_more_than_routes_is_refused() -> None:
    app = FastAPI()
    outer = APIRouter(prefix="/outer")
    inner = APIRouter()

    @inner.get("/inner")
    def inner_route() -> dict[str, str]:
        return {}

    outer.include_router(inner)
    with pytest.raises(TypeError, match="include it with include_router"):
        add_routes(app, outer)
    assert [route.path for route in app.routes] == [route.path for route in FastAPI().routes]
