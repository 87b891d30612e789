from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from service.auth.roles import Role
from service.schemas import StrictModel


class TokenCreate(StrictModel):
    principal: str = Field(
        min_length=1, max_length=200, pattern=r"^[\w.@+:/ -]+$", examples=["alice@example.com"]
    )
    role: Role
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    principal: str
    role: Role
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedToken(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")
