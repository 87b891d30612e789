"""``python -m tools.local_aws.serve`` (``make local-aws``): the local AWS alone, bootstrapped, for a
rehearsal of several nodes (README, "Operations: several nodes"), with no service of its own.

It starts moto (``LocalAws``, enforcing IAM, with the stand-in provider's zygote beside it for the nodes of
this machine) on a fixed port, writes its TLS certificate as a CA file, makes a bucket for the Pulumi state,
runs day zero as the local AWS's administrator (``tools.local_aws.day_zero``: the bootstrap's programs, then
the golden image and a sample compromised host), then prints the settings every node needs (the service's own
identity's keys among them, never the administrator's) and writes them to an env file
(``<data_dir>/local-aws.env`` unless told otherwise) that the nodes source. It runs until SIGTERM or
SIGINT; what was created lives as long as it does.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import threading
from pathlib import Path

from service.config import get_settings
from tools.local_aws import memory_tool
from tools.local_aws.aws import LocalAws
from tools.local_aws.run import run_day_zero

DEFAULT_PORT = 4566
DEFAULT_STATE_BUCKET = "forensics-state"
ENV_FILE = "local-aws.env"


def node_settings(aws: LocalAws, state_bucket: str) -> dict[str, str]:
    """The settings that point a node at this local AWS (day zero adds the service's identity and the
    bootstrap's settings; the rest is the nodes' own: database, queue...)."""
    return {
        "FORENSICS_TARGET": "local",
        "FORENSICS_AWS_REGION": aws.region,
        "FORENSICS_AWS_ENDPOINT_URL": aws.endpoint_url,
        "FORENSICS_AWS_CA_BUNDLE": str(aws.ca_file),
        # The stand-in provider's zygote: the nodes on this machine fork their engines' providers from it.
        **({"FORENSICS_STANDIN_ZYGOTE": str(aws.standin_zygote)} if aws.standin_zygote else {}),
        # And the policy analyzer's zygote: their engines' analyzers fork from it.
        **({"FORENSICS_ANALYZER_ZYGOTE": str(aws.analyzer_zygote)} if aws.analyzer_zygote else {}),
        "FORENSICS_PULUMI_BACKEND_URL": aws.state_backend_url(state_bucket),
        # The memory capture tool, unless one is configured: the local AWS's stand-in for AVML.
        **memory_tool.configure(os.environ),
    }


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only before anything is written: it holds the service identity's secret key.
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    # Quoted for the shell (the state backend URL holds "&"); pydantic-settings reads the same file.
    path.write_text("".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTPS port on 127.0.0.1")
    parser.add_argument("--state-bucket", default=DEFAULT_STATE_BUCKET, help="bucket of the Pulumi state")
    parser.add_argument("--env-file", type=Path, default=None, help=f"default: <data_dir>/{ENV_FILE}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    settings = get_settings()
    if settings.target != "local":
        raise SystemExit("tools.local_aws.serve starts the local AWS: FORENSICS_TARGET must be local")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    env_file = args.env_file or settings.data_dir / ENV_FILE
    with LocalAws(
        port=args.port,
        region=settings.aws_region,
        tls_dir=settings.data_dir / "local-aws",
        enforce_iam=True,
        standin_zygote=True,
        analyzer_zygote=True,
    ) as aws:
        values = node_settings(aws, args.state_bucket)
        # Day zero reaches the local AWS the way the nodes will: by the endpoint, verified with the CA file.
        # The bootstrap's stacks keep their state in the shared backend too (a re-run from any node finds it).
        os.environ.update(values)
        done = run_day_zero(aws, lambda line: print(line, flush=True))
        values.update(done.env)
        write_env_file(env_file, values)
        lines = [
            "",
            f"Local AWS on {aws.endpoint_url}, bootstrapped in {done.seconds:.0f} s; the service runs as"
            f" {done.service_arn} (seeded: AMI {done.ami_id}; affected account {done.source_account_id},"
            f" snapshot {done.sample['snapshotId']})",
            f"Settings for every node, also in {env_file} (`set -a; . {env_file}; set +a`):",
            *(f"  {name}={shlex.quote(value)}" for name, value in values.items()),
            "Stop with Ctrl-C or SIGTERM (everything in it is forgotten).",
            "",
        ]
        print("\n".join(lines), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
