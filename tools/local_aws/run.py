"""``python -m tools.local_aws.run`` (what ``make run`` calls): the service on its embedded default.

Starts the local AWS enforcing IAM (moto, unless FORENSICS_AWS_ENDPOINT_URL already points at one, which
``make local-aws`` built the same way), runs day zero in it as its administrator
(``tools.local_aws.day_zero``: the bootstrap's programs build the forensic account, the source account and the
organization; only the golden image and a sample compromised host are seeded by hand), makes sure there is a
bootstrap admin token (generated and printed if not configured), then serves the API with uvicorn on
settings.api_host:api_port, as the service's own identity (``forensics-service``), never the administrator.
Every stack operation's engine child, day zero's included, is forked from the engine zygote it starts
(``engine_zygote``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from service.auth.service import generate_token
from service.config import Settings, get_settings
from tools.engine_zygote import EngineZygote
from tools.local_aws import memory_tool
from tools.local_aws.aws import LocalAws
from tools.local_aws.day_zero import LocalDayZero, Progress, build


@contextlib.contextmanager
def local_aws(settings: Settings) -> Iterator[LocalAws | None]:
    """The local AWS this run starts (enforcing IAM), or None when there is one already or the target is
    real AWS."""
    if settings.target != "local" or settings.aws_endpoint_url:
        yield None
    else:
        with LocalAws(
            region=settings.aws_region, enforce_iam=True, standin_zygote=True, analyzer_zygote=True
        ) as aws:
            # The local endpoint's certificate is its own CA: verified with it, never unchecked.
            os.environ["FORENSICS_AWS_CA_BUNDLE"] = str(aws.ca_file)
            os.environ["FORENSICS_AWS_ENDPOINT_URL"] = aws.endpoint_url
            # Engine passes fork their stand-in provider from the local AWS's zygote.
            os.environ["FORENSICS_STANDIN_ZYGOTE"] = str(aws.standin_zygote)
            # And their policy analyzer from its own.
            if aws.analyzer_zygote is not None:
                os.environ["FORENSICS_ANALYZER_ZYGOTE"] = str(aws.analyzer_zygote)
            yield aws


@contextlib.contextmanager
def engine_zygote(settings: Settings) -> Iterator[None]:
    """The engine child's zygote for this run's operations (tools.engine_zygote, setting engine_zygote),
    day zero's included: the service runs in this process, so in the zygote's session, which the zygote
    requires. Locally only; one that cannot start costs speed only: the children start afresh."""
    if settings.target != "local" or settings.engine_zygote is not None:
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="forensics-engine-zygote-"))
    try:
        try:
            zygote = EngineZygote(folder / "engine.sock").start()
        except (OSError, RuntimeError) as exc:
            logging.getLogger(__name__).warning("no engine zygote (%s): engine children start afresh", exc)
            yield
            return
        os.environ["FORENSICS_ENGINE_ZYGOTE"] = str(zygote.path)
        try:
            yield
        finally:
            zygote.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_day_zero(aws: LocalAws, progress: Progress = print) -> LocalDayZero:
    """Day zero as the local AWS's administrator, then the environment switched to the service's own
    identity and the bootstrap's settings (environment, not just Settings: the engine's child processes read
    their settings from it too)."""
    get_settings.cache_clear()
    operator = get_settings().model_copy(
        update={
            "aws_access_key_id": aws.access_key_id,
            "aws_secret_access_key": SecretStr(aws.secret_access_key),
        }
    )
    done = build(operator, progress)
    os.environ.update(done.env)
    get_settings.cache_clear()
    return done


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
        lines += [
            f"  service runs as {seeded['serviceArn']} (day zero took {seeded['seconds']} s)",
            f"  seeded:         AMI {seeded['amiId']} (SSM {settings.golden_ami_ssm_parameter}),"
            f" affected account {seeded['sourceAccount']}: instance {seeded['instanceId']},"
            f" snapshot {seeded['snapshotId']}",
        ]
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
        f"  ... --evidence {seeded['sourceAccount'] if seeded else '<source account>'}:"
        f"{seeded['snapshotId'] if seeded else 'snap-…'}  (or POST /v1/investigations/<id>/evidence)",
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
    with local_aws(settings) as aws, engine_zygote(settings):
        os.environ["FORENSICS_BOOTSTRAP_ADMIN_TOKEN"] = token
        seeded: dict[str, str] | None = None
        if aws is not None:
            logging.getLogger(__name__).info(
                "day zero: bootstrapping the local AWS (a line per stack; 40 s to 2 min)"
            )
            done = run_day_zero(aws, lambda line: print(line, flush=True))
            seeded = {
                "serviceArn": done.service_arn,
                "seconds": f"{done.seconds:.0f}",
                "amiId": done.ami_id,
                "sourceAccount": done.source_account_id,
                "instanceId": done.sample["instanceId"],
                "snapshotId": done.sample["snapshotId"],
            }
        if settings.target == "local":
            # The memory capture tool is configuration: locally, the local AWS's stand-in for AVML.
            os.environ.update(memory_tool.configure(os.environ))
        get_settings.cache_clear()
        settings = get_settings()
        from service.main import create_app

        app = create_app(settings, consumer_process=True)
        print(_instructions(settings, token, seeded), flush=True)
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info")


if __name__ == "__main__":
    main()
