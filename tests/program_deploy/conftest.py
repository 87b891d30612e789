"""Where integration tests deploy: moto + the stand-in provider (default), or real AWS with the real provider.

``FORENSICS_TEST_TARGET=aws`` selects real AWS (the real pulumi-resource-aws plugin must be installed and AWS
credentials present; without credentials those runs are skipped). The tests themselves are the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from service.config import Settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

TARGET = os.environ.get("FORENSICS_TEST_TARGET", "local")


@dataclass
class DeployTarget:
    settings: Settings
    client: Callable[[str], Any]
    seeded: dict[str, str]
    account_id: str


def _aws_target(tmp_path: Path, pulumi_cli: Path) -> DeployTarget:
    session = boto3.Session()
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except Exception as exc:
        pytest.skip(f"real AWS target selected but no usable credentials: {exc}")
    settings = Settings(
        target="aws",
        data_dir=tmp_path / "data",
        aws_region=session.region_name or "us-east-1",
        aws_account_id=account,
        pulumi_cli_dir=pulumi_cli.parent,
    )
    ami = os.environ.get("FORENSICS_TEST_AMI_ID", "")
    snapshot = os.environ.get("FORENSICS_TEST_SNAPSHOT_ID", "")
    if not ami:
        pytest.skip("real AWS target needs FORENSICS_TEST_AMI_ID (a golden AMI in the account)")
    return DeployTarget(settings, session.client, {"amiId": ami, "snapshotId": snapshot}, account)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With the real AWS target every test here is an `aws` test, so `-m aws` selects (or excludes) them."""
    if TARGET != "aws":
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.aws)


def _deploy_target(request: pytest.FixtureRequest, folder: Path, pulumi_cli: Path) -> DeployTarget:
    if TARGET == "aws":
        return _aws_target(folder, pulumi_cli)
    local_aws: LocalAws = request.getfixturevalue("local_aws")
    settings = Settings(
        target="local",
        data_dir=folder / "data",
        aws_endpoint_url=local_aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
    )
    seeded = dict(seed(settings))
    return DeployTarget(settings, local_aws.client, seeded, settings.aws_account_id)


@pytest.fixture
def deploy_target(request: pytest.FixtureRequest, tmp_path: Path, pulumi_cli: Path) -> DeployTarget:
    return _deploy_target(request, tmp_path, pulumi_cli)


@pytest.fixture(scope="module")
def module_deploy_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path
) -> DeployTarget:
    """One target for a module's tests that share a deployment (its own data folder and state backend)."""
    return _deploy_target(request, tmp_path_factory.mktemp("module-target"), pulumi_cli)
