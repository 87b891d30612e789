"""What the console refuses, over HTTP with the fake engine: a wrong token, an expired or revoked session,
a form without this session's CSRF token, a role without the permission, approving one's own request. Each
answer is the API's error (status, code and message, compared with the API's own answer to the same request)
and nothing changes: same status, same operations, and the refusal in the audit log."""

from __future__ import annotations

import re
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.config import PersonPrincipal
from service.orchestration.fake_engine import FakeExecutor, block_until
from tests.support.api import ADMIN, ADMIN_TOKEN, issue, open_body, open_ready, wait_operation
from tests.support.clock import TestClock
from tests.support.console import bearer_token, csrf_of, sign_in
from tests.support.integrations import audit_entries

ERROR_CODE = re.compile(r"<code data-error-code>([^<]+)</code>")
ERROR_MESSAGE = re.compile(r'<p class="message" data-error-message>([^<]*)</p>')


def _error(response: Any) -> tuple[int, str, str]:
    """(status, code, message) of a console error page, unescaped like the API's JSON."""
    import html

    code = ERROR_CODE.search(response.text)
    message = ERROR_MESSAGE.search(response.text)
    assert code and message, response.text[:2000]
    return response.status_code, code.group(1), html.unescape(message.group(1))


def _api_error(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def _state(client: TestClient, investigation_id: str) -> tuple[str, list[str], str]:
    detail = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()
    return detail["status"], [op["id"] for op in detail["timeline"]], detail["expires_at"]


def test_sign_in_sets_a_strict_http_only_session_and_a_wrong_token_gets_the_apis_401(
    client: TestClient,
) -> None:
    assert _error(client.get("/console"))[:2] == (401, "unauthorized")

    form = client.get("/console/login")
    wrong = client.post("/console/login", data={"token": "fcr_not-a-token", "csrf_token": csrf_of(form.text)})
    api = client.get("/v1/investigations", headers={"Authorization": "Bearer fcr_not-a-token"})
    assert _error(wrong) == _api_error(api) == (401, "unauthorized", "the bearer token is not valid")
    assert "fcr_console" not in client.cookies
    assert _error(client.get("/console"))[0] == 401

    form = client.get("/console/login")
    answer = client.post(
        "/console/login",
        data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("fcr_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    # The cookie names the token by its digest only.
    assert ADMIN_TOKEN not in cookie
    page = client.get("/console")
    assert page.status_code == 200 and "bootstrap-admin" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_sign_in_form_without_its_nonce_is_refused(client: TestClient) -> None:
    refused = client.post("/console/login", data={"token": ADMIN_TOKEN})
    assert _error(refused)[:2] == (403, "forbidden")
    assert "fcr_console" not in client.cookies


def test_an_expired_or_revoked_session_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, clock: TestClock
) -> None:
    inv = open_ready(client, "SEC-701")
    custodian = TestClient(app)
    headers = issue(client, "data_custodian", "carol@example.com")
    csrf = sign_in(custodian, bearer_token(headers))
    before = _state(client, inv["id"])

    clock.advance(minutes=app.state.settings.console_session_minutes + 1)
    expired = custodian.post(f"/console/investigations/{inv['id']}/freeze", data={"csrf_token": csrf})
    assert _error(expired) == (401, "unauthorized", "the console session has expired; sign in again")
    assert _state(client, inv["id"]) == before
    # The dead session is dropped: the next page asks to sign in.
    assert "fcr_console" not in custodian.cookies

    csrf = sign_in(custodian, bearer_token(headers))
    token_id = next(
        t["id"] for t in client.get("/v1/tokens", headers=ADMIN).json() if t["principal"].startswith("carol")
    )
    assert client.delete(f"/v1/tokens/{token_id}", headers=ADMIN).status_code in (200, 204)
    revoked = custodian.post(f"/console/investigations/{inv['id']}/freeze", data={"csrf_token": csrf})
    assert _error(revoked) == (401, "unauthorized", "the bearer token is not valid")
    assert _state(client, inv["id"]) == before


def test_forms_without_this_sessions_csrf_token_are_refused_and_change_nothing(
    app: FastAPI, client: TestClient
) -> None:
    inv = open_ready(client, "SEC-702")
    responder = TestClient(app)
    other = TestClient(app)
    sign_in(responder, bearer_token(issue(client, "responder", "rita@example.com")))
    other_csrf = sign_in(other, bearer_token(issue(client, "responder", "ron@example.com")))
    before = _state(client, inv["id"])
    url = f"/console/investigations/{inv['id']}/freeze"

    missing = responder.post(url, data={"reason": "no token"})
    assert _error(missing) == (
        403,
        "forbidden",
        "the form has no CSRF token; reload the page and submit it again",
    )
    for wrong in ("forged", other_csrf):
        refused = responder.post(url, data={"csrf_token": wrong})
        assert _error(refused) == (
            403,
            "forbidden",
            "the form's CSRF token is not this session's; reload the page and submit it again",
        )
    assert _state(client, inv["id"]) == before
    refusals = audit_entries(client, actor="rita@example.com")
    assert [e["outcome"] for e in refusals if e["action"] == f"POST {url}"] == ["refused:forbidden"] * 3


def test_an_analyst_freezing_gets_the_apis_403_and_nothing_changes(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client, "SEC-703", title="<script>alert(1)</script>")
    headers = issue(client, "analyst", "ann@example.com")
    analyst = TestClient(app)
    csrf = sign_in(analyst, bearer_token(headers))
    before = _state(client, inv["id"])

    room = analyst.get(f"/console/investigations/{inv['id']}")
    assert room.status_code == 200
    # An analyst is offered no action, and the clean room's title is text, never markup.
    assert "/freeze" not in room.text and "may only read" in room.text
    assert "<script>alert(1)</script>" not in room.text and "&lt;script&gt;" in room.text

    console = analyst.post(
        f"/console/investigations/{inv['id']}/freeze", data={"csrf_token": csrf, "reason": "x"}
    )
    api = client.post(f"/v1/investigations/{inv['id']}/freeze", json={"reason": "x"}, headers=headers)
    assert _error(console) == _api_error(api) == (403, "forbidden", "role analyst may not freeze")
    assert _state(client, inv["id"]) == before
    refusals = [
        e for e in audit_entries(client, actor="ann@example.com") if e["outcome"] == "refused:forbidden"
    ]
    assert {e["action"] for e in refusals} == {
        f"POST /console/investigations/{inv['id']}/freeze",
        f"POST /v1/investigations/{inv['id']}/freeze",
    }


def test_bad_input_gets_the_apis_422(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client, "SEC-704")
    headers = issue(client, "responder", "rita@example.com")
    responder = TestClient(app)
    csrf = sign_in(responder, bearer_token(headers))
    before = _state(client, inv["id"])

    console = responder.post(
        f"/console/investigations/{inv['id']}/extend", data={"csrf_token": csrf, "hours": "0"}
    )
    api = client.post(f"/v1/investigations/{inv['id']}/extend", json={"hours": 0}, headers=headers)
    assert _error(console) == _api_error(api)
    assert _error(console)[:2] == (422, "invalid_input")
    assert _state(client, inv["id"]) == before


def test_a_held_request_is_approved_by_another_person_never_by_its_requester(
    app: FastAPI, client: TestClient
) -> None:
    inv = open_ready(client, "SEC-705")
    alice_headers = issue(client, "responder", "alice@example.com")
    alice, bob = TestClient(app), TestClient(app)
    alice_csrf = sign_in(alice, bearer_token(alice_headers))
    bob_csrf = sign_in(bob, bearer_token(issue(client, "data_custodian", "bob@example.com")))
    hours = app.state.settings.two_person_extension_hours + 24

    confirm = alice.get(f"/console/investigations/{inv['id']}/extend")
    assert confirm.status_code == 200 and 'name="hours"' in confirm.text
    held = alice.post(
        f"/console/investigations/{inv['id']}/extend",
        data={"csrf_token": alice_csrf, "hours": str(hours), "reason": "counsel asked"},
    )
    assert held.status_code == 200 and "held for a second person" in held.text
    approval = client.get("/v1/approvals?status=pending_approval", headers=ADMIN).json()["items"][0]
    before = _state(client, inv["id"])

    mine = alice.get("/console/approvals")
    assert f'action="/console/approvals/{approval["id"]}/approve"' not in mine.text
    assert "Your own request" in mine.text
    console = alice.post(f"/console/approvals/{approval['id']}/approve", data={"csrf_token": alice_csrf})
    api = client.post(f"/v1/approvals/{approval['id']}/approve", json={}, headers=alice_headers)
    assert _error(console) == _api_error(api)
    assert _error(console)[:2] == (403, "forbidden")
    assert _state(client, inv["id"]) == before

    theirs = bob.get("/console/approvals")
    assert f'action="/console/approvals/{approval["id"]}/approve"' in theirs.text
    approved = bob.post(f"/console/approvals/{approval['id']}/approve", data={"csrf_token": bob_csrf})
    assert approved.status_code == 200 and "Approved: extend" in approved.text
    decided = client.get(f"/v1/approvals/{approval['id']}", headers=ADMIN).json()
    assert (decided["status"], decided["decided_by"]) == ("approved", "bob@example.com")
    assert _state(client, inv["id"])[2] > before[2]


def test_the_report_is_served_to_a_signed_in_reader_only(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client, "SEC-706")
    assert _error(client.get(f"/console/investigations/{inv['id']}/report"))[0] == 401
    reader = TestClient(app)
    sign_in(reader, bearer_token(issue(client, "investigator", "ivan@example.com")))
    html = reader.get(f"/console/investigations/{inv['id']}/report")
    assert html.status_code == 200 and inv["id"] in html.text
    assert "default-src 'none'" in html.headers["content-security-policy"]
    pdf = reader.get(f"/console/investigations/{inv['id']}/report?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_running_operation_streams_to_a_signed_in_reader_only(
    app: FastAPI, client: TestClient, fake: FakeExecutor
) -> None:
    release = threading.Event()
    fake.script.append(block_until(release))
    opened = client.post("/v1/investigations", json=open_body("SEC-707"), headers=ADMIN).json()
    op_id = opened["operation"]["id"]
    wait_operation(client, op_id, until=("running",))
    events_url = f"/console/operations/{op_id}/events"
    assert _error(client.get(events_url))[:2] == (401, "unauthorized")

    reader = TestClient(app)
    sign_in(reader, bearer_token(issue(client, "investigator", "ivan@example.com")))
    listing = reader.get("/console")
    row = listing.text[listing.text.index(f'data-investigation="{opened["investigation"]["id"]}"') :]
    assert f'data-events="{events_url}"' in row.split("</tr>")[0]

    threading.Timer(0.5, release.set).start()
    kinds = []
    with reader.stream("GET", events_url) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        kinds = [line.removeprefix("event: ") for line in stream.iter_lines() if line.startswith("event: ")]
    assert kinds[0] == "operation_started" and kinds[-1] == "operation_finished"
    assert "step_done" in kinds


def test_access_requests_are_decided_by_someone_else_in_the_console(app: FastAPI, client: TestClient) -> None:
    app.state.settings.person_principals["erin@example.com"] = PersonPrincipal(
        principal_arn="arn:aws:iam::123456789012:role/erin-sso"
    )
    inv = open_ready(client, "SEC-706")
    erin_headers = issue(client, "investigator", "erin@example.com")
    asked = client.post(
        f"/v1/investigations/{inv['id']}/access-requests",
        json={"role": "investigator", "hours": 2, "reason": "memory triage"},
        headers=erin_headers,
    ).json()
    erin, bob, ana = TestClient(app), TestClient(app), TestClient(app)
    erin_csrf = sign_in(erin, bearer_token(erin_headers))
    bob_csrf = sign_in(bob, bearer_token(issue(client, "data_custodian", "bob@example.com")))
    sign_in(ana, bearer_token(issue(client, "analyst", "ana@example.com")))
    approve = f'action="/console/access-requests/{asked["id"]}/approve"'

    mine = erin.get("/console/approvals")
    assert approve not in mine.text and "Your own request" in mine.text
    console = erin.post(f"/console/access-requests/{asked['id']}/approve", data={"csrf_token": erin_csrf})
    api = client.post(f"/v1/access-requests/{asked['id']}/approve", json={}, headers=erin_headers)
    assert _error(console) == _api_error(api) and _error(console)[:2] == (403, "forbidden")
    assert asked["id"] not in ana.get("/console/approvals").text  # no approving permission: not offered

    assert approve in bob.get("/console/approvals").text
    approved = bob.post(f"/console/access-requests/{asked['id']}/approve", data={"csrf_token": bob_csrf})
    assert approved.status_code == 200 and "erin@example.com&#39;s investigator access" in approved.text
    row = client.get(f"/v1/access-requests/{asked['id']}", headers=ADMIN).json()
    assert row["status"] in ("approved", "active") and row["decided_by"] == "bob@example.com"
    assert "No access request is waiting." in bob.get("/console/approvals").text


def test_a_responder_is_offered_logs_and_an_analyst_is_refused_them(app: FastAPI, client: TestClient) -> None:
    inv = open_ready(client, "SEC-2303")
    responder = TestClient(app)
    sign_in(responder, bearer_token(issue(client, "responder", "rita@example.com")))
    room = responder.get(f"/console/investigations/{inv['id']}")
    assert f"/console/investigations/{inv['id']}/logs" in room.text
    form = responder.get(f"/console/investigations/{inv['id']}/logs")
    assert form.status_code == 200
    for field in ("source_account_id", "region", "instance_id", "since", "until"):
        assert f'name="{field}"' in form.text, field

    headers = issue(client, "analyst", "ann@example.com")
    analyst = TestClient(app)
    csrf = sign_in(analyst, bearer_token(headers))
    before = _state(client, inv["id"])
    body = {
        "source_account_id": "111122223333",
        "region": inv["region"],
        "instance_id": "i-0123456789abcdef0",
    }
    console = analyst.post(f"/console/investigations/{inv['id']}/logs", data={"csrf_token": csrf, **body})
    api = client.post(f"/v1/investigations/{inv['id']}/logs", json=body, headers=headers)
    assert _error(console) == _api_error(api) == (403, "forbidden", "role analyst may not acquire")
    assert _state(client, inv["id"]) == before
    refusals = [
        e for e in audit_entries(client, actor="ann@example.com") if e["outcome"] == "refused:forbidden"
    ]
    assert {e["action"] for e in refusals} == {
        f"POST /console/investigations/{inv['id']}/logs",
        f"POST /v1/investigations/{inv['id']}/logs",
    }
