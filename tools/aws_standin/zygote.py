"""The stand-in provider's zygote entry (``tools.zygote.server``): imported once, forked per engine pass.

Started afresh, the stand-in spends most of its start-up importing grpc, the Pulumi provider SDK and boto3
and reading botocore's service models (JSON). Its zygote does that once, per local AWS; each pass's child
runs the stand-in's own ``main``. ``tools/bin/pulumi-resource-aws`` starts the launcher when
``FORENSICS_STANDIN_ZYGOTE`` names the zygote's socket.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.zygote.server import ZygoteProcess

ENTRY = "tools.aws_standin.zygote"


def preload() -> None:
    """Import what the stand-in runs and read the botocore models its clients use, into the process-wide
    loader (``clients.shared_loader``) every session of a forked child reuses."""
    from tools.aws_standin import __main__ as standin_main  # noqa: F401  (grpc, the provider SDK, handlers)
    from tools.aws_standin import clients, registry  # noqa: F401

    session = clients.boto3_session()
    # The services the stand-in's handlers build clients for: those with endpoint keys, and Organizations.
    for service in (*clients.ENDPOINT_KEYS, "organizations"):
        # Building a client reads its service model, endpoint rules and the shared endpoint/retry data;
        # no request is sent.
        session.client(
            service,
            region_name="us-east-1",
            endpoint_url="https://127.0.0.1:1",
            aws_access_key_id="preload",
            aws_secret_access_key="preload",
        )


def run(argv: list[str], cwd: str) -> None:
    """A pass's provider: the stand-in's ``main``, as ``python -m tools.aws_standin <argv>`` runs it."""
    sys.argv = ["aws_standin", *argv]
    from tools.aws_standin.__main__ import main

    main(argv)


class StandinZygote(ZygoteProcess):
    """``with StandinZygote(socket_path) as zygote:`` the stand-in's zygote, ready; stopped on exit."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        super().__init__(ENTRY, path, timeout)
