"""`forensics verify`: a signed statement checked offline, with the reader's own AWS credentials (no API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
    """Verify a signed statement offline (exit code 0 only if everything matches).

    Its signature, then every object version and snapshot it lists, re-hashed with your AWS credentials."""
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
