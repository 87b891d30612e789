"""The action table is the one place an action's meaning lives: these tests read the expectations from the
table itself and prove that requests, the job runner and settling obey it; and that a new action needs
nothing but its entry and its steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from service.auth.roles import ROLE_PERMISSIONS, Permission, Role
from service.auth.service import Principal
from service.errors import Forbidden, StateConflict
from service.investigation_states import Status
from service.investigations import service
from service.investigations.actions import ACTIONS, ActionSpec, engine_step, register, unregister
from service.investigations.models import Investigation
from service.investigations.schemas import NoParams
from service.main import create_app
from service.operations.states import Action
from service.orchestration.fake_engine import FakeExecutor, fail_with
from service.orchestration.messages import OperationKind
from service.unit_of_work import Caller, UnitOfWork
from tests.support.api import ADMIN, open_ready, wait_operation
from tests.support.settings import make_settings

# What each built-in action means, written out once more by hand: a change to the table must be a change
# someone meant, so it has to be made here too.
EXPECTED: dict[str, dict[str, Any]] = {
    Action.OPEN: {
        "permission": Permission.OPEN,
        "sources": set(),
        "running": Status.OPENING,
        "succeeded": Status.READY,
        "failed": Status.FAILED,
        "retry": True,
    },
    Action.PREVIEW: {
        "permission": Permission.PREVIEW,
        "sources": set(Status) - {Status.DESTROYING, Status.DESTROYED},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": True,
    },
    Action.REFRESH: {
        "permission": Permission.REFRESH,
        "sources": set(Status) - {Status.DESTROYING, Status.DESTROYED},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": True,
    },
    Action.FREEZE: {
        "permission": Permission.FREEZE,
        "sources": {Status.READY, Status.NEEDS_ATTENTION},
        "running": Status.FREEZING,
        "succeeded": Status.FROZEN,
        "failed": Status.NEEDS_ATTENTION,
        "retry": False,
    },
    Action.RELEASE: {
        "permission": Permission.RELEASE,
        "sources": {Status.FROZEN, Status.NEEDS_ATTENTION},
        "running": Status.RELEASING,
        "succeeded": Status.READY,
        "failed": Status.NEEDS_ATTENTION,
        "retry": False,
    },
    Action.DESTROY: {
        "permission": Permission.DESTROY,
        "sources": {Status.READY, Status.FAILED, Status.NEEDS_ATTENTION},
        "running": Status.DESTROYING,
        "succeeded": Status.DESTROYED,
        "failed": Status.FAILED,
        "retry": False,
    },
    Action.EXTEND: {
        "permission": Permission.EXTEND,
        "sources": set(Status) - {Status.DESTROYING, Status.DESTROYED},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
    # Snapshotting an instance again after a crash would acquire twice: a person decides.
    Action.ACQUIRE: {
        "permission": Permission.ACQUIRE,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
    # Hashing objects changes nothing in AWS and skips what it recorded: a rerun converges.
    Action.REGISTER: {
        "permission": Permission.ACQUIRE,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": True,
    },
    # A second capture is a different image: a crash leaves it to a person.
    Action.MEMORY: {
        "permission": Permission.ACQUIRE,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
    # Containment changes an instance in a source account: after a crash, what was done is unknown (a second
    # run would find it tagged and refuse), so a person decides; its release waits for a second person.
    Action.CONTAIN: {
        "permission": Permission.CONTAIN,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
    Action.RELEASE_CONTAINMENT: {
        "permission": Permission.CONTAIN,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
    # Applies approved access grants (service/access): the same declared state deployed again converges;
    # frozen, the program keeps only the custodian's grants.
    "grant": {
        "permission": Permission.APPROVE_ACCESS,
        "sources": {Status.READY, Status.FROZEN},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": True,
    },
    # Collects an affected instance's logs into the evidence bucket (service/custody/log_collection.py): a
    # crash leaves the artifacts already written to a person, not to a rerun that would write them again.
    Action.LOGS: {
        "permission": Permission.ACQUIRE,
        "sources": {Status.READY},
        "running": None,
        "succeeded": None,
        "failed": None,
        "retry": False,
    },
}


def test_every_action_is_listed_with_its_permission_sources_and_outcomes() -> None:
    assert set(ACTIONS) == set(EXPECTED) == {a.value for a in Action}
    for name, spec in ACTIONS.items():
        want = EXPECTED[name]
        assert spec.permission == want["permission"], name
        assert set(spec.sources) == want["sources"], name
        assert (spec.running, spec.succeeded, spec.failed) == (
            want["running"],
            want["succeeded"],
            want["failed"],
        ), name
        assert spec.retry_after_interrupt is want["retry"], name


def _inv(status: Status, *, frozen: bool = False) -> Investigation:
    return Investigation(id="inv-1", status=status, frozen=frozen)


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("status", list(Status))
def test_refusal_follows_the_sources(name: str, status: Status) -> None:
    spec = ACTIONS[name]
    refusal = spec.refusal(_inv(status))
    if status in spec.sources:
        assert refusal is None
        spec.check(_inv(status))
    else:
        assert refusal is not None and "inv-1" in refusal
        with pytest.raises(StateConflict):
            spec.check(_inv(status))


@pytest.mark.parametrize(
    ("status", "name", "words"),
    [
        (Status.FROZEN, Action.DESTROY, "frozen under legal hold"),
        (Status.FREEZING, Action.DESTROY, "being frozen"),
        (Status.DESTROYED, Action.PREVIEW, "while it is destroyed"),
        (Status.DESTROYING, Action.FREEZE, "while it is destroying"),
        (Status.FAILED, Action.FREEZE, "while it is failed"),
    ],
)
def test_refusals_say_why(status: Status, name: str, words: str) -> None:
    assert words in (ACTIONS[name].refusal(_inv(status)) or "")


@pytest.mark.parametrize("status", [Status.NEEDS_ATTENTION, Status.READY, Status.FAILED])
def test_a_frozen_stack_refuses_destroy_whatever_the_status_says(status: Status) -> None:
    """needs_attention after a failed release still has a protected stack: the declared state decides."""
    assert ACTIONS[Action.DESTROY].refusal(_inv(status, frozen=False)) is None
    refusal = ACTIONS[Action.DESTROY].refusal(_inv(status, frozen=True))
    assert refusal is not None and "frozen under legal hold" in refusal


@pytest.fixture(scope="module")
def reading_app(
    module_stores: dict[str, str | None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """One running app per store for the module's tests that only build a caller on it and write nothing:
    each action and role against the table, without starting an app for each of them."""
    settings = make_settings(tmp_path_factory.mktemp("action-table"), **module_stores)
    app = create_app(settings, executor=FakeExecutor())
    with TestClient(app):
        yield app


@pytest.mark.parametrize("name", sorted(ACTIONS))
@pytest.mark.parametrize("role", list(Role))
def test_permission_comes_from_the_table(name: str, role: Role, reading_app: FastAPI) -> None:
    spec = ACTIONS[name]
    allowed = spec.permission in ROLE_PERMISSIONS[role]
    app = reading_app
    with app.state.session_factory() as session:
        caller = Caller(
            UnitOfWork(session, app.state.clock, app.state.settings, app.state.publisher),
            Principal("someone", role),
        )
        if allowed:
            service.authorize(caller, spec, {})
        else:
            with pytest.raises(Forbidden):
                service.authorize(caller, spec, {})


# A new action: one entry plus its steps, and nothing else changes.


def _quarantine_steps(inv: Investigation, _params: Any, settings: Any) -> list[Any]:
    return [engine_step(inv, settings, OperationKind.UP, "up (quarantined)", frozen=False)]


@pytest.fixture
def quarantine() -> Iterator[ActionSpec]:
    spec = register(
        ActionSpec(
            name="quarantine",
            summary="A made-up action: moves a ready clean room to needs_attention through one up.",
            permission=Permission.FREEZE,
            params_model=NoParams,
            sources=frozenset({Status.READY}),
            running=Status.FREEZING,
            succeeded=Status.NEEDS_ATTENTION,
            failed=Status.FAILED,
            steps=_quarantine_steps,
            kind=OperationKind.UP,
        )
    )
    yield spec
    unregister(spec.name)


def _request(app: FastAPI, role: Role, investigation_id: str, action: str) -> tuple[str, str]:
    with app.state.session_factory() as session:
        caller = Caller(
            UnitOfWork(session, app.state.clock, app.state.settings, app.state.publisher),
            Principal(f"{role.value}@example.com", role),
        )
        inv, op = service.request_action(caller, investigation_id, action)
        caller.commit()
        return inv.status, op.id


def test_a_new_action_needs_only_its_entry_and_steps(
    quarantine: ActionSpec, client: TestClient, app: FastAPI, fake: FakeExecutor
) -> None:
    inv = open_ready(client, "SEC-777")
    with pytest.raises(Forbidden):
        _request(app, Role.ANALYST, inv["id"], "quarantine")
    status, op_id = _request(app, Role.RESPONDER, inv["id"], "quarantine")
    assert status == Status.FREEZING
    op = wait_operation(client, op_id)
    assert op["state"] == "succeeded" and op["action"] == "quarantine" and op["kind"] == "up"
    assert fake.calls[-1].kind == OperationKind.UP and fake.calls[-1].config["frozen"] is False
    body = client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()
    assert body["status"] == "needs_attention"
    # Not allowed from there, by the same entry.
    with pytest.raises(StateConflict, match="while it is needs_attention"):
        _request(app, Role.RESPONDER, inv["id"], "quarantine")


def test_a_new_actions_failure_settles_as_its_entry_says(
    quarantine: ActionSpec, client: TestClient, app: FastAPI, fake: FakeExecutor
) -> None:
    inv = open_ready(client, "SEC-778")
    fake.script.append(fail_with("engine_error", "boom"))
    _status, op_id = _request(app, Role.ADMIN, inv["id"], "quarantine")
    assert wait_operation(client, op_id)["state"] == "failed"
    assert client.get(f"/v1/investigations/{inv['id']}", headers=ADMIN).json()["status"] == "failed"


def test_status_column_is_the_enum(client: TestClient, app: FastAPI) -> None:
    inv = open_ready(client, "SEC-779")
    with app.state.session_factory() as session:
        row = session.get(Investigation, inv["id"])
        assert row is not None and row.status is Status.READY
        with pytest.raises(Exception, match="not a valid Status"):
            session.execute(update(Investigation).values(status="bogus"))


def test_every_action_name_fits_where_it_is_stored() -> None:
    """PostgreSQL refuses a longer value (SQLite keeps it): an operation or a held request of such an action
    could never be recorded."""
    from service.investigations.approval_models import ApprovalRequest
    from service.operations.models import Operation

    for column in (Operation.__table__.c.action, ApprovalRequest.__table__.c.action):
        assert all(len(name) <= column.type.length for name in ACTIONS), column
