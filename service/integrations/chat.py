"""Outbound chat: Slack-compatible messages POSTed to a slash command's response_url or an incoming
webhook."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from service.integrations.ticketing_client import post_json, verified_tls


class ChatClient(Protocol):
    def post_message(
        self, url: str, message: dict[str, Any], *, idempotency_key: str | None = None
    ) -> None: ...


class HttpChatClient:
    def __init__(self, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=verified_tls())

    def post_message(self, url: str, message: dict[str, Any], *, idempotency_key: str | None = None) -> None:
        post_json(self._http, url, message, idempotency_key, "chat message")

    def close(self) -> None:
        self._http.close()
