"""Request authenticity for inbound integrations.

Ticket webhooks: ``X-Forensics-Timestamp`` (unix seconds) and ``X-Forensics-Signature:
sha256=<hex hmac_sha256(secret, f"{ts}.{raw body}")>``. Slack: ``slack_sdk``'s v0 ``SignatureVerifier`` with
the service's injectable clock. Both fail closed (no secret configured: refuse), both reject a timestamp
outside the window and a signature that was already accepted once (a replay), so a captured request cannot
be sent again even inside the window.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.clock import Clock
from service.errors import Unauthorized
from service.integrations.models import WebhookNonce

TIMESTAMP_HEADER = "x-forensics-timestamp"
SIGNATURE_HEADER = "x-forensics-signature"
SLACK_WINDOW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Forensics-Signature for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_ticket_webhook(
    secret: str | None, headers: Mapping[str, str], body: bytes, now: datetime, tolerance_seconds: int
) -> str:
    """Returns the signature (the replay key) or raises Unauthorized saying what was wrong."""
    if not secret:
        raise Unauthorized("ticket webhooks are not configured (no shared secret)")
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature:
        raise Unauthorized("the webhook is not signed")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("the webhook timestamp is not unix seconds")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise Unauthorized("the webhook timestamp is outside the accepted window")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        raise Unauthorized("the webhook signature does not match")
    return signature.strip()


class _ServiceClock(SlackClock):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock().timestamp()


def verify_slack(secret: str | None, headers: Mapping[str, str], body: bytes, clock: Clock) -> str:
    if not secret:
        raise Unauthorized("slash commands are not configured (no signing secret)")
    signature = headers.get("x-slack-signature")
    timestamp = headers.get("x-slack-request-timestamp")
    if not signature or not timestamp:
        raise Unauthorized("the request is not signed")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized("the request timestamp is not unix seconds")
    verifier = SignatureVerifier(secret, clock=_ServiceClock(clock))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise Unauthorized("the request signature is invalid or outside the 5-minute window")
    return signature


def remember(session: Session, source: str, signature: str, now: datetime) -> None:
    """Accept a signature once: a second request with the same one is a replay (Unauthorized). Flushed (not
    committed) so the nonce commits with whatever the request changes."""
    digest = hashlib.sha256(f"{source}:{signature}".encode()).hexdigest()
    session.add(WebhookNonce(digest=digest, source=source, seen_at=now))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Unauthorized("this request was already received (replay)") from None


def prune(session: Session, now: datetime, keep_seconds: int) -> int:
    """Nonces older than the window can go: their timestamps are refused anyway."""
    cutoff = now - timedelta(seconds=keep_seconds)
    result = session.execute(delete(WebhookNonce).where(WebhookNonce.seen_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
