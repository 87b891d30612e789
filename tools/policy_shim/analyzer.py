"""The policy analyzer's zygote entry (``tools.zygote.server``): imported once, forked per engine pass.

Every pass under the policy packs (a gated ``up`` makes two: its preview, then its update) starts the
analyzer, ``python -u -m pulumi.policy <engine address> .`` in the pack's folder, and it spends most of its
start-up importing the Pulumi SDK, grpc, the policy SDK, boto3 and the pack's rules. Its zygote does that
once; each pass's child runs ``pulumi.policy``'s own ``__main__`` afresh, with the pass's arguments,
environment and working folder: the runtime settings, the pack object and its gRPC server are made in the
child, never in the zygote. ``pulumi-analyzer-policy-python`` starts the launcher when
``FORENSICS_ANALYZER_ZYGOTE`` names the zygote's socket (the local target only: production starts the
analyzer as before).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from tools.zygote.server import ZygoteProcess

ENTRY = "tools.policy_shim.analyzer"
MODULE = "pulumi.policy"


def preload() -> None:
    """Import what the analyzer runs: the SDKs and the forensic pack with its rules, and parse the botocore
    data its AWS clients read (their sessions and clients are made per pass, in the child, with the pass's
    environment)."""
    import boto3  # noqa: F401  (the golden-AMI rule asks AWS)
    import botocore.session  # noqa: F401
    import pulumi
    import pulumi.policy
    import pulumi.runtime  # noqa: F401
    import pulumi_policy  # noqa: F401

    from policy_packs.forensics import pack  # noqa: F401
    from policy_packs.forensics.rules import aws_access

    aws_access.warm_models()


def run(argv: list[str], cwd: str) -> None:
    """A pass's analyzer: ``pulumi.policy``'s ``__main__`` as ``python -m`` runs it from ``cwd`` (the
    pack's folder first on the path, the module's file as ``sys.argv[0]``)."""
    sys.argv = [MODULE, *argv]
    sys.path[0] = cwd
    runpy.run_module(MODULE, run_name="__main__", alter_sys=True)


class AnalyzerZygote(ZygoteProcess):
    """``with AnalyzerZygote(socket_path) as zygote:`` the analyzer's zygote, ready; stopped on exit."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        super().__init__(ENTRY, path, timeout)
