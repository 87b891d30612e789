"""The CLI's side of HTTP: the service URL and token options, the API client, and the two consoles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)

DEFAULT_URL = "http://127.0.0.1:8000"
UrlOpt = Annotated[str, typer.Option("--url", envvar="FORENSICS_URL", help="Service base URL")]
TokenOpt = Annotated[str, typer.Option("--token", envvar="FORENSICS_TOKEN", help="API token")]


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
        """The decoded answer; an error answer prints the API's code and message and exits 1."""
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


def api(ctx: typer.Context, url: str, token: str) -> ApiClient:
    # ctx.obj may carry a transport (tests talk to an in-process app through it); sub-commands inherit it.
    transport = ctx.obj if isinstance(ctx.obj, httpx.BaseTransport) else None
    return ApiClient(url or DEFAULT_URL, token, transport)
