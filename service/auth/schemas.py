from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from service.api.schemas import StrictModel
from service.auth.models import ApiToken
from service.auth.roles import Role


class TokenCreate(StrictModel):
    principal: str = Field(
        min_length=1, max_length=200, pattern=r"^[\w.@+:/ -]+$", examples=["alice@example.com"]
    )
    role: Role
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    principal: str
    role: Role
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id,
            principal=t.principal,
            role=Role(t.role),
            created_by=t.created_by,
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )


class IssuedToken(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")
