"""Custody tests run the service over HTTP like the service tests: the same fixtures. The scenario runs
against a target (``tests.support.targets``): the local AWS, or real AWS under `make test-aws`. The custody
features' engine tests share one room (tests/support/custody_room.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.main import create_app
from tests.support.api import ADMIN_TOKEN
from tests.support.custody_room import CustodyRoom, Stage, in_stage_order
from tests.support.targets import TARGET, Target, aws_missing, aws_target, local_target
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of the custody room run in the order of the stages they read, after every other ordering
    (tests/support/scheduling.py)."""
    in_stage_order(items)


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


@pytest.fixture(scope="session")
def custody_room(tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path) -> Iterator[CustodyRoom]:
    """The room the custody features' engine tests share, before it is opened (``open_custody_room`` opens
    it in the worker's local AWS, as the module's ``local_aws`` has the service act there)."""
    room = CustodyRoom(tmp_path_factory.mktemp("custody-room"), pulumi_cli)
    yield room
    room.close()


@pytest.fixture
def open_custody_room(
    request: pytest.FixtureRequest, custody_room: CustodyRoom, local_aws: LocalAws
) -> Iterator[CustodyRoom]:
    yield custody_room.at(Stage.OPEN, local_aws)
    custody_room.stop_after(request)


@pytest.fixture
def custody_room_to_freeze(
    request: pytest.FixtureRequest, custody_room: CustodyRoom, local_aws: LocalAws
) -> Iterator[CustodyRoom]:
    """The room, open: the test runs its feature's flow if none has, then freezes it (``frozen``)."""
    yield custody_room.at(Stage.OPEN, local_aws) if custody_room.stage < Stage.OPEN else custody_room
    custody_room.stop_after(request)
