"""Signing in through the console's own form, and reading what its pages carry, for the console tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> str:
    """Signs in through the login form; returns the session's CSRF token (from the next page)."""
    form = client.get("/console/login")
    assert form.status_code == 200, form.text
    answer = client.post(
        "/console/login", data={"token": token, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/console")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def bearer_token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")
