"""`forensics audit`: the hash-chained audit log (/v1/audit) and its verification (/v1/audit/verify)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli.client import DEFAULT_URL, TokenOpt, UrlOpt, api, console
from service.cli.output import page, record

COLUMNS = ("id", "time", "actor", "role", "action", "target", "outcome")
VERIFICATION = (
    "ok",
    "checked",
    "first_bad_id",
    "reason",
    "anchors_checked",
    "anchored_through",
    "anchor_problems",
)


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many")] = 0,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. investigation.release")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor")] = None,
    target: Annotated[str | None, typer.Option(help="Only this target (an investigation id...)")] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Recompute the chain instead; exit 1 unless it is intact")
    ] = False,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """The audit log's entries, or (--verify) whether the chain is intact."""
    client = api(ctx, url, token)
    if verify:
        result = client.request("GET", "/v1/audit/verify")
        console.print(record("Audit chain verification", result, VERIFICATION))
        if not result.get("ok"):
            console.print("[red]the audit chain is NOT intact[/red]")
            raise typer.Exit(1)
        console.print(f"[green]the audit chain is intact[/green] ({result.get('checked')} entries)")
        return
    filters = {"action": action, "actor": actor, "target": target}
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    params.update({key: value for key, value in filters.items() if value})
    page(client.request("GET", "/v1/audit", params=params), COLUMNS, title="Audit log")
