"""The engine child's zygote entry (``tools.zygote.server``): imported once, forked per stack operation.

Every stack operation (preview, up, refresh, destroy) runs in an engine child of its own
(``service.orchestration.stacks.run_operation``). Started afresh, the child spends most of its start-up
importing the Pulumi SDK and Automation API, grpc, yaml, the service's orchestration modules and then the
forensic program. Its zygote does that once (without running the program); each operation's child runs the
engine child's own ``serve`` with the operation's arguments, environment, working folder and streams. The
service starts the zygote's launcher in the child's place when its setting ``engine_zygote`` names the
zygote's socket, for the local target only: production starts the child afresh.

Its children join their launcher's process group (``JOINS_LAUNCHER_GROUP``): the service records the
launcher's pid as the operation's and stops an operation by signalling that group (a cancel's SIGINT, then
SIGKILL; recovery's likewise), which must reach the child and the CLI it starts as it reaches a child started
afresh, itself the group's leader.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from tools.zygote.server import ZygoteProcess

ENTRY = "tools.engine_zygote"
JOINS_LAUNCHER_GROUP = True
# The modules of the ``aws`` provider SDK the forensic program's resources come from (``aws.ec2.Vpc``...).
# The SDK loads each on first use, while the program runs: in every operation that runs it, afresh, about as
# much importing again as the rest of the child's start-up. One missing here costs speed only.
PROGRAM_AWS_MODULES = (
    "cloudwatch",
    "ebs",
    "ec2",
    "ec2transitgateway",
    "iam",
    "kms",
    "route53",
    "s3",
    "sns",
    "ssm",
)


def preload() -> None:
    """Import what every operation runs: the SDK and its Automation API (and, through them, grpc and the
    protobuf modules), the engine child with its orchestration modules and yaml, and the forensic program's
    modules with the provider SDK's it uses. Nothing runs: no workspace, no gRPC object, no program (each
    child makes its own)."""
    from pulumi import automation  # noqa: F401

    import programs.forensic_env.program  # noqa: F401
    from service.orchestration import engine_child  # noqa: F401

    aws = importlib.import_module("pulumi_aws")
    for name in PROGRAM_AWS_MODULES:
        # A lazily loaded module loads on its first attribute that is not its name, file or spec.
        getattr(getattr(aws, name), "__all__", None)


def run(argv: list[str], cwd: str) -> None:
    """One operation's engine child: ``serve`` as ``python -u -m service.orchestration.engine_child`` runs
    it (it ends the process itself, as the child started afresh does)."""
    from service.orchestration import engine_child

    sys.argv = [engine_child.__file__, *argv]
    engine_child.serve(sys.stdin)


class EngineZygote(ZygoteProcess):
    """``with EngineZygote(socket_path) as zygote:`` the engine child's zygote, ready; stopped on exit."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        super().__init__(ENTRY, path, timeout)
