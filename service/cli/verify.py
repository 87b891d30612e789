"""`forensics verify`: a signed statement checked offline, with the reader's own AWS credentials (no API)."""

from __future__ import annotations

import os
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
        bool,
        typer.Option(
            "--fetch-public-key",
            help="Instead: ask KMS for the key the statement names (only a pinned key is accepted)",
        ),
    ] = False,
    trusted_key: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-key",
            help="A signing key ARN you trust (repeatable; also $FORENSICS_TRUSTED_SIGNING_KEYS)",
        ),
    ] = None,
    trusted_fingerprint: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-fingerprint",
            help="A trusted signing key's public-key fingerprint, SHA256:<hex> (repeatable)",
        ),
    ] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="AWS endpoint (the local AWS)")] = None,
    verify_tls: Annotated[bool, typer.Option(help="Check the endpoint's TLS certificate")] = True,
    region: Annotated[
        str | None, typer.Option(help="AWS region (default: the statement's, then AWS's)")
    ] = None,
    signature_only: Annotated[bool, typer.Option(help="Check the signature, re-hash nothing")] = False,
) -> None:
    """Verify a signed statement offline (exit code 0 only if everything matches).

    Its signature, then every object version and snapshot it lists, re-hashed with your AWS credentials."""
    # Only this command needs botocore and the custody modules: every other command starts without them.
    from botocore.exceptions import BotoCoreError, ClientError

    from service import statement_signing
    from service.custody import trusted_keys
    from service.custody import verify as custody

    if public_key is None and not fetch_public_key:
        typer.echo("give --public-key KEY.pem (or --fetch-public-key)", err=True)
        raise typer.Exit(2)
    try:
        trusted = trusted_keys.parse(
            trusted_key or [], trusted_fingerprint or [], os.environ.get(trusted_keys.ENV_VAR)
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if public_key is None and trusted.empty:
        typer.echo(
            "--fetch-public-key needs the keys you trust: --trusted-key ARN or --trusted-fingerprint "
            f"SHA256:... (or ${trusted_keys.ENV_VAR}); the statement's own key id proves nothing",
            err=True,
        )
        raise typer.Exit(2)
    try:
        document = custody.load_document(statement)
        region = region or custody.statement_region(document)
        key_arn = custody.signing_key_arn(document)
        if public_key is not None:
            pem = public_key.read_text()
            pinned_by = "the --public-key file"
        else:
            kms_region = custody.key_region(key_arn or "") or region
            kms = custody.aws_client_factory(
                region=kms_region, endpoint_url=endpoint_url, verify_tls=verify_tls
            )("kms")
            pem = custody.fetch_public_key(document, kms)
            pinned_by = "a pinned key (--trusted-key, --trusted-fingerprint)"
        if not trusted.empty:
            refused = trusted.problem(key_arn, pem)
            if refused:
                raise ValueError(refused)
        fingerprint = trusted_keys.fingerprint_label(statement_signing.public_key_fingerprint(pem))
        clients = custody.aws_client_factory(region=region, endpoint_url=endpoint_url, verify_tls=verify_tls)
        report = custody.verify_document(document, pem, clients=clients, signature_only=signature_only)
    except (OSError, ValueError, BotoCoreError, ClientError) as exc:
        # Plain echo, not rich: a verification record must not be re-wrapped or re-styled.
        typer.echo(f"NOT VERIFIED: {exc}", err=True)
        raise typer.Exit(1) from None
    for check in report.checks:
        typer.echo(check.line())
    if report.ok:
        typer.echo(f"signing key {key_arn} ({fingerprint}), trusted through {pinned_by}")
    else:
        typer.echo(f"checked against the public key {fingerprint} ({pinned_by})")
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)
