"""The pinned Pulumi CLI as the Automation API's ``PulumiCommand``, without its version probe.

The SDK's ``PulumiCommand`` runs ``pulumi version`` every time one is built (even with
``skip_version_check``, which skips only the comparison): a whole CLI start, 0.2-0.4 CPU-seconds, in every
engine child and every housekeeping call. The CLI is built at the SDK's own version (``pyproject.toml`` pins
the SDK; ``tests/unit/test_versions.py`` fails if ``tools/pulumi-cli/go.mod`` drifts from it), so that version
is known without asking.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from pulumi import automation as auto
from semver import VersionInfo


class PinnedCommand(auto.PulumiCommand):
    def __init__(self, cli_dir: str | Path) -> None:
        # Not super().__init__(): that is the probe this class exists to skip.
        self.command = os.path.join(Path(cli_dir).parent, "bin", "pulumi")
        self.version = VersionInfo.parse(pinned_version())


def pinned_version() -> str:
    return importlib.metadata.version("pulumi")
