"""Custody tests run the service over HTTP like the service tests: the same fixtures. The scenario runs
against a target (``tests.support.targets``): the local AWS, or real AWS under `make test-aws`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.main import create_app
from tests.support.api import ADMIN_TOKEN
from tests.support.targets import TARGET, Target, aws_missing, aws_target, local_target
from tools.local_aws.seed import seed


@pytest.fixture
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    if TARGET == "aws":
        missing = aws_missing()
        if missing:
            pytest.fail(
                f"the scenario on real AWS needs {', '.join(missing)} (make test-aws lists all needs)"
            )
        return aws_target(tmp_path / "data")
    return local_target(request.getfixturevalue("engine_settings"), request.getfixturevalue("local_aws"))


@pytest.fixture
def scenario_client(scenario: Target) -> Iterator[TestClient]:
    """The service on the scenario's target, with its settings (the people it grants access to included):
    locally as ``engine_client`` makes it (seeded local AWS); on real AWS the bootstrap's settings, with
    nothing seeded (the accounts are real)."""
    local = scenario.name == "local"
    test_settings = {"jobs_poll_max_delay": 0.2, "shutdown_grace_seconds": 5.0} if local else {}
    settings = scenario.settings.model_copy(
        update={"bootstrap_admin_token": SecretStr(ADMIN_TOKEN), "jobs_poll_max_delay": 0.5, **test_settings}
    )
    if local:
        seed(settings)
    with TestClient(create_app(settings)) as client:
        yield client
