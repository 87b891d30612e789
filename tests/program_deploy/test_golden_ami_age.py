"""golden-ami-fresh through the real engine: the analyzer asks the (local) AWS about the workstation's image,
as the stack's deploy role, and an image older than the service's limit stops the `up` at its preview."""

from __future__ import annotations

from typing import Any

import pytest

from service.config import Settings
from service.orchestration import stacks
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest
from tests.support.deploy_targets import DeployTarget
from tests.support.program_runs import program_config

pytestmark = pytest.mark.engine


def _request(target: DeployTarget, kind: OperationKind, investigation: str) -> OperationRequest:
    """What the service asks for a clean room in the default region: its deploy role when it has one
    (``stack_config.provider_config``), so the pack's role path is the one exercised."""
    provider: dict[str, ConfigValue] = {}
    account = target.settings.account_for(target.settings.aws_region)
    if account is not None and account.deploy_role_arn:
        role = {"roleArn": account.deploy_role_arn, "sessionName": f"forensics-{investigation}"}
        provider["aws:assumeRoles"] = ConfigValue([role])
    return OperationRequest(
        kind=kind,
        stack_name=f"inv-{investigation}",
        config=program_config(target, investigation),
        provider_config=provider,
    )


def _aws_resources(settings: Settings, stack_name: str) -> list[dict[str, Any]]:
    deployment = stacks.export_stack(settings, stack_name)["deployment"]
    return [r for r in deployment.get("resources") or [] if str(r.get("type", "")).startswith("aws:")]


def test_a_golden_ami_older_than_the_limit_stops_the_up_at_preview(deploy_target: DeployTarget) -> None:
    target = deploy_target
    investigation = "it-old-ami"
    # A limit of 0 days: every existing image is older than that.
    settings = target.settings.model_copy(update={"max_ami_age_days": 0})
    result = stacks.run_operation(settings, _request(target, OperationKind.UP, investigation))

    assert not result.succeeded
    assert result.error_code == "policy_violation"
    assert "golden-ami-fresh" in (result.error or "")
    (violation,) = [v for v in result.policy_violations if v.policy_name == "golden-ami-fresh"]
    ami = target.seeded["amiId"]
    (image,) = target.client("ec2").describe_images(ImageIds=[ami])["Images"]
    # The date is EC2's own: nothing in the program or its tags says it.
    assert f"launches image {ami}, created {image['CreationDate']}" in violation.message
    assert "the limit is 0 days" in violation.message
    # Stopped at the preview: nothing reached AWS, nothing is in the stack.
    assert _aws_resources(settings, f"inv-{investigation}") == []
    ec2 = target.client("ec2")
    tagged = [{"Name": "tag:forensics:investigation-id", "Values": [investigation]}]
    assert ec2.describe_vpcs(Filters=tagged)["Vpcs"] == []
    assert ec2.describe_instances(Filters=tagged)["Reservations"] == []


def test_a_fresh_golden_ami_passes_as_the_deploy_role(deploy_target: DeployTarget) -> None:
    result = stacks.run_operation(
        deploy_target.settings, _request(deploy_target, OperationKind.PREVIEW, "it-fresh-ami")
    )
    assert result.succeeded, (result.error, result.policy_violations)
    assert result.policy_violations == []
