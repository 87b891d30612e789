"""The console's sign-in: a signed session cookie that names an API token by its digest, and CSRF tokens.

The cookie holds ``{token digest, CSRF token, signed-in-at}`` signed with ``console_session_secret`` (HMAC,
itsdangerous). It carries no token: every request looks the digest up in the token table again
(``auth.authenticate_digest``), so revoking or expiring the token ends the session at once. The session ends
``console_session_minutes`` after sign-in by the service's clock. Every form carries the session's CSRF
token; the sign-in form, which has no session yet, carries a nonce that must match a cookie of its own
(double submit). Both cookies are HttpOnly and SameSite=Strict, so another site can neither read nor send
them.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from service.clock import Clock
from service.config import Settings
from service.errors import Forbidden, Unauthorized

SESSION_COOKIE = "fcr_console"
LOGIN_COOKIE = "fcr_console_login"
NOTICE_COOKIE = "fcr_console_notice"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf_token"

NOT_SIGNED_IN = "sign in to the console with an API token"


@dataclass(frozen=True)
class ConsoleSession:
    token_digest: str
    csrf_token: str
    signed_in_at: datetime


class SessionSigner:
    """Signs and reads the console's cookies with one key (random per process when none is configured)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.console_session_secret
        key = secret.get_secret_value() if secret is not None else secrets.token_urlsafe(32)
        self._session = URLSafeSerializer(key, salt="console-session")
        self._notice = URLSafeSerializer(key, salt="console-notice")
        self.lifetime = timedelta(minutes=settings.console_session_minutes)

    def issue(self, token_digest: str, now: datetime) -> str:
        """A new session's cookie value, with a CSRF token of its own."""
        return self._session.dumps({"d": token_digest, "c": secrets.token_urlsafe(24), "t": now.timestamp()})

    def read(self, cookie: str | None, clock: Clock) -> ConsoleSession:
        """The session, or 401: none, tampered with, or past its lifetime."""
        if not cookie:
            raise Unauthorized(NOT_SIGNED_IN)
        try:
            data = self._session.loads(cookie)
            session = ConsoleSession(
                str(data["d"]), str(data["c"]), datetime.fromtimestamp(float(data["t"]), clock().tzinfo)
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            raise Unauthorized("the console session is not valid; sign in again") from None
        if clock() >= session.signed_in_at + self.lifetime:
            raise Unauthorized("the console session has expired; sign in again")
        return session

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
