"""The bootstrap's cost: `forensics bootstrap` (programs/forensic_account, golden-image pipeline off) into an
empty local AWS, then again (nothing to change), each timed and with its CPU seconds from the OS (this
process and the engine children it reaped)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

from service.bootstrap.programs import FORENSIC_ACCOUNT, BootstrapOptions
from service.bootstrap.run import bootstrap
from service.config import PROJECT_ROOT, Settings
from tools.local_aws.aws import LocalAws

SERVICE = "arn:aws:iam::123456789012:role/forensics-service"


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def figures(root: Path) -> str:
    with LocalAws() as aws:
        settings = Settings(
            target="local",
            data_dir=root,
            aws_endpoint_url=aws.endpoint_url,
            aws_verify_tls=False,
            pulumi_cli_dir=PROJECT_ROOT / ".tools" / "bin",
            service_principal_arns=[SERVICE],
        )
        runs: list[tuple[float, float, bool]] = []
        for _ in range(2):
            cpu, started = _cpu_seconds(), time.perf_counter()
            # The forensic account's program, as the line says: a source account's row needs an organization's
            # member-account role, which an empty local AWS does not have.
            options = BootstrapOptions(golden_image_pipeline=False)
            result = bootstrap(settings, options, programs=(FORENSIC_ACCOUNT,))
            runs.append((time.perf_counter() - started, _cpu_seconds() - cpu, result.changed))
    (first, first_cpu, _), (again, again_cpu, changed) = runs
    return (
        f"bootstrap (one forensic account, empty local AWS): {first:.1f} s ({first_cpu:.1f} CPU-s);"
        f" again: {again:.1f} s ({again_cpu:.1f} CPU-s), {'CHANGED' if changed else 'no changes'}"
    )
