"""`make run`'s day zero for the tests that judge it: ``tools.local_aws.run.run_day_zero`` (what `make run`
and `make local-aws` call) as the administrator of an enforcing local AWS, in the environment `make run`
has when its local AWS is up, and what the tests read of it: the bootstrap's result, the settings the service
serves with and clients acting as the service's own identity."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from service.config import Settings, get_settings
from tests.support.api import ADMIN_TOKEN
from tests.support.people import TEST_PEOPLE
from tools.local_aws.aws import LocalAws
from tools.local_aws.day_zero import LocalDayZero
from tools.local_aws.run import run_day_zero

# The xdist group of every module that reads the session's day zero (tests/conftest.py, local_day_zero).
DAY_ZERO_GROUP = "local-day-zero"


@dataclass(frozen=True)
class DayZero:
    aws: LocalAws
    done: LocalDayZero
    settings: Settings  # the service's, as `make run` serves with them
    progress: list[str]

    @property
    def forensic_account_id(self) -> str:
        return self.done.operator.aws_account_id

    @property
    def source_external_id(self) -> str:
        """The external id the evidence role's trust requires (the bootstrap's, day zero drew it)."""
        external_id = self.done.operator.source_accounts[self.done.source_account_id].external_id
        assert external_id
        return external_id

    def as_service(self, service: str) -> Any:
        """A client acting as the service's own identity (``forensics-service``)."""
        return boto3.client(
            service,
            endpoint_url=self.aws.endpoint_url,
            region_name=self.aws.region,
            aws_access_key_id=self.settings.aws_access_key_id,
            aws_secret_access_key=self.settings.aws_secret_access_key.get_secret_value(),
            verify=str(self.aws.ca_file),
        )


def deploy_day_zero(aws: LocalAws, folder: Path, pulumi_cli: Path) -> DayZero:
    """Day zero in ``aws``; the environment is switched only while it runs (`make run`'s process keeps it)."""
    # What `make run` has in its environment when the local AWS is up (tools.local_aws.run.local_aws).
    environment = {
        "FORENSICS_TARGET": "local",
        "FORENSICS_DATA_DIR": str(folder / "data"),
        "FORENSICS_AWS_ENDPOINT_URL": aws.endpoint_url,
        "FORENSICS_AWS_CA_BUNDLE": str(aws.ca_file),
        "FORENSICS_PULUMI_CLI_DIR": str(pulumi_cli.parent),
        "FORENSICS_AUDIT_ANCHOR_BUCKET": f"forensics-audit-anchors-{uuid.uuid4().hex[:16]}",
        "FORENSICS_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "FORENSICS_INTEGRATIONS_PERIODIC_TASKS": "false",
    }
    progress: list[str] = []
    with mock.patch.dict(os.environ, environment):
        get_settings.cache_clear()
        try:
            done = run_day_zero(aws, progress.append)
            served = get_settings()
        finally:
            get_settings.cache_clear()
    settings = served.model_copy(
        update={"jobs_poll_max_delay": 0.2, "shutdown_grace_seconds": 5.0, "person_aliases": TEST_PEOPLE}
    )
    return DayZero(aws=aws, done=done, settings=settings, progress=progress)
