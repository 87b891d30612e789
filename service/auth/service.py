"""Issue, look up and revoke API tokens; authenticate a bearer token to a principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit import service as audit
from service.auth.models import ApiToken
from service.auth.roles import Permission, Role, allows
from service.clock import Clock
from service.config import Settings
from service.errors import Forbidden, NotFound, Unauthorized

TOKEN_PREFIX = "fcr_"
BOOTSTRAP_PRINCIPAL = "bootstrap-admin"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    token_id: str | None = None

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.name, self.role.value)

    def require(self, permission: Permission) -> None:
        if not allows(self.role, permission):
            raise Forbidden(
                f"role {self.role.value} may not {permission.value}",
                details={"role": self.role.value, "permission": permission.value},
            )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _configured_bootstrap_token(settings: Settings) -> str:
    """The bootstrap admin token in clear, "" when unset."""
    return settings.bootstrap_admin_token.get_secret_value() if settings.bootstrap_admin_token else ""


def bootstrap_enabled(settings: Settings) -> bool:
    """Whether the bootstrap admin may act at all: only while a non-empty token is configured."""
    return bool(_configured_bootstrap_token(settings))


def is_bootstrap_token(settings: Settings, digest: str) -> bool:
    """Whether a token, known by its SHA-256, is the configured bootstrap admin token. The one place that
    decides it for every entry point (API bearer, console sign-in, console session): never while the setting
    is unset or empty, and compared in constant time so the answer's timing tells nothing of the token."""
    configured = _configured_bootstrap_token(settings)
    if not configured:
        return False
    return hmac.compare_digest(digest.encode(), hash_token(configured).encode())


def authenticate(session: Session, clock: Clock, settings: Settings, token: str | None) -> Principal:
    if not token:
        raise Unauthorized("a bearer token is required")
    return authenticate_digest(session, clock, settings, hash_token(token))


def authenticate_digest(session: Session, clock: Clock, settings: Settings, digest: str) -> Principal:
    """``authenticate`` for a token known by its SHA-256 (the console's session keeps the digest, never the
    token): checked against the token table on every request, so a revoked or expired token ends it."""
    if is_bootstrap_token(settings, digest):
        return Principal(BOOTSTRAP_PRINCIPAL, Role.ADMIN)
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
    now = clock()
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthorized("the bearer token is not valid")
    return Principal(row.principal, Role(row.role), token_id=row.id)


def issue_token(
    session: Session,
    clock: Clock,
    *,
    by: Principal,
    principal: str,
    role: Role,
    expires_in_days: int | None,
    request_id: str | None,
) -> tuple[ApiToken, str]:
    """Returns the row and the token; the token is never retrievable again."""
    token = generate_token()
    now = clock()
    row = ApiToken(
        id=str(uuid.uuid4()),
        token_hash=hash_token(token),
        principal=principal,
        role=role.value,
        created_by=by.name,
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(row)
    audit.record(
        session,
        clock,
        actor=by.actor,
        action="token.issue",
        target=f"token/{row.id}",
        outcome="ok",
        request_id=request_id,
        details={"principal": principal, "role": role.value},
    )
    session.commit()
    return row, token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.created_at)).scalars())


def revoke_token(
    session: Session, clock: Clock, *, by: Principal, token_id: str, request_id: str | None
) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = clock()
    audit.record(
        session,
        clock,
        actor=by.actor,
        action="token.revoke",
        target=f"token/{row.id}",
        outcome="ok",
        request_id=request_id,
        details={"principal": row.principal},
    )
    session.commit()
    return row
