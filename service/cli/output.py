"""How the CLI shows what the API answered: tables, held requests, queued operations, live progress."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from service.cli.client import ApiClient, console

TERMINAL_STATES = {"succeeded", "failed", "cancelled", "interrupted"}


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def rows(columns: Sequence[str], items: Iterable[Mapping[str, Any]], *, title: str | None = None) -> Table:
    """One row per item, one column per key. The first column (the id) is never wrapped: it is what the
    next command needs."""
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, no_wrap=index == 0)
    for item in items:
        table.add_row(*(cell(item.get(column)) for column in columns))
    return table


def record(title: str, item: Mapping[str, Any], keys: Sequence[str]) -> Table:
    """One item as key / value lines (keys without a value are left out)."""
    table = Table(title=title, show_header=False)
    for key in keys:
        if item.get(key) is not None:
            table.add_row(key, cell(item[key]))
    return table


def page(payload: Mapping[str, Any], columns: Sequence[str], *, title: str | None = None) -> None:
    """A paged list answer ({items, total, limit, offset}) as a table, saying how much of it is shown."""
    items = list(payload.get("items") or [])
    console.print(rows(columns, items, title=title))
    offset = int(payload.get("offset") or 0)
    shown = f"{offset + 1}-{offset + len(items)}" if items else "none"
    console.print(f"{shown} of {payload.get('total', len(items))}")


def held(payload: Mapping[str, Any]) -> bool:
    """True (and says so) when the API held the request for a second person's approval: nothing was done."""
    approval = payload.get("approval")
    if not isinstance(approval, Mapping) or set(payload) != {"approval", "message"}:
        return False
    console.print(f"[yellow]approval {approval.get('id')} pending[/yellow]: {payload.get('message')}")
    console.print(
        f"A different person decides: forensics approvals approve {approval.get('id')} "
        f"(or: forensics approvals deny {approval.get('id')} --reason ...)"
    )
    return True


def operation_id(payload: Mapping[str, Any]) -> str | None:
    op = payload.get("operation") or {}
    return str(op["id"]) if op.get("id") else None


def queued(client: ApiClient, payload: Mapping[str, Any], what: str, follow: bool) -> None:
    """The operation an answer queued: named, and followed live when asked to."""
    op = operation_id(payload)
    if op is None:
        return
    console.print(f"{what}: operation {op} queued")
    if follow:
        watch(client, op)


def decide(
    client: ApiClient,
    path: str,
    reason: str | None,
    said: Callable[[Mapping[str, Any]], str],
    what: Callable[[Mapping[str, Any]], str],
) -> None:
    """A decision on a request (approve, deny, revoke): POST to ``path`` with the reason if one was given,
    say what became of it, and name the operation it queued. That operation runs on its own (in the
    requester's name); ``forensics watch`` follows it."""
    payload = client.request("POST", path, json={"reason": reason} if reason else None)
    console.print(said(payload))
    queued(client, payload, what(payload), follow=False)


def show_investigation(inv: Mapping[str, Any]) -> None:
    table = record(
        f"Investigation {inv.get('id')}",
        inv,
        ("ticket", "title", "status", "region", "created_at", "expires_at"),
    )
    for key, value in (inv.get("outputs") or {}).items():
        table.add_row(f"output: {key}", cell(value))
    console.print(table)


def event_progress() -> Progress:
    """The live display of an operation's engine events (`create`, `watch`, `bootstrap`)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def show_event(progress: Progress, task: TaskID, event: Mapping[str, Any]) -> None:
    """One engine event on the display: the bar's count, each finished step, violations and errors."""
    counts = event.get("progress") or {}
    if counts.get("planned"):
        progress.update(task, total=counts["planned"], completed=counts.get("done", 0))
    if event.get("type") == "step_done":
        progress.console.print(f"  [green]✓[/green] {event.get('op')} {event.get('resource_type')}")
    elif event.get("type") == "policy_violation":
        progress.console.print(f"  [red]✗ policy {event.get('policy_name')}[/red]: {event.get('message')}")
    elif event.get("type") == "diagnostic" and event.get("severity") == "error":
        progress.console.print(f"  [red]{event.get('message')}[/red]")


def watch(client: ApiClient, operation_id: str) -> None:
    """Live progress from the operation's events until it ends, then its final state."""
    with event_progress() as progress:
        task = progress.add_task(f"operation {operation_id}", total=None)
        for event in client.events(operation_id):
            show_event(progress, task, event)
            if event.get("state") in TERMINAL_STATES:
                break
    final = client.request("GET", f"/v1/operations/{operation_id}")
    colour = "green" if final.get("state") == "succeeded" else "red"
    console.print(
        f"operation {operation_id}: [{colour}]{final.get('state')}[/{colour}] {final.get('error') or ''}"
    )
