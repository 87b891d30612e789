"""``python -m tools.local_aws.run`` (what ``make run`` calls): the service on its embedded default.

Starts the local AWS (moto, unless FORENSICS_AWS_ENDPOINT_URL already points at one), seeds it (golden AMI,
SSM parameter, sample evidence snapshot), makes sure there is a bootstrap admin token (generated and printed
if not configured), then serves the API with uvicorn on settings.api_host:api_port.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
from collections.abc import Iterator

import uvicorn

from service.auth.service import generate_token
from service.config import Settings, get_settings
from tools.local_aws import memory_tool
from tools.local_aws.aws import LocalAws


@contextlib.contextmanager
def local_aws_endpoint(settings: Settings) -> Iterator[str | None]:
    if settings.target != "local" or settings.aws_endpoint_url:
        yield settings.aws_endpoint_url
    else:
        with LocalAws(region=settings.aws_region) as aws:
            # The local endpoint's certificate is its own CA: verified with it, never unchecked.
            os.environ["FORENSICS_AWS_CA_BUNDLE"] = str(aws.ca_file)
            yield aws.endpoint_url


def _instructions(settings: Settings, token: str, seeded: dict[str, str] | None) -> str:
    base = f"http://{settings.api_host}:{settings.api_port}"
    body = {"ticket": "SEC-123", "title": "Compromised build host", "region": settings.aws_region}
    import json

    data = json.dumps(body)
    lines = [
        "",
        "Forensic clean room service",
        f"  API:            {base}  (OpenAPI: {base}/docs)",
        f"  local AWS:      {settings.aws_endpoint_url or 'real AWS'}",
        f"  data folder:    {settings.data_dir}",
        f"  admin token:    {token}",
    ]
    if seeded:
        lines.append(
            f"  seeded:         AMI {seeded['amiId']} (SSM {seeded['ssmParameter']}),"
            f" snapshot {seeded['snapshotId']}"
        )
    lines += [
        "",
        "Open an investigation:",
        f"  export FORENSICS_TOKEN={token}",
        f'  curl -s -X POST {base}/v1/investigations -H "Authorization: Bearer $FORENSICS_TOKEN" \\',
        f"       -H 'Content-Type: application/json' -H 'Idempotency-Key: sec-123-1' -d {shlex.quote(data)}",
        f'  curl -s {base}/v1/operations/<operation id> -H "Authorization: Bearer $FORENSICS_TOKEN"',
        f'  curl -sN {base}/v1/operations/<operation id>/events -H "Authorization: Bearer $FORENSICS_TOKEN"',
        "With the CLI:",
        f"  FORENSICS_URL={base} FORENSICS_TOKEN=$FORENSICS_TOKEN forensics create SEC-123"
        " --title 'Compromised build host'",
        "Evidence from an affected account (FORENSICS_SOURCE_ACCOUNTS), acquired once the room is ready:",
        "  ... --evidence <source account>:snap-…  (or POST /v1/investigations/<id>/evidence)",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    token = (
        settings.bootstrap_admin_token.get_secret_value()
        if settings.bootstrap_admin_token
        else generate_token()
    )
    with local_aws_endpoint(settings) as endpoint:
        # Environment, not just Settings: the engine's child processes read their settings from it too.
        if endpoint:
            os.environ["FORENSICS_AWS_ENDPOINT_URL"] = endpoint
        os.environ["FORENSICS_BOOTSTRAP_ADMIN_TOKEN"] = token
        if settings.target == "local":
            # The memory capture tool is configuration: locally, the local AWS's stand-in for AVML.
            os.environ.update(memory_tool.configure(os.environ))
        get_settings.cache_clear()
        settings = get_settings()
        seeded: dict[str, str] | None = None
        if settings.target == "local":
            from tools.local_aws.seed import seed

            seeded = {key: str(value) for key, value in seed(settings).items()}
        from service.main import create_app

        app = create_app(settings, consumer_process=True)
        print(_instructions(settings, token, seeded), flush=True)
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info")


if __name__ == "__main__":
    main()
