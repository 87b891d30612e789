"""`forensics tokens`: API tokens (/v1/tokens, admin only)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.auth.roles import Role
from service.cli.client import DEFAULT_URL, TokenOpt, UrlOpt, api, console
from service.cli.output import rows

app = typer.Typer(help="Issue, list and revoke API tokens (admin).", no_args_is_help=True)

COLUMNS = ("id", "principal", "role", "created_by", "created_at", "expires_at", "revoked_at")


@app.command("list")
def list_tokens(ctx: typer.Context, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Every token: who it is for, its role, and whether it expired or was revoked (never the secret)."""
    console.print(rows(COLUMNS, api(ctx, url, token).request("GET", "/v1/tokens"), title="Tokens"))


@app.command()
def create(
    ctx: typer.Context,
    principal: Annotated[
        str,
        typer.Argument(
            help="Who the token is for: a configured person (e.g. alice@example.com) or service:<name>"
        ),
    ],
    role: Annotated[Role, typer.Option(help="What it may do")],
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650, help="Default: never")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Issue a token; its secret is printed this once (only its hash is stored)."""
    body: dict[str, Any] = {"principal": principal, "role": role.value}
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    issued = api(ctx, url, token).request("POST", "/v1/tokens", json=body)
    console.print(
        f"token {issued['id']} for {issued['principal']} ({issued['role']}); its secret, shown only now:"
    )
    # Plain print: the secret on a line of its own, never wrapped or styled, to copy or pipe.
    typer.echo(issued["token"])


@app.command()
def revoke(ctx: typer.Context, token_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Revoke a token: it is refused from now on."""
    row = api(ctx, url, token).request("DELETE", f"/v1/tokens/{token_id}")
    console.print(f"token {row['id']} for {row['principal']} revoked at {row['revoked_at']}")
