"""`forensics`: the command line over the service's REST API (typer + rich).

Reads the service URL and token from --url/--token or FORENSICS_URL / FORENSICS_TOKEN. One module per group
of commands (investigations, access, approvals, audit, tokens, verify); ``main`` wires them into ``app``, the
entry point (``service.cli:app``)."""

from service.cli.main import app

__all__ = ["app"]
