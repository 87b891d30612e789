"""Fixtures for the program deployment tests: where they deploy, the local AWS or real AWS
(tests/support/deploy_targets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.deploy_targets import DeployTarget, deploy_target, enforced_target
from tests.support.targets import TARGET
from tools.local_aws.aws import LocalAws


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With the real AWS target every test here is an `aws` test, so `-m aws` selects (or excludes) them."""
    if TARGET != "aws":
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.aws)


@pytest.fixture(name="deploy_target")
def deploy_target_fixture(request: pytest.FixtureRequest, tmp_path: Path, pulumi_cli: Path) -> DeployTarget:
    return deploy_target(request, tmp_path, pulumi_cli)


@pytest.fixture(scope="module")
def module_deploy_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path
) -> DeployTarget:
    """One target for a module's tests that share a deployment (its own data folder and state backend)."""
    return deploy_target(request, tmp_path_factory.mktemp("module-target"), pulumi_cli)


@pytest.fixture(name="enforced_target")
def enforced_target_fixture(tmp_path: Path, pulumi_cli: Path, enforcing_aws: LocalAws) -> DeployTarget:
    """The target of the tests that prove the local AWS enforces what the program deploys: a local AWS of
    the module's own that enforces IAM, seeded and deployed to as its administrator."""
    return enforced_target(tmp_path, enforcing_aws, pulumi_cli)
