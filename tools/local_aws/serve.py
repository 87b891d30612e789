"""``python -m tools.local_aws.serve`` (``make local-aws``): the local AWS alone, seeded, for a rehearsal of
several nodes (README, "Operations: several nodes"), with no service of its own.

It starts moto (``LocalAws``) on a fixed port, writes its TLS certificate as a CA file, makes a bucket for the
Pulumi state, seeds what a forensic account has before an incident (``tools.local_aws.seed``), then prints the
settings every node needs and writes them to an env file (``<data_dir>/local-aws.env`` unless told
otherwise) that the nodes source. It runs until SIGTERM or SIGINT; what was created lives as long as it does.
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
from tools.local_aws.seed import seed

DEFAULT_PORT = 4566
DEFAULT_STATE_BUCKET = "forensics-state"
ENV_FILE = "local-aws.env"


def node_settings(aws: LocalAws, state_bucket: str) -> dict[str, str]:
    """The settings that point a node at this local AWS (the rest is the nodes' own: database, queue...)."""
    return {
        "FORENSICS_TARGET": "local",
        "FORENSICS_AWS_REGION": aws.region,
        "FORENSICS_AWS_ENDPOINT_URL": aws.endpoint_url,
        "FORENSICS_AWS_CA_BUNDLE": str(aws.ca_file),
        "FORENSICS_PULUMI_BACKEND_URL": aws.state_backend_url(state_bucket),
        # The memory capture tool, unless one is configured: the local AWS's stand-in for AVML.
        **memory_tool.configure(os.environ),
    }


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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
    with LocalAws(port=args.port, region=settings.aws_region, tls_dir=settings.data_dir / "local-aws") as aws:
        values = node_settings(aws, args.state_bucket)
        # The seed reaches the local AWS the way the nodes will: by the endpoint, verified with the CA file.
        os.environ.update(values)
        get_settings.cache_clear()
        seeded = seed(get_settings())
        write_env_file(env_file, values)
        lines = [
            "",
            f"Local AWS on {aws.endpoint_url}"
            f" (seeded: AMI {seeded['amiId']}, snapshot {seeded['snapshotId']})",
            f"Settings for every node, also in {env_file} (`set -a; . {env_file}; set +a`):",
            *(f"  {name}={shlex.quote(value)}" for name, value in values.items()),
            "Stop with Ctrl-C or SIGTERM (everything in it is forgotten).",
            "",
        ]
        print("\n".join(lines), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
