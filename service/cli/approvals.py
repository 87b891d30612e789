"""`forensics approvals`: requests held by the two-person rule, and break-glass uses (/v1/approvals)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli.choices import ApprovalStatus
from service.cli.client import DEFAULT_URL, TokenOpt, UrlOpt, api
from service.cli.output import decide, page

app = typer.Typer(
    help="Requests waiting for a second person (lists them without a sub-command); approve or deny one.",
    invoke_without_command=True,
)

COLUMNS = (
    "id",
    "investigation_id",
    "action",
    "status",
    "requested_by",
    "rule",
    "expires_at",
    "decided_by",
    "operation_id",
)


@app.callback()
def list_approvals(
    ctx: typer.Context,
    status: Annotated[ApprovalStatus | None, typer.Option(help="Only these")] = None,
    investigation: Annotated[str | None, typer.Option(help="Only this investigation's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many, newest first")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many")] = 0,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """List approvals, newest first (pending ones: --status pending_approval)."""
    if ctx.invoked_subcommand is not None:
        return
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if status is not None:
        params["status"] = status.value
    if investigation:
        params["investigation_id"] = investigation
    page(api(ctx, url, token).request("GET", "/v1/approvals", params=params), COLUMNS, title="Approvals")


def _decide(
    ctx: typer.Context, approval_id: str, verb: str, reason: str | None, url: str, token: str
) -> None:
    path = f"/v1/approvals/{approval_id}/{verb}"
    decide(
        api(ctx, url, token),
        path,
        reason,
        lambda p: str(p["message"]),
        lambda p: str(p["approval"]["action"]),
    )


@app.command()
def approve(
    ctx: typer.Context,
    approval_id: str,
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Approve another person's request: it is acted on at once, exactly as it was asked."""
    _decide(ctx, approval_id, "approve", reason, url, token)


@app.command()
def deny(
    ctx: typer.Context,
    approval_id: str,
    reason: Annotated[str, typer.Option(help="Why (3+ characters)")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Deny a request (the requester may withdraw their own); nothing is done."""
    _decide(ctx, approval_id, "deny", reason, url, token)
