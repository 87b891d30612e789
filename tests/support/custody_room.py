"""One clean room for the custody features' engine tests (tests/custody: evidence given at open, containment,
memory capture, log collection, uploads), opened through the service on the real engine and policy pack in
the worker's local AWS, acting as the service's own identity.

Each of these features adds its own evidence to a room and reads only what it added, so they share one room
instead of opening one each: it is opened once, with a snapshot of the sample affected account as evidence
(the evidence-at-open test reads that opening and its acquisition), then each feature runs its flow on it
(``flow``), with people of its own (its own analyst, so that an audit entry it looks for is its own) and
asserting on its own artifacts and custody events. The features whose last step is the freeze (containment,
memory, logs) read the frozen room in a test of their own: the room is frozen once, after every flow
(``frozen``), and each reads its own objects and artifacts in the one signed manifest.

A test names the stage it reads by its fixture (``open_custody_room``, ``custody_room_to_freeze``);
``in_stage_order`` hands the open ones out before those that freeze (the modules of the room share one
``xdist_group``, so they run on one worker). A test that reads the frozen room runs its feature's flow first
when no test has (so each test also runs alone), and a flow that failed once fails the tests that need it
without running again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from service.config import LOCAL_SOURCE_ACCOUNT, Settings
from service.main import create_app
from tests.support import room_stages
from tests.support.api import ADMIN, open_body, wait_operation
from tests.support.disk_images import source_evidence
from tests.support.persons import Person, local_people, with_people
from tests.support.settings import make_engine_settings
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed

# The xdist group of every test of the room: one worker holds it.
CUSTODY_ROOM_GROUP = "custody-room"
TICKET = "SEC-1101"
TIMEOUT = 900
# The responder who hands files in through the room's responder role, bound to a role of her own (the
# uploads test grants it to her); the other features' responders act through the service only.
RESPONDER = "rita@example.com"

T = TypeVar("T")


class Stage(IntEnum):
    NEW = 0
    OPEN = 1
    FROZEN = 2


# The fixture a test reads each stage through: the tests that freeze the room ask for it unfrozen, run
# their flow if no test has, then freeze it (``CustodyRoom.frozen``).
STAGE_FIXTURES = {"open_custody_room": Stage.OPEN, "custody_room_to_freeze": Stage.FROZEN}


def in_stage_order(items: list[pytest.Item]) -> None:
    """Reorders, in place, the tests that read this room by the stage they read (room_stages)."""
    room_stages.in_stage_order(items, STAGE_FIXTURES)


def last_of_room(items: list[pytest.Item]) -> pytest.Item | None:
    """The last of ``items`` that reads the room."""
    return next(
        (item for item in reversed(items) if room_stages.stage_of(item, STAGE_FIXTURES) is not None), None
    )


@dataclass
class CustodyRoom:
    """The room, the service it was opened through, and what its stages and the features' flows left."""

    folder: Path
    pulumi_cli: Path
    stage: Stage = Stage.NEW
    local_aws: LocalAws | None = None
    settings: Settings | None = None
    people: dict[str, Person] = field(default_factory=dict)
    client: TestClient | None = None
    # The evidence given at open: the snapshot's source and the image's sha256sum.
    evidence: dict[str, str] = field(default_factory=dict)
    expected_sha256: str = ""
    # The answer to the opening request, the opening operation once done, the room as then read.
    opened: dict[str, Any] = field(default_factory=dict)
    open_operation: dict[str, Any] = field(default_factory=dict)
    inv: dict[str, Any] = field(default_factory=dict)
    # The freeze operation once done.
    freeze: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    # A stage or flow that failed: the tests that need it fail at once rather than run it again.
    broken: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.inv["id"])

    @property
    def service(self) -> TestClient:
        assert self.client is not None, "the room is not open"
        return self.client

    @property
    def service_settings(self) -> Settings:
        assert self.settings is not None, "the room is not open"
        return self.settings

    def at(self, stage: Stage, local_aws: LocalAws) -> CustodyRoom:
        """The room at ``stage``: each stage not yet reached entered in turn. ``local_aws`` is the module's
        (the service's identity in the environment while the service starts and deploys)."""
        if "stage" in self.broken:
            pytest.fail(
                f"the room did not reach {self.broken['stage']} (see the first test that asked for it)"
            )
        if stage < self.stage:
            pytest.fail(f"the room is at {self.stage.name}, past {stage.name}: its tests run in stage order")
        while self.stage < stage:
            following = Stage(self.stage + 1)
            try:
                self._enter(following, local_aws)
            except BaseException:
                self.broken["stage"] = following.name
                raise
            self.stage = following
        return self

    def flow(self, name: str, run: Callable[[], T]) -> T:
        """What the feature ``name``'s flow returned: run now when no test ran it, in the open room."""
        if name in self.broken:
            pytest.fail(f"the {name} flow failed in {self.broken[name]} (see that test)")
        if name not in self.results:
            if self.stage != Stage.OPEN:
                pytest.fail(f"the {name} flow needs the open room, which is {self.stage.name}")
            try:
                self.results[name] = run()
            except BaseException:
                self.broken[name] = os.environ.get("PYTEST_CURRENT_TEST", "a test").split(" ")[0]
                raise
        return self.results[name]  # type: ignore[no-any-return]

    def frozen(self, local_aws: LocalAws) -> dict[str, Any]:
        """The freeze operation of the room, frozen now when no test froze it."""
        self.at(Stage.FROZEN, local_aws)
        return self.freeze

    def _enter(self, stage: Stage, local_aws: LocalAws) -> None:
        if stage == Stage.OPEN:
            self._open(local_aws)
        else:
            # Frozen by a responder, as each feature's own test froze its room.
            responder = self.service.post(
                "/v1/tokens", json={"principal": RESPONDER, "role": "responder"}, headers=ADMIN
            ).json()["token"]
            answer = self.service.post(
                f"/v1/investigations/{self.id}/freeze",
                json={"reason": "litigation hold"},
                headers={"Authorization": f"Bearer {responder}"},
            )
            assert answer.status_code == 202, answer.text
            done = wait_operation(self.service, answer.json()["operation"]["id"], timeout=TIMEOUT)
            assert done["state"] == "succeeded", done["error"]
            self.freeze = done

    def _open(self, local_aws: LocalAws) -> None:
        """The service (its settings built while the module's local AWS puts the service's identity in the
        environment), then the room opened with the evidence; the acquisition queued behind the opening runs
        in the room's first test that waits for it (the evidence-at-open test)."""
        self.local_aws = local_aws
        self.people = local_people(local_aws, RESPONDER)
        settings = make_engine_settings(self.folder, local_aws, self.pulumi_cli)
        self.settings = with_people(settings, *self.people.values())
        seed(self.settings)
        client = TestClient(create_app(self.settings))
        client.__enter__()
        self.client = client
        snapshot_id, self.expected_sha256 = source_evidence(local_aws, self.folder)
        self.evidence = {"source_account_id": LOCAL_SOURCE_ACCOUNT, "snapshot_id": snapshot_id}
        answer = client.post(
            "/v1/investigations", json=open_body(TICKET, evidence=[self.evidence]), headers=ADMIN
        )
        assert answer.status_code == 202, answer.text
        self.opened = answer.json()
        self.open_operation = wait_operation(client, self.opened["operation"]["id"], timeout=TIMEOUT)
        assert self.open_operation["state"] == "succeeded", self.open_operation
        investigation_id = self.opened["investigation"]["id"]
        # The flows start once the acquisition is over: an operation holding the room refuses some of them.
        timeline = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()["timeline"]
        for operation in timeline:
            if operation["action"] == "acquire":
                wait_operation(client, operation["id"], timeout=TIMEOUT)
        self.inv = client.get(f"/v1/investigations/{investigation_id}", headers=ADMIN).json()

    def stop_after(self, request: pytest.FixtureRequest) -> None:
        """Stops the room's service after the last test of the room this process runs (the room's xdist
        group keeps them on one worker), rather than let it poll its queue through every later test."""
        if last_of_room(request.session.items) is request.node:
            self.close()

    def close(self) -> None:
        """Stops the service; the room stays in the worker's local AWS, which ends with the session."""
        if self.client is not None:
            client, self.client = self.client, None
            client.__exit__(None, None, None)
