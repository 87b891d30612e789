"""Whether this node can run the engine: the pinned Pulumi CLI is there and runs (for /readyz)."""

from __future__ import annotations

import subprocess

from service.config import Settings
from service.orchestration.engine_environment import pulumi_env


def pulumi_cli_problem(settings: Settings) -> str | None:
    """None when `pulumi version` runs in the engine's own environment; otherwise what is wrong."""
    cli = settings.pulumi_cli_dir / "pulumi"
    if not cli.exists():
        return f"Pulumi CLI not found at {cli}"
    try:
        out = subprocess.run(
            [str(cli), "version"],
            capture_output=True,
            text=True,
            timeout=20,
            env=pulumi_env(settings),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Pulumi CLI does not run: {exc}"
    return None if out.returncode == 0 else f"Pulumi CLI exited {out.returncode}: {out.stderr.strip()[:200]}"
