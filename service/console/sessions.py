"""The console's sign-in: a server-side session named by a random id in a signed cookie, and CSRF tokens.

Signing in with an API token opens a ``console_sessions`` row (the token by its digest, the session's CSRF
token, its expiry) and sets a cookie holding only a random session id, signed with
``console_session_secret`` (HMAC, itsdangerous); the table keeps the id's SHA-256, never the id. Every
request finds the row again (unknown, revoked or expired: 401) and checks its token against the token
table (``auth.authenticate_digest``), so signing out, revoking the token or its expiry ends the session at
once, on every API node, and a cookie copied before sign-out is worthless after it. The session ends
``console_session_minutes`` after sign-in by the service's clock. Every form carries the session's CSRF
token; the sign-in form, which has no session yet, carries a nonce that must match a cookie of its own
(double submit). The cookies are HttpOnly and SameSite=Strict, so another site can neither read nor send
them, and Secure when the request came over HTTPS (directly or through a trusted proxy: forwarded.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from service.clock import Clock, as_utc
from service.config import Settings
from service.console.models import ConsoleSession
from service.errors import Forbidden, Unauthorized

SESSION_COOKIE = "fcr_console"
LOGIN_COOKIE = "fcr_console_login"
NOTICE_COOKIE = "fcr_console_notice"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"

NOT_SIGNED_IN = "sign in to the console with an API token"
SIGNED_OUT = "the console session has ended (signed out); sign in again"


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionSigner:
    """Opens, reads and ends console sessions, and signs the console's cookies with one key (random per
    process when none is configured)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.console_session_secret
        key = secret.get_secret_value() if secret is not None else secrets.token_urlsafe(32)
        self._session = URLSafeSerializer(key, salt="console-session")
        self._notice = URLSafeSerializer(key, salt="console-notice")
        self.lifetime = timedelta(minutes=settings.console_session_minutes)

    def open(self, db: Session, clock: Clock, token_digest: str, principal: str) -> str:
        """A new session (flushed in ``db``; the caller commits) and its cookie value."""
        session_id = secrets.token_urlsafe(32)
        now = clock()
        db.add(
            ConsoleSession(
                id_hash=_id_hash(session_id),
                token_digest=token_digest,
                csrf_token=secrets.token_urlsafe(24),
                principal=principal[:200],
                created_at=now,
                expires_at=now + self.lifetime,
            )
        )
        db.flush()
        return self._session.dumps({"s": session_id})

    def read(self, db: Session, cookie: str | None, clock: Clock) -> ConsoleSession:
        """The open session, or 401: none, tampered with, unknown, signed out, or past its lifetime."""
        if not cookie:
            raise Unauthorized(NOT_SIGNED_IN)
        try:
            session_id = str(self._session.loads(cookie)["s"])
        except (BadSignature, KeyError, TypeError, ValueError):
            raise Unauthorized("the console session is not valid; sign in again") from None
        row = db.get(ConsoleSession, _id_hash(session_id))
        if row is None:
            raise Unauthorized("the console session is not valid; sign in again")
        if row.revoked_at is not None:
            raise Unauthorized(SIGNED_OUT)
        if clock() >= as_utc(row.expires_at):
            raise Unauthorized("the console session has expired; sign in again")
        return row

    def still_open(self, db: Session, id_hash: str, clock: Clock) -> bool:
        row = db.get(ConsoleSession, id_hash)
        return row is not None and row.revoked_at is None and clock() < as_utc(row.expires_at)

    @staticmethod
    def end(row: ConsoleSession, clock: Clock) -> None:
        """Sign out: the row is revoked (the caller commits); its cookie never signs anyone in again."""
        if row.revoked_at is None:
            row.revoked_at = clock()

    def notice(self, message: str) -> str:
        return self._notice.dumps(message)

    def read_notice(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return str(self._notice.loads(cookie))
        except BadSignature:
            return None


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(expected: str | None, given: object) -> None:
    """403 unless the form sent the token its page was rendered with."""
    if not isinstance(given, str) or not given:
        raise Forbidden("the form has no CSRF token; reload the page and submit it again")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form's CSRF token is not this session's; reload the page and submit it again")
