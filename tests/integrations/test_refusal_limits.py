"""Attacks on the integration endpoints that are refused: a flood of forged requests is limited per source and
counted instead of each writing an audit row (a flood must not fill the audit log), and a signed command or
button press cannot make the service POST to a host other than Slack's (response_url SSRF)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.integrations.integration_context import Integrations
from service.integrations.models import ChatSubscription, OutboxMessage
from service.observability.metrics import REGISTRY
from tests.integrations.test_slack_buttons import press
from tests.support.api import ADMIN
from tests.support.clock import TestClock
from tests.support.integrations import audit_entries, jira_event, signed_webhook, slash

WEBHOOK = "/v1/integrations/tickets/webhook"
COMMANDS = "/v1/integrations/slack/commands"
ACTIONS = "/v1/integrations/slack/actions"


def _refusals(endpoint: str, reason: str) -> float:
    labels = {"endpoint": endpoint, "reason": reason}
    return REGISTRY.get_sample_value("forensics_integration_refusals_total", labels) or 0.0


def _investigations(client: TestClient) -> int:
    return int(client.get("/v1/investigations", headers=ADMIN).json()["total"])


def test_a_flood_of_forged_webhooks_is_limited_and_counted_not_audited_row_by_row(
    app: FastAPI, client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    settings = ctx.settings
    before_401 = _refusals("integrations/tickets/webhook", "unauthorized")
    before_429 = _refusals("integrations/tickets/webhook", "rate_limited")
    payload = jira_event("SEC-950", labels=["forensics"])

    statuses = [
        client.post(WEBHOOK, content=body, headers=headers).status_code
        for body, headers in (signed_webhook(payload, clock, secret=f"forged-{i}") for i in range(100))
    ]

    burst = settings.integration_refusal_burst
    assert statuses[:burst] == [401] * burst
    assert statuses[burst:] == [429] * (100 - burst)
    limited = client.post(WEBHOOK, content=b"{}", headers={"Content-Type": "application/json"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "too_many_requests"
    rows = audit_entries(client, action="integration.ticket_webhook")
    assert len(rows) == settings.integration_refusals_audited
    assert {r["details"]["source"] for r in rows} == {"testclient"}
    assert _refusals("integrations/tickets/webhook", "unauthorized") - before_401 == burst
    assert _refusals("integrations/tickets/webhook", "rate_limited") - before_429 == 101 - burst
    assert _investigations(client) == 0

    # Another source (a real ticketing system) is not held back by the flood, and after the window the
    # flood is summed up in one row.
    clock.advance(seconds=settings.integration_refusal_audit_seconds + 1)
    with TestClient(app, client=("203.0.113.7", 40000)) as ticketing:
        body, headers = signed_webhook(payload, clock)
        ok = ticketing.post(WEBHOOK, content=body, headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["results"][0]["outcome"] == "accepted"
    rows = audit_entries(client, action="integration.ticket_webhook")
    summaries = [r for r in rows if r["outcome"] == "refused:summary"]
    assert len(rows) == settings.integration_refusals_audited + 1 and len(summaries) == 1
    assert summaries[0]["details"]["source"] == "testclient"
    assert summaries[0]["details"]["refused"] == 101 - settings.integration_refusals_audited
    assert client.get("/v1/audit/verify", headers=ADMIN).json()["ok"] is True


def test_forged_slack_commands_and_presses_share_the_sources_allowance(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    burst = ctx.settings.integration_refusal_burst
    forged = [
        client.post(COMMANDS, content=body, headers=headers).status_code
        for body, headers in (slash("list", clock, secret=f"wrong-{i}") for i in range(burst))
    ]
    assert forged == [401] * burst
    body, headers = press("approval.approve", "a" * 8, clock, user="UCUST", secret="wrong")
    assert client.post(ACTIONS, content=body, headers=headers).status_code == 429
    # A correctly signed command from the same source is held too until its bucket refills.
    body, headers = slash("list", clock)
    assert client.post(COMMANDS, content=body, headers=headers).status_code == 429
    clock.advance(seconds=60)
    body, headers = slash("help", clock)
    assert client.post(COMMANDS, content=body, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://internal.example/hooks/x",
        "http://hooks.slack.com/commands/T1/1/x",  # Slack's host, but not over TLS
        "https://hooks.slack.com.internal.example/commands/T1/1/x",
        "https://user:pw@hooks.slack.com/commands/T1/1/x",
    ],
)
def test_a_command_never_posts_to_a_response_url_outside_slack(
    client: TestClient, clock: TestClock, ctx: Integrations, url: str
) -> None:
    body, headers = slash("open SEC-951", clock, response_url=url)
    response = client.post(COMMANDS, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "not an allowed Slack host" in response.json()["text"]
    assert _investigations(client) == 0
    with ctx.session_factory() as session:
        assert session.execute(select(OutboxMessage.destination)).scalars().all() == []
        assert session.execute(select(ChatSubscription.url)).scalars().all() == []
    refused = audit_entries(client, action="chat.open")
    assert [r["outcome"] for r in refused] == ["refused:forbidden"]
    assert "not an allowed Slack host" in refused[0]["details"]["message"]


def test_a_button_press_never_posts_to_a_response_url_outside_slack(
    client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    url = "https://169.254.169.254/latest/meta-data/"
    body, headers = press("approval.approve", "apr-unknown", clock, user="UCUST", response_url=url)
    response = client.post(ACTIONS, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is False and "not an allowed Slack host" in response.json()["text"]
    with ctx.session_factory() as session:
        destinations = session.execute(select(OutboxMessage.destination)).scalars().all()
    assert not [d for d in destinations if "169.254" in d]
    refused = audit_entries(client, action="integration.slack_action")
    assert [r["outcome"] for r in refused] == ["refused:forbidden"]


def test_a_source_cannot_escape_its_limit_by_claiming_other_addresses(
    app: FastAPI, client: TestClient, clock: TestClock, ctx: Integrations
) -> None:
    """X-Forwarded-For is believed from a trusted proxy only: a client rotating it is still one source,
    while clients behind the trusted proxy are told apart by it."""
    ctx.settings.trusted_proxies = ["10.0.0.0/8"]
    burst = ctx.settings.integration_refusal_burst
    payload = jira_event("SEC-952", labels=["forensics"])
    statuses = []
    for i in range(burst + 5):
        body, headers = signed_webhook(payload, clock, secret="forged")
        spoofed = {**headers, "X-Forwarded-For": f"198.51.100.{i}"}
        statuses.append(client.post(WEBHOOK, content=body, headers=spoofed).status_code)
    assert statuses == [401] * burst + [429] * 5

    with TestClient(app, client=("10.0.0.9", 443)) as proxy:
        for _ in range(burst):
            body, headers = signed_webhook(payload, clock, secret="forged")
            forwarded = {**headers, "X-Forwarded-For": "203.0.113.50"}
            assert proxy.post(WEBHOOK, content=body, headers=forwarded).status_code == 401
        body, headers = signed_webhook(payload, clock, secret="forged")
        held = proxy.post(WEBHOOK, content=body, headers={**headers, "X-Forwarded-For": "203.0.113.50"})
        assert held.status_code == 429
        body, headers = signed_webhook(payload, clock)
        other = proxy.post(WEBHOOK, content=body, headers={**headers, "X-Forwarded-For": "203.0.113.51"})
        assert other.status_code == 200, other.text
    sources = {r["details"]["source"] for r in audit_entries(client, action="integration.ticket_webhook")}
    assert sources == {"testclient", "203.0.113.50"}
