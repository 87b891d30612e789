"""The `forensics` command: every command and sub-command, wired in one place."""

from __future__ import annotations

import typer

from service.cli import access, approvals, audit, bootstrap, investigations, tokens, verify

app = typer.Typer(help="Open, watch, freeze and destroy forensic clean rooms.", no_args_is_help=True)

app.command()(investigations.create)
app.command("list")(investigations.list_investigations)
app.command()(investigations.show)
app.command("watch")(investigations.watch_operation)
app.command()(investigations.freeze)
app.command()(investigations.release)
app.command()(investigations.destroy)
app.command()(investigations.refresh)
app.command()(investigations.extend)
app.command()(investigations.cancel)
app.command("break-glass")(investigations.break_glass)
app.add_typer(access.app, name="access")
app.add_typer(approvals.app, name="approvals")
app.command()(audit.audit)
app.add_typer(tokens.app, name="tokens")
app.command("verify")(verify.verify_statement)
app.command("bootstrap")(bootstrap.bootstrap)
