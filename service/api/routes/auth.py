"""/v1/tokens: admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from service.api.deps import ClockDep, RequestIdDep, SessionDep, SettingsDep, require
from service.api.schemas import ERROR_RESPONSES
from service.auth import service
from service.auth.persons import require_token_principal
from service.auth.roles import Permission
from service.auth.schemas import IssuedToken, TokenCreate, TokenOut
from service.auth.service import Principal

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, Depends(require(Permission.TOKENS))]
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=IssuedToken)
def issue_token(
    body: TokenCreate,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    admin: Admin,
    request_id: RequestIdDep,
) -> IssuedToken:
    """A token for a configured person (FORENSICS_PERSON_ALIASES / FORENSICS_PERSON_PRINCIPALS) or a
    service principal (``service:<name>``); anyone else would be a person the two-person rule cannot
    count (422)."""
    require_token_principal(settings, body.principal)
    row, token = service.issue_token(
        session,
        clock,
        by=admin,
        principal=body.principal,
        role=body.role,
        expires_in_days=body.expires_in_days,
        request_id=request_id,
    )
    return IssuedToken(**TokenOut.model_validate(row).model_dump(), token=token)


@router.get("", response_model=list[TokenOut])
def list_tokens(session: SessionDep, _: Admin) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in service.list_tokens(session)]


@router.delete("/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: TokenId, session: SessionDep, clock: ClockDep, admin: Admin, request_id: RequestIdDep
) -> TokenOut:
    return TokenOut.model_validate(
        service.revoke_token(session, clock, by=admin, token_id=token_id, request_id=request_id)
    )
