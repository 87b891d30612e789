"""Outbound ticket comments: a ``TicketingClient`` Protocol and two httpx implementations.

The httpx transport is the seam (tests pass none and talk to a real local server; an in-process transport
works too). Every POST carries ``Idempotency-Key`` (the outbox message id), so a receiver that honours it
never shows a comment twice even if our "delivered" mark is lost after a successful POST. Jira ignores that
header: there the key also travels as a comment property (``forensics-outbox``), and ``find_comment`` looks
it up before the outbox posts a message that may have arrived already.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from service.config import Settings
from service.errors import DeliveryError, Misconfigured

# Statuses that will not get better by retrying the same request (the message is dead-lettered).
PERMANENT_STATUSES = frozenset({400, 404, 405, 410, 413, 422})


@cache
def verified_tls() -> ssl.SSLContext:
    """The TLS settings of every outbound client: httpx's default (certifi's CAs, or SSL_CERT_FILE /
    SSL_CERT_DIR), made once per process. httpx builds a new one for each client otherwise, loading the CA
    bundle again (about 10 ms of CPU), twice for every app the service starts."""
    return httpx.create_ssl_context()


def raise_for_delivery(response: httpx.Response, what: str) -> None:
    if response.is_success:
        return
    status = response.status_code
    raise DeliveryError(
        f"{what}: HTTP {status} {response.text[:300]}", permanent=status in PERMANENT_STATUSES
    )


def post_json(
    http: httpx.Client, url: str, body: dict[str, object], idempotency_key: str | None, what: str
) -> httpx.Response:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    try:
        response = http.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{what}: {type(exc).__name__}: {exc}") from exc
    raise_for_delivery(response, what)
    return response


def _id_in(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return None if found is None else str(found)


class TicketingClient(Protocol):
    def post_comment(self, ticket: str, text: str, *, idempotency_key: str | None = None) -> str | None:
        """Add ``text`` as a comment on ``ticket``; returns the receiver's comment id if it gives one; raise
        DeliveryError when it did not arrive."""
        ...

    def find_comment(self, ticket: str, idempotency_key: str) -> str | None:
        """The id of the comment posted earlier with ``idempotency_key``, if the receiver has it; None when
        it has not (or the receiver cannot say and honours the key itself). DeliveryError if unreachable."""
        ...


# The comment property that carries the outbox key on receivers that ignore Idempotency-Key (Jira).
KEY_PROPERTY = "forensics-outbox"
_PAGE = 100


class JiraTicketingClient:
    """Jira REST v2: POST {base}/rest/api/2/issue/{key}/comment {"body": text}."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        username: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        auth: httpx.Auth | None = None
        headers: dict[str, str] = {"Accept": "application/json"}
        if username and token:
            auth = httpx.BasicAuth(username, token)
        elif token:
            headers["Authorization"] = f"Bearer {token}"
        self._base = base_url.rstrip("/")
        self._http = httpx.Client(
            timeout=timeout, transport=transport, auth=auth, headers=headers, verify=verified_tls()
        )

    def _comments_url(self, ticket: str) -> str:
        return f"{self._base}/rest/api/2/issue/{quote(ticket, safe='')}/comment"

    def post_comment(self, ticket: str, text: str, *, idempotency_key: str | None = None) -> str | None:
        body: dict[str, object] = {"body": text}
        if idempotency_key:
            body["properties"] = [{"key": KEY_PROPERTY, "value": {"key": idempotency_key}}]
        response = post_json(
            self._http, self._comments_url(ticket), body, idempotency_key, f"comment on {ticket}"
        )
        return _id_in(response)

    def find_comment(self, ticket: str, idempotency_key: str) -> str | None:
        """Pages through the ticket's comments, newest first, with their properties."""
        start = 0
        while True:
            params: dict[str, Any] = {
                "expand": "properties",
                "orderBy": "-created",
                "startAt": start,
                "maxResults": _PAGE,
            }
            try:
                response = self._http.get(self._comments_url(ticket), params=params)
            except httpx.HTTPError as exc:
                raise DeliveryError(f"comments of {ticket}: {type(exc).__name__}: {exc}") from exc
            raise_for_delivery(response, f"comments of {ticket}")
            page = response.json()
            comments = page.get("comments") or []
            for comment in comments:
                for prop in comment.get("properties") or []:
                    if (
                        prop.get("key") == KEY_PROPERTY
                        and (prop.get("value") or {}).get("key") == idempotency_key
                    ):
                        return str(comment.get("id"))
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return None

    def close(self) -> None:
        self._http.close()


class GenericTicketingClient:
    """Any JSON receiver: POST {base} {"ticket": key, "text": text} (Bearer token if configured)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._url = url
        self._http = httpx.Client(
            timeout=timeout, transport=transport, headers=headers, verify=verified_tls()
        )

    def post_comment(self, ticket: str, text: str, *, idempotency_key: str | None = None) -> str | None:
        body: dict[str, object] = {"ticket": ticket, "text": text}
        return _id_in(post_json(self._http, self._url, body, idempotency_key, f"comment on {ticket}"))

    def find_comment(self, ticket: str, idempotency_key: str) -> str | None:
        """A generic receiver has no lookup: it must honour Idempotency-Key itself (README)."""
        return None

    def close(self) -> None:
        self._http.close()


def make_ticketing_client(
    settings: Settings, transport: httpx.BaseTransport | None = None
) -> TicketingClient | None:
    """None when no ticketing system is configured (then no ticket comments are queued at all)."""
    if settings.ticketing_kind == "none":
        return None
    if not settings.ticketing_base_url:
        raise Misconfigured(f"ticketing_kind={settings.ticketing_kind} needs ticketing_base_url")
    token = settings.ticketing_token.get_secret_value() if settings.ticketing_token else None
    if settings.ticketing_kind == "jira":
        return JiraTicketingClient(
            settings.ticketing_base_url,
            token=token,
            username=settings.ticketing_username,
            timeout=settings.ticketing_timeout_seconds,
            transport=transport,
        )
    return GenericTicketingClient(
        settings.ticketing_base_url,
        token=token,
        timeout=settings.ticketing_timeout_seconds,
        transport=transport,
    )
