"""Where the program deployment tests (tests/program_deploy) deploy: the local AWS with the stand-in provider
(default), or real AWS with the real provider (``FORENSICS_TEST_TARGET=aws``: the real pulumi-resource-aws
plugin installed and AWS credentials present; without credentials those runs are skipped). The tests
themselves are the same; tests/program_deploy/conftest.py hands them a ``DeployTarget``.
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
from tests.support.settings import make_settings
from tests.support.targets import TARGET
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed


@dataclass
class DeployTarget:
    settings: Settings
    client: Callable[[str], Any]
    seeded: dict[str, str]
    account_id: str


def _aws_target(folder: Path, pulumi_cli: Path) -> DeployTarget:
    session = boto3.Session()
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except Exception as exc:
        pytest.skip(f"real AWS target selected but no usable credentials: {exc}")
    settings = make_settings(
        folder,
        target="aws",
        pulumi_cli=pulumi_cli,
        aws_region=session.region_name or "us-east-1",
        aws_account_id=account,
    )
    ami = os.environ.get("FORENSICS_TEST_AMI_ID", "")
    snapshot = os.environ.get("FORENSICS_TEST_SNAPSHOT_ID", "")
    if not ami:
        pytest.skip("real AWS target needs FORENSICS_TEST_AMI_ID (a golden AMI in the account)")
    return DeployTarget(settings, session.client, {"amiId": ami, "snapshotId": snapshot}, account)


def deploy_target(request: pytest.FixtureRequest, folder: Path, pulumi_cli: Path) -> DeployTarget:
    """The target of the run, with its data folder and state backend in ``folder``: locally the module's
    ``local_aws`` (asked of ``request``), seeded as the bootstrap would."""
    if TARGET == "aws":
        return _aws_target(folder, pulumi_cli)
    local_aws: LocalAws = request.getfixturevalue("local_aws")
    settings = make_settings(folder, aws=local_aws, pulumi_cli=pulumi_cli)
    seeded = dict(seed(settings))
    return DeployTarget(settings, local_aws.client, seeded, settings.aws_account_id)


def enforced_target(folder: Path, aws: LocalAws, pulumi_cli: Path) -> DeployTarget:
    """A local AWS that enforces IAM, seeded and deployed to as its administrator (moto's testing keys are
    refused there)."""
    settings = make_settings(folder, aws=aws, as_administrator=True, pulumi_cli=pulumi_cli)
    seeded = {key: str(value) for key, value in seed(settings).items()}
    return DeployTarget(settings, aws.client, seeded, settings.aws_account_id)
