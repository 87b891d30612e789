"""Fixtures for the program deployment tests: where they deploy, the local AWS or real AWS
(tests/support/deploy_targets.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deploy_targets import DeployTarget, deploy_target, enforced_target
from tests.support.enforced_room import EnforcedRoom, Stage, in_stage_order, new_room
from tests.support.targets import TARGET
from tools.local_aws.aws import LocalAws


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With the real AWS target every test here is an `aws` test, so `-m aws` selects (or excludes) them.
    The tests of the enforced room run in the order of the stages they read (tests/support/enforced_room.py),
    after every other ordering (tests/support/scheduling.py)."""
    in_stage_order(items)
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


@pytest.fixture(scope="session")
def enforced_room(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path
) -> Iterator[EnforcedRoom]:
    """The room the tests of tests/support/enforced_room.py share, before its first deployment: locally in
    the worker's local AWS (``enforcing_local_aws``: it enforces IAM and judges role trust as STS does) as
    its administrator, with people and grants; on real AWS with neither."""
    folder = tmp_path_factory.mktemp("enforced-room")
    if TARGET == "aws":
        room = new_room(deploy_target(request, folder, pulumi_cli), with_people=False)
    else:
        aws: LocalAws = request.getfixturevalue("enforcing_local_aws")
        room = new_room(enforced_target(folder, aws, pulumi_cli), with_people=True)
    yield room
    room.close()


@pytest.fixture
def open_room(enforced_room: EnforcedRoom) -> EnforcedRoom:
    return enforced_room.at(Stage.OPEN)


@pytest.fixture
def granted_room(enforced_room: EnforcedRoom) -> EnforcedRoom:
    return enforced_room.at(Stage.GRANTED)


@pytest.fixture
def frozen_room(enforced_room: EnforcedRoom) -> EnforcedRoom:
    return enforced_room.at(Stage.FROZEN)


@pytest.fixture
def ended_room(enforced_room: EnforcedRoom) -> EnforcedRoom:
    return enforced_room.at(Stage.ENDED)
