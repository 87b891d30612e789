"""`forensics access`: just-in-time access to a clean room's roles (/v1/.../access-requests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from service.cli.choices import AccessRole
from service.cli.client import DEFAULT_URL, TokenOpt, UrlOpt, api, console
from service.cli.output import decide, rows

app = typer.Typer(
    help="Ask for a clean room's role for some hours; another person approves or denies.",
    no_args_is_help=True,
)

COLUMNS = ("id", "person", "role", "hours", "status", "expires_at", "requested_by", "decided_by", "reason")


@app.command()
def request(
    ctx: typer.Context,
    investigation_id: str,
    role: Annotated[AccessRole, typer.Option(help="The clean room's role")],
    hours: Annotated[int, typer.Option(help="For how long (at most the service's max_grant_hours)")],
    reason: Annotated[str, typer.Option(help="Why (3+ characters)")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Ask for ROLE in INVESTIGATION_ID for yourself (your AWS principal is the one configured for you)."""
    body = {"role": role.value, "hours": hours, "reason": reason}
    row = api(ctx, url, token).request(
        "POST", f"/v1/investigations/{investigation_id}/access-requests", json=body
    )
    console.print(
        f"access request [bold]{row['id']}[/bold] {row['status']}: {row['role']} for {row['person']} "
        f"({row['principal_arn']}), {row['hours']} h; another person approves it with: "
        f"forensics access approve {row['id']}"
    )


@app.command("list")
def list_requests(
    ctx: typer.Context, investigation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = ""
) -> None:
    """The investigation's access requests and grants."""
    items = api(ctx, url, token).request("GET", f"/v1/investigations/{investigation_id}/access-requests")
    console.print(rows(COLUMNS, items, title=f"Access to {investigation_id}"))


def _said(payload: Mapping[str, Any]) -> str:
    row = payload["access_request"]
    return f"access request {row['id']}: {row['status']} ({row['role']} for {row['person']})"


def _decide(ctx: typer.Context, request_id: str, verb: str, reason: str | None, url: str, token: str) -> None:
    # The operation queued is the `up` that brings the trust policy in line.
    path = f"/v1/access-requests/{request_id}/{verb}"
    decide(api(ctx, url, token), path, reason, _said, lambda _payload: "trust policy update")


@app.command()
def approve(
    ctx: typer.Context,
    request_id: str,
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Approve another person's request: the grant goes into the role's trust policy until it expires."""
    _decide(ctx, request_id, "approve", reason, url, token)


@app.command()
def deny(
    ctx: typer.Context,
    request_id: str,
    reason: Annotated[str, typer.Option(help="Why")],
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Deny another person's request."""
    _decide(ctx, request_id, "deny", reason, url, token)


@app.command()
def revoke(
    ctx: typer.Context,
    request_id: str,
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Withdraw your request or give up your grant (an approver may take anyone's back)."""
    _decide(ctx, request_id, "revoke", reason, url, token)
