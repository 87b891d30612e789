"""`forensics`: the command line over the service's REST API (typer + rich).

Reads the service URL and token from --url/--token or FORENSICS_URL / FORENSICS_TOKEN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Open, watch, freeze and destroy forensic clean rooms.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

UrlOpt = Annotated[str, typer.Option("--url", envvar="FORENSICS_URL", help="Service base URL")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="FORENSICS_TOKEN", help="API token")]
DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL_STATES = {"succeeded", "failed", "cancelled", "interrupted"}


class ApiClient:
    """Thin client; ``transport`` is the seam tests use to talk to an in-process app."""

    def __init__(self, url: str, token: str, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, read=None),
            transport=transport,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                message = f"{error['code']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                message = response.text
            err.print(f"[red]error {response.status_code}[/red] {message}")
            raise typer.Exit(1)
        return response.json() if response.content else None

    def events(self, operation_id: str) -> Iterator[dict[str, Any]]:
        with self._http.stream("GET", f"/v1/operations/{operation_id}/events") as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    yield json.loads(line[5:].strip())


def _client(ctx: typer.Context, url: str, token: str) -> ApiClient:
    # ctx.obj may carry a transport (tests talk to an in-process app through it).
    transport = ctx.obj if isinstance(ctx.obj, httpx.BaseTransport) else None
    return ApiClient(url or DEFAULT_URL, token, transport)


def _operation_id(payload: dict[str, Any]) -> str | None:
    op = payload.get("operation") or {}
    return str(op["id"]) if op.get("id") else None


def _show_investigation(inv: dict[str, Any]) -> None:
    table = Table(title=f"Investigation {inv.get('id')}", show_header=False)
    for key in ("ticket", "title", "status", "region", "created_at", "expires_at"):
        if inv.get(key) is not None:
            table.add_row(key, str(inv[key]))
    for key, value in (inv.get("outputs") or {}).items():
        table.add_row(f"output: {key}", json.dumps(value) if not isinstance(value, str) else value)
    console.print(table)


def _watch(client: ApiClient, operation_id: str) -> None:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"operation {operation_id}", total=None)
        for event in client.events(operation_id):
            counts = event.get("progress") or {}
            if counts.get("planned"):
                progress.update(task, total=counts["planned"], completed=counts.get("done", 0))
            if event.get("type") == "step_done":
                progress.console.print(f"  [green]✓[/green] {event.get('op')} {event.get('resource_type')}")
            elif event.get("type") == "policy_violation":
                progress.console.print(
                    f"  [red]✗ policy {event.get('policy_name')}[/red]: {event.get('message')}"
                )
            elif event.get("type") == "diagnostic" and event.get("severity") == "error":
                progress.console.print(f"  [red]{event.get('message')}[/red]")
            if event.get("state") in TERMINAL_STATES:
                break
    final = client.request("GET", f"/v1/operations/{operation_id}")
    colour = "green" if final.get("state") == "succeeded" else "red"
    console.print(
        f"operation {operation_id}: [{colour}]{final.get('state')}[/{colour}] {final.get('error') or ''}"
    )


@app.command()
def create(
    ctx: typer.Context,
    ticket: str,
    title: Annotated[str, typer.Option(help="Short description")] = "",
    region: Annotated[str | None, typer.Option(help="AWS region")] = None,
    snapshot: Annotated[list[str] | None, typer.Option(help="Evidence EBS snapshot id (repeatable)")] = None,
    ttl_hours: Annotated[int | None, typer.Option(help="Hours before automatic teardown")] = None,
    watch: Annotated[bool, typer.Option(help="Follow the deployment")] = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Open an investigation: a new clean room for TICKET."""
    body: dict[str, Any] = {"ticket": ticket, "title": title or ticket}
    if region:
        body["region"] = region
    if snapshot:
        body["evidence_snapshot_ids"] = snapshot
    if ttl_hours:
        body["ttl_hours"] = ttl_hours
    client = _client(ctx, url, token)
    payload = client.request("POST", "/v1/investigations", json=body)
    inv = payload.get("investigation", payload)
    console.print(f"investigation [bold]{inv.get('id')}[/bold] ({inv.get('status')})")
    op = _operation_id(payload)
    if watch and op:
        _watch(client, op)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Filter by status")] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """List investigations."""
    params = {"status": status} if status else {}
    payload = _client(ctx, url, token).request("GET", "/v1/investigations", params=params)
    table = Table("id", "ticket", "status", "region", "created")
    for inv in payload.get("items", []):
        table.add_row(
            str(inv.get("id")),
            inv.get("ticket"),
            inv.get("status"),
            inv.get("region"),
            str(inv.get("created_at")),
        )
    console.print(table)


@app.command()
def show(ctx: typer.Context, investigation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Status, outputs and timeline of one investigation."""
    _show_investigation(_client(ctx, url, token).request("GET", f"/v1/investigations/{investigation_id}"))


@app.command()
def watch(ctx: typer.Context, operation_id: str, url: UrlOpt = DEFAULT_URL, token: TokenOpt = "") -> None:
    """Follow an operation live."""
    _watch(_client(ctx, url, token), operation_id)


def _action(
    ctx: typer.Context,
    investigation_id: str,
    action: str,
    url: str,
    token: str,
    body: dict[str, Any],
    follow: bool,
) -> None:
    client = _client(ctx, url, token)
    payload = client.request("POST", f"/v1/investigations/{investigation_id}/{action}", json=body)
    if "approval" in payload:
        # Held by the two-person rule: there is nothing to follow until someone else approves it.
        console.print(f"[yellow]{payload.get('message')}[/yellow]")
        return
    op = _operation_id(payload)
    console.print(f"{action}: operation {op} queued")
    if follow and op:
        _watch(client, op)


@app.command()
def freeze(
    ctx: typer.Context,
    investigation_id: str,
    reason: Annotated[str, typer.Option(help="Why")] = "legal hold",
    watch: bool = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Preserve the clean room: stop, snapshot, revoke access, legal hold."""
    _action(ctx, investigation_id, "freeze", url, token, {"reason": reason}, watch)


@app.command()
def destroy(
    ctx: typer.Context,
    investigation_id: str,
    delete_evidence: Annotated[
        bool, typer.Option(help="Also delete the evidence bucket (custodian)")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why")] = "investigation closed",
    watch: bool = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Tear down the clean room (the evidence bucket is kept unless asked otherwise)."""
    body = {"retain_evidence_bucket": not delete_evidence, "reason": reason}
    _action(ctx, investigation_id, "destroy", url, token, body, watch)


@app.command()
def refresh(
    ctx: typer.Context,
    investigation_id: str,
    watch: bool = True,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = "",
) -> None:
    """Drift check: differences are reported, never repaired."""
    _action(ctx, investigation_id, "refresh", url, token, {}, watch)


@app.command("verify")
def verify_statement(
    statement: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="A signed statement (freeze manifest, teardown certificate, audit anchor)",
        ),
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            exists=True,
            dir_okay=False,
            help="The signing key's public key (PEM), obtained apart",
        ),
    ] = None,
    fetch_public_key: Annotated[
        bool, typer.Option("--fetch-public-key", help="Instead: ask KMS for the key the statement names")
    ] = False,
    endpoint_url: Annotated[str | None, typer.Option(help="AWS endpoint (the local AWS)")] = None,
    verify_tls: Annotated[bool, typer.Option(help="Check the endpoint's TLS certificate")] = True,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: the statement's, then AWS's)")
    ] = None,
    signature_only: Annotated[bool, typer.Option(help="Check the signature, re-hash nothing")] = False,
) -> None:
    """Verify a signed statement offline: its signature, then every object version and snapshot it lists,
    re-hashed with your own AWS credentials. Exit code 0 only if everything matches."""
    from botocore.exceptions import BotoCoreError, ClientError

    from service.custody import verify as custody

    if public_key is None and not fetch_public_key:
        typer.echo("give --public-key KEY.pem (or --fetch-public-key)", err=True)
        raise typer.Exit(2)
    try:
        document = custody.load_document(statement)
        region = region or custody.statement_region(document)
        if public_key is not None:
            pem = public_key.read_text()
        else:
            key_arn = custody.signing_key_arn(document) or ""
            kms_region = custody.key_region(key_arn) or region
            kms = custody.aws_client_factory(
                region=kms_region, endpoint_url=endpoint_url, verify_tls=verify_tls
            )("kms")
            pem = custody.fetch_public_key(document, kms)
            typer.echo(f"public key of {key_arn} fetched from KMS (trusting the statement's own key id)")
        clients = custody.aws_client_factory(region=region, endpoint_url=endpoint_url, verify_tls=verify_tls)
        report = custody.verify_document(document, pem, clients=clients, signature_only=signature_only)
    except (OSError, ValueError, BotoCoreError, ClientError) as exc:
        # Plain echo, not rich: a verification record must not be re-wrapped or re-styled.
        typer.echo(f"NOT VERIFIED: {exc}", err=True)
        raise typer.Exit(1) from None
    for check in report.checks:
        typer.echo(check.line())
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
