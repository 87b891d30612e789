"""Attacks on the console's session, as an adversary would try them: a cookie copied before sign-out, a cookie
read for the token's digest, a session cookie sent in clear behind a TLS proxy, an event stream that outlives
its session, and a session opening streams without end. Each is refused."""

from __future__ import annotations

import json
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from pydantic import SecretStr
from sqlalchemy import select

from service.auth.models import ApiToken
from service.auth.service import hash_token
from service.console.models import ConsoleSession
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, ADMIN_TOKEN, issue, open_body, open_ready, wait_operation
from tests.support.console import bearer_token, csrf_of, sign_in

SESSION = "fcr_console"


def _status(client: TestClient, investigation_id: str) -> tuple[str, int]:
    detail = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    return detail["status"], len(detail["timeline"])


def _sign_out(client: TestClient) -> None:
    csrf = csrf_of(client.get("/console").text)
    answer = client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client, "SEC-720")
    custodian = TestClient(app)
    csrf = sign_in(custodian, bearer_token(issue(client, "data_custodian", "carol@example.com")))
    stolen = custodian.cookies[SESSION]
    before = _status(client, inv["id"])

    _sign_out(custodian)

    thief = TestClient(app, cookies={SESSION: stolen})
    page = thief.get("/console")
    assert page.status_code == 401 and "signed out" in page.text
    refused = thief.post(f"/console/investigations/{inv['id']}/freeze", data={"csrf_token": csrf})
    assert refused.status_code == 401
    assert _status(client, inv["id"]) == before
    with app.state.session_factory() as db:
        rows = db.execute(select(ConsoleSession)).scalars().all()
    assert [r.revoked_at is not None for r in rows] == [True]
    outs = client.get("/v1/audit", params={"action": "console.sign_out"}, headers=ADMIN).json()["items"]
    assert [e["actor"] for e in outs] == ["carol@example.com"]


def _cookie_payload(cookie: str) -> Any:
    """What the signed cookie carries (itsdangerous decodes it, compressed or not, without the key)."""
    _valid, payload = URLSafeSerializer("not-the-key").loads_unsafe(cookie)
    return payload


def test_the_cookie_is_a_random_session_id_not_the_tokens_digest(app: FastAPI, client: TestClient) -> None:
    headers = issue(client, "investigator", "ivan@example.com")
    token = bearer_token(headers)
    first, second = TestClient(app), TestClient(app)
    sign_in(first, token)
    sign_in(second, token)
    with app.state.session_factory() as db:
        digest = db.execute(
            select(ApiToken.token_hash).where(ApiToken.principal == "ivan@example.com")
        ).scalar()
    assert digest == hash_token(token)
    cookies = [first.cookies[SESSION], second.cookies[SESSION]]
    assert cookies[0] != cookies[1]
    for cookie in cookies:
        assert digest not in cookie and token not in cookie
        assert digest not in json.dumps(_cookie_payload(cookie)), _cookie_payload(cookie)
    # The table keeps only the ids' hashes: a copy of it signs no one in.
    with app.state.session_factory() as db:
        stored = db.execute(select(ConsoleSession.id_hash)).scalars().all()
    ids = [str(_cookie_payload(c)["s"]) for c in cookies]
    assert sorted(stored) == sorted(hash_token(i) for i in ids)
    assert not set(ids) & set(stored)


def test_secure_cookie_and_hsts_behind_a_trusted_tls_proxy_only(app: FastAPI, client: TestClient) -> None:
    app.state.settings.trusted_proxies = ["10.0.0.0/8"]
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}

    def sign_in_through(peer: str) -> Any:
        browser = TestClient(app, client=(peer, 44321))
        form = browser.get("/console/login", headers=forwarded)
        # A browser behind the proxy speaks HTTPS, so it sends the Secure sign-in cookie back.
        nonce = form.cookies["fcr_console_login"]
        return browser.post(
            "/console/login",
            data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(form.text)},
            headers={**forwarded, "Cookie": f"fcr_console_login={nonce}"},
            follow_redirects=False,
        )

    proxied = sign_in_through("10.1.2.3")
    cookie = next(c for c in proxied.headers.get_list("set-cookie") if c.startswith(f"{SESSION}="))
    assert "Secure" in cookie
    assert proxied.headers["strict-transport-security"].startswith("max-age=")

    # Anyone else saying X-Forwarded-Proto: https is not believed (the connection is plain HTTP).
    spoofed = sign_in_through("203.0.113.9")
    cookie = next(c for c in spoofed.headers.get_list("set-cookie") if c.startswith(f"{SESSION}="))
    assert "Secure" not in cookie
    assert "strict-transport-security" not in spoofed.headers

    with TestClient(app, base_url="https://testserver") as direct:
        assert "strict-transport-security" in direct.get("/healthz").headers
    assert "strict-transport-security" not in client.get("/healthz").headers


def _follow(client: TestClient, url: str, kinds: list[str], status: list[int]) -> None:
    with client.stream("GET", url) as stream:
        status.append(stream.status_code)
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))


def test_an_event_stream_ends_when_its_session_is_signed_out(
    app: FastAPI, client: TestClient, fake: FakeExecutor
) -> None:
    release = threading.Event()
    fake.script.append(block_until(release))
    opened = client.post("/v1/investigations", json=open_body("SEC-721"), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    wait_operation(client, op_id, until=("running",))
    reader = TestClient(app)
    sign_in(reader, bearer_token(issue(client, "investigator", "ivan@example.com")))
    kinds: list[str] = []
    status: list[int] = []
    follower = threading.Thread(
        target=_follow, args=(reader, f"/console/operations/{op_id}/events", kinds, status)
    )
    follower.start()
    try:
        deadline = threading.Event()
        while not kinds and not deadline.wait(0.1):
            pass
        # The cookie's owner signs out from another tab: the stream ends although the operation runs on.
        other_tab = TestClient(app, cookies={SESSION: reader.cookies[SESSION]})
        _sign_out(other_tab)
        follower.join(timeout=10)
        assert not follower.is_alive(), "the stream outlived its session"
        assert status == [200] and "operation_started" in kinds and "operation_finished" not in kinds
        assert client.get(f"/v1/operations/{op_id}", headers=ADMIN).json()["state"] == "running"
    finally:
        release.set()
        follower.join(timeout=10)


def test_a_session_holds_at_most_the_configured_number_of_streams(
    app: FastAPI, client: TestClient, fake: FakeExecutor
) -> None:
    app.state.settings.console_max_streams = 2
    release = threading.Event()
    fake.script.append(block_until(release))
    opened = client.post("/v1/investigations", json=open_body("SEC-722"), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    wait_operation(client, op_id, until=("running",))
    reader = TestClient(app)
    sign_in(reader, bearer_token(issue(client, "investigator", "ivan@example.com")))
    url = f"/console/operations/{op_id}/events"
    streams = [([], []) for _ in range(2)]
    followers = [threading.Thread(target=_follow, args=(reader, url, k, s)) for k, s in streams]
    try:
        for follower in followers:
            follower.start()
        waiting = threading.Event()
        while not all(k for k, _ in streams) and not waiting.wait(0.1):
            pass
        third = reader.get(url)
        assert third.status_code == 429, third.text
        assert "already follows 2 operations" in third.text
        # Another session of the same person has streams of its own.
        other = TestClient(app)
        sign_in(other, bearer_token(issue(client, "investigator", "ivy@example.com")))
        kinds: list[str] = []
        status: list[int] = []
        release.set()
        _follow(other, url, kinds, status)
        assert status == [200] and kinds[-1] == "operation_finished"
    finally:
        release.set()
        for follower in followers:
            follower.join(timeout=10)
    # Streams that ended give their slots back.
    assert reader.get(url).status_code == 200


def test_a_wrong_bootstrap_token_cannot_sign_in(client: TestClient) -> None:
    form = client.get("/console/login")
    for wrong in (ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x", ""):
        answer = client.post(
            "/console/login", data={"token": wrong, "csrf_token": csrf_of(form.text)}, follow_redirects=False
        )
        assert answer.status_code == 401, wrong
    assert SESSION not in client.cookies
    assert client.get("/console").status_code == 401


def test_a_bootstrap_session_ends_when_the_bootstrap_token_changes(app: FastAPI, client: TestClient) -> None:
    """The session keeps the digest of the token it was opened with; each request checks it again against
    the configured bootstrap token, so changing or unsetting the setting ends the session."""
    configured = app.state.settings
    for replaced in (SecretStr(ADMIN_TOKEN + "-rotated"), None):
        app.state.settings = configured
        sign_in(client, ADMIN_TOKEN)
        assert client.get("/console").status_code == 200
        app.state.settings = configured.model_copy(update={"bootstrap_admin_token": replaced})
        assert client.get("/console").status_code == 401, replaced
