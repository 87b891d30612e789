"""Commands on one investigation and its operations: open, list, show, the actions of the action table (each a
POST /v1/investigations/{id}/<action>), extend, cancel and break-glass."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli.client import DEFAULT_URL, TokenOpt, UrlOpt, api, console, err
from service.cli.output import held, queued, rows, show_investigation, watch

WatchOpt = Annotated[bool, typer.Option("--watch/--no-watch", help="Follow the operation live")]


def create(
    ctx: typer.Context,
    ticket: str,
    title: Annotated[str, typer.Option(help="Short description")] = "",
    region: Annotated[str | None, typer.Option(help="AWS region")] = None,
    evidence: Annotated[
        list[str] | None,
        typer.Option(
            help="Evidence to acquire once the clean room is ready: SOURCE_ACCOUNT:snap-… or "
            "SOURCE_ACCOUNT:i-… (repeatable; the account must be a configured evidence source)"
        ),
    ] = None,
    ttl_hours: Annotated[int | None, typer.Option(help="Hours before automatic teardown")] = None,
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Open an investigation: a new clean room for TICKET."""
    body: dict[str, Any] = {"ticket": ticket, "title": title or ticket}
    if region:
        body["region"] = region
    if evidence:
        body["evidence"] = [_evidence_source(item) for item in evidence]
    if ttl_hours:
        body["ttl_hours"] = ttl_hours
    client = api(ctx, url, token)
    payload = client.request("POST", "/v1/investigations", json=body)
    inv = payload.get("investigation", payload)
    console.print(f"investigation [bold]{inv.get('id')}[/bold] ({inv.get('status')})")
    queued(client, payload, "open", follow)


def _evidence_source(text: str) -> dict[str, str]:
    """``ACCOUNT:snap-…`` or ``ACCOUNT:i-…`` as the open request's evidence item (the API checks the rest)."""
    account, _, resource = text.partition(":")
    if not resource:
        err.print(f"--evidence {text!r}: give SOURCE_ACCOUNT:snap-… or SOURCE_ACCOUNT:i-…")
        raise typer.Exit(2)
    key = "instance_id" if resource.startswith("i-") else "snapshot_id"
    return {"source_account_id": account, key: resource}


def list_investigations(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Filter by status")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """List investigations."""
    params = {"status": status} if status else {}
    payload = api(ctx, url, token).request("GET", "/v1/investigations", params=params)
    console.print(rows(("id", "ticket", "status", "region", "created_at"), payload.get("items", [])))


def show(ctx: typer.Context, investigation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Status, outputs and timeline of one investigation."""
    show_investigation(api(ctx, url, token).request("GET", f"/v1/investigations/{investigation_id}"))


def watch_operation(
    ctx: typer.Context, operation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = ""
) -> None:
    """Follow an operation live."""
    watch(api(ctx, url, token), operation_id)


def _action(
    ctx: typer.Context,
    investigation_id: str,
    action: str,
    url: str,
    token: str,
    body: dict[str, Any],
    follow: bool,
) -> None:
    client = api(ctx, url, token)
    payload = client.request("POST", f"/v1/investigations/{investigation_id}/{action}", json=body)
    # Held by the two-person rule: there is nothing to follow until someone else approves it.
    if not held(payload):
        queued(client, payload, action, follow)


def freeze(
    ctx: typer.Context,
    investigation_id: str,
    reason: Annotated[str, typer.Option(help="Why")] = "legal hold",
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Preserve the clean room: stop, snapshot, revoke access, legal hold."""
    _action(ctx, investigation_id, "freeze", url, token, {"reason": reason}, follow)


def release(
    ctx: typer.Context,
    investigation_id: str,
    reason: Annotated[str, typer.Option(help="Why the freeze may be lifted (3+ characters)")],
    remove_legal_holds: Annotated[
        bool, typer.Option(help="Also remove the legal holds on the evidence (a retention change)")
    ] = False,
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Lift a freeze (data custodian). It lifts a legal hold, so it waits for a second person's approval."""
    body = {"reason": reason, "remove_legal_holds": remove_legal_holds}
    _action(ctx, investigation_id, "release", url, token, body, follow)


def destroy(
    ctx: typer.Context,
    investigation_id: str,
    delete_evidence: Annotated[
        bool, typer.Option(help="Also delete the evidence bucket (custodian; needs a second person)")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why")] = "investigation closed",
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Tear down the clean room (the evidence bucket is kept unless asked otherwise)."""
    body = {"retain_evidence_bucket": not delete_evidence, "reason": reason}
    _action(ctx, investigation_id, "destroy", url, token, body, follow)


def refresh(
    ctx: typer.Context,
    investigation_id: str,
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Drift check: differences are reported, never repaired."""
    _action(ctx, investigation_id, "refresh", url, token, {}, follow)


def extend(
    ctx: typer.Context,
    investigation_id: str,
    hours: Annotated[int, typer.Argument(help="Hours added to the later of the current expiry and now")],
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Push the expiry back. A long extension waits for a second person's approval."""
    body: dict[str, Any] = {"hours": hours}
    if reason:
        body["reason"] = reason
    payload = api(ctx, url, token).request("POST", f"/v1/investigations/{investigation_id}/extend", json=body)
    if not held(payload):
        console.print(f"investigation {payload.get('id')} now expires at {payload.get('expires_at')}")


def cancel(ctx: typer.Context, operation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Cancel a queued operation or ask a running one to stop.

    Cancelling a custodian's release or destroy that someone else asked for waits for a second person."""
    payload = api(ctx, url, token).request("POST", f"/v1/operations/{operation_id}/cancel")
    if not held(payload):
        console.print(f"operation {payload.get('id')} ({payload.get('action')}): {payload.get('state')}")


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            err.print(f"[red]--param {pair!r}[/red]: write it as key=value")
            raise typer.Exit(2)
        params[key] = value
    return params


def break_glass(
    ctx: typer.Context,
    investigation_id: str,
    action: Annotated[str, typer.Argument(help="release, destroy or extend")],
    reason: Annotated[
        str, typer.Option(help="The justification (20+ characters); alerted, audited, in the custody report")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="The action's body, key=value (repeatable), e.g. remove_legal_holds=true, hours=120, "
            "retain_evidence_bucket=false. The action's reason defaults to the justification.",
        ),
    ] = None,
    follow: WatchOpt = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Act alone, at once, on a request the two-person rule would hold, when nobody else can be reached."""
    # Values go as text: the API reads "true" as a boolean and "120" as a number where its model says so.
    params: dict[str, Any] = _params(param or [])
    params.setdefault("reason", reason)
    body = {"action": action, "params": params, "reason": reason}
    client = api(ctx, url, token)
    payload = client.request("POST", f"/v1/investigations/{investigation_id}/break-glass", json=body)
    console.print(f"[red]{payload.get('message')}[/red] (approval {payload['approval']['id']})")
    queued(client, payload, action, follow)
