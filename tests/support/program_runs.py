"""The forensic program run directly through the real engine (not through the service), as the operator:
the program deployment tests (tests/program_deploy) deploy, freeze and destroy their rooms so."""

from __future__ import annotations

from typing import Any

from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest, OperationResult
from service.orchestration.stacks import run_operation
from tests.support.deploy_targets import DeployTarget
from tools.local_aws.seed import operator_settings


def program_config(target: DeployTarget, investigation: str, **extra: Any) -> dict[str, ConfigValue]:
    """The stack config of ``investigation``'s room on ``target`` (its seeded image and evidence), with
    ``extra`` (grants, frozen, unprotect...)."""
    values: dict[str, Any] = {
        "investigationId": investigation,
        "ticket": f"SEC-{investigation}",
        "accountId": target.account_id,
        "amiId": target.seeded["amiId"],
        "evidenceSnapshotIds": [target.seeded["snapshotId"]] if target.seeded.get("snapshotId") else [],
        **extra,
    }
    return {k: ConfigValue(v) for k, v in values.items()}


def run_program(
    target: DeployTarget, kind: OperationKind, investigation: str, program: str | None = None, **extra: Any
) -> OperationResult:
    """One operation on ``investigation``'s stack: the forensic program, or ``program`` in its place."""
    request = OperationRequest(
        kind=kind, stack_name=f"inv-{investigation}", config=program_config(target, investigation, **extra)
    )
    # The program deployed as the operator, not through the service (which assumes the deploy role with the
    # investigation's provider config: tests/program_deploy/test_golden_ami_age.py deploys so).
    settings = operator_settings(target.settings)
    if program:
        return run_operation(settings, request, program=program)
    return run_operation(settings, request)
