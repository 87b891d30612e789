"""The action table: everything an action means, in one entry each.

An ``ActionSpec`` says who may ask for the action (permissions), from which states (sources, plus a guard that
reads the declared stack state), what the investigation is while it runs, which engine steps it runs, what the
investigation becomes for each outcome, what it declares about the stack, the work after a successful run,
whether it is retried after a crash, how a refusal is worded, and which requests need a second person.
Requests (``service.request_action``), approvals, the job runner, cancel, recovery, the ticket and chat paths
and the reaper all read this table; none of them knows an action by name. Adding an action is one
``register(ActionSpec(...))`` plus its steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel

from service.auth.roles import Permission
from service.clock import Clock
from service.config import Settings
from service.db.session import SessionFactory
from service.errors import InvalidInput, StateConflict
from service.errors import StepFailed as StepFailed  # the work steps' refusal, named where they are
from service.investigation_states import Status
from service.investigations import legal_hold, stack_config
from service.investigations.models import Investigation
from service.investigations.schemas import (
    DestroyRequest,
    ExtendRequest,
    FreezeRequest,
    NoParams,
    ReleaseRequest,
)
from service.operations.states import Action
from service.orchestration.messages import OperationKind, OperationRequest, OperationResult
from service.unit_of_work import UnitOfWork

# A stack may exist in every state but these: actions that change nothing may run there.
STACK_MAY_EXIST = frozenset(set(Status) - {Status.DESTROYING, Status.DESTROYED})


class StepContext(Protocol):
    """What after-success work and work steps need (the job context provides it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    def export_stack(self, stack_name: str) -> dict[str, Any]: ...

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]: ...

    @property
    def session_factory(self) -> SessionFactory: ...


@dataclass
class StepRun:
    """One operation's run, as its work steps see it: who asked, and what the previous step produced."""

    operation_id: str
    requested_by: str
    previous: OperationResult | None = None
    # Passed from one work step to the next (e.g. the resources a destroy is about to remove).
    notes: dict[str, Any] = field(default_factory=dict)
    # Said with the operation's outcome when its action announces it (label -> value), even when it fails.
    facts: dict[str, Any] = field(default_factory=dict)


Params = Mapping[str, Any]
WorkFn = Callable[[StepContext, Investigation, Params, StepRun], None]


@dataclass(frozen=True)
class Step:
    """An engine operation (``request``, or ``build`` for one made from the investigation as it is when the
    step starts, after earlier steps changed its declared state), or work in the service (``work``)."""

    label: str
    request: OperationRequest | None = None
    build: Callable[[Investigation, Settings], OperationRequest] | None = None
    work: WorkFn | None = None


StepsFn = Callable[[Investigation, Params, Settings], list[Step]]
AfterSuccess = Callable[[StepContext, Investigation, Params, OperationResult, StepRun], dict[str, Any]]
DeclareFn = Callable[[Investigation, Params], None]


def nobody_else(_params: Params, _settings: Settings) -> str | None:
    """The default: the requester acts alone."""
    return None


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    """One action of the table. A registration states its name, summary and permission, and only where it
    differs from the defaults: no request body, requested from a ready clean room, moving no status, no
    engine steps, not retried after a crash, the requester acting alone."""

    name: str
    summary: str
    permission: Permission
    # Request body; its fields become the operation's params.
    params_model: type[BaseModel] = NoParams
    # States the action may be requested from. Open has none: it creates the investigation.
    sources: frozenset[Status] = frozenset({Status.READY})
    # The status while queued and running; None: the action does not move the investigation.
    running: Status | None = None
    # The status after the engine steps ran and succeeded / failed; None: unchanged.
    succeeded: Status | None = None
    failed: Status | None = None
    # The engine steps, in order (empty for actions that run no engine operation, like extend).
    steps: StepsFn | None = None
    # The engine operation the action is reported as.
    kind: OperationKind | None = None
    # Permissions that some params need on top of ``permission`` (e.g. deleting evidence: retention).
    extra_permissions: Callable[[Params], frozenset[Permission]] = lambda _params: frozenset()
    # A refusal from the investigation's declared stack state, checked after the source states.
    guard: Callable[[Investigation], str | None] | None = None
    # Checks of the params against the investigation and the operator's settings (raises InvalidInput),
    # before anything is queued.
    validate: Callable[[Investigation, Params, Settings], None] | None = None
    # Declared-state changes once the engine ran, whatever the outcome (a failed freeze may have protected
    # part of the stack), and only after success.
    declare_when_ran: DeclareFn | None = None
    declare_when_succeeded: DeclareFn | None = None
    # Work outside the engine that completes the action; its result is stored with the operation.
    after_success: AfterSuccess | None = None
    # Safe to run again after a crash: converges (up of the same config) or changes nothing. Otherwise a
    # crash leaves the investigation to a human (needs_attention).
    retry_after_interrupt: bool = False
    # The REST route's last path segment (POST /v1/investigations/{id}/<route>); default: the name.
    route: str | None = None
    # Refusal messages by current state ({id} is the investigation id); a generic one otherwise.
    refusals: Mapping[Status, str] = field(default_factory=dict)
    # The two-person rule: why these params need a second, different person's approval (None: the requester
    # acts alone). Such a request waits in pending_approval (service/approvals) instead of being queued.
    second_person: Callable[[Params, Settings], str | None] = nobody_else
    # A decision about evidence (a custodian's release or destroy, anyone's freeze): cancelling it undoes it,
    # so a cancel by anyone but the person who asked waits for a second person too.
    custodial: bool = False
    # The status when the operation is cancelled before it ran; None: back to where it was. A cancelled
    # freeze leaves the clean room to a person (needs_attention, which the TTL reaper never destroys): the
    # reason to preserve it may still hold.
    cancelled: Status | None = None
    # An action that moves no status but whose end people wait for (a containment, collected logs, a memory
    # capture): how it ended is told on the ticket and in chat (an OperationEnded event), as a status change
    # is, with the facts its work steps left in ``StepRun.facts``.
    announce: bool = False

    @property
    def runs_engine(self) -> bool:
        return self.steps is not None

    def permissions(self, params: Params) -> frozenset[Permission]:
        return frozenset({self.permission}) | self.extra_permissions(params)

    @property
    def may_need_second_person(self) -> bool:
        return self.second_person is not nobody_else

    def cancel_needs_second_person(self, *, by_requester: bool) -> str | None:
        if self.custodial and not by_requester:
            return f"cancelling a {self.name} someone else asked for undoes another person's decision"
        return None

    def refusal(self, inv: Investigation) -> str | None:
        """Why this action may not be asked for now, or None."""
        status = inv.status
        if status not in self.sources:
            template = (
                self.refusals.get(status) or f"cannot {self.name} investigation {{id}} while it is {status}"
            )
            return template.format(id=inv.id)
        return self.guard(inv) if self.guard is not None else None

    def check(self, inv: Investigation) -> None:
        message = self.refusal(inv)
        if message is not None:
            raise StateConflict(message, details={"status": inv.status.value, "action": self.name})

    def status_after(self, *, ran: bool, succeeded: bool, previous: Status, current: Status) -> Status:
        """The investigation's status once the operation ended. Cancelled before it ran: back to where it was
        when it was asked for."""
        if not ran:
            if self.running is None:
                return current
            return self.cancelled if self.cancelled is not None else previous
        target = self.succeeded if succeeded else self.failed
        return target if target is not None else current


ACTIONS: dict[str, ActionSpec] = {}


def register(spec: ActionSpec) -> ActionSpec:
    if spec.name in ACTIONS:
        raise ValueError(f"action {spec.name} is registered already")
    ACTIONS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    ACTIONS.pop(name, None)


def spec_of(name: str) -> ActionSpec:
    try:
        return ACTIONS[name]
    except KeyError:
        raise InvalidInput(f"unknown action {name!r}", details={"actions": sorted(ACTIONS)}) from None


# The one answer to "may this be destroyed?", from the declared stack state rather than the status string.


def under_legal_hold(inv: Investigation) -> bool:
    """Frozen, being frozen or being released, or declared frozen whatever the status says: never torn down
    or warned about automatically."""
    return inv.frozen or inv.status in (Status.FROZEN, Status.FREEZING, Status.RELEASING)


def destroy_refusal(inv: Investigation) -> str | None:
    if inv.frozen:
        return (
            f"investigation {inv.id} is frozen under legal hold (its stack is declared frozen, whatever its "
            f"status says) and cannot be destroyed; a data custodian must release it first "
            f"(POST /v1/investigations/{inv.id}/release)"
        )
    return None


# Work that features do inside the lifecycle's own actions. The table names the slot; the feature that owns
# the work fills it from its steps module (custody/steps.py), so the table never imports a feature.
# ``service.features`` loads every feature's registrations and checks that no slot is left empty.


class Slot(StrEnum):
    CHECK_EVIDENCE_MOUNTS = "check the evidence mounts"  # open, when evidence was given at open
    INVENTORY_FOR_CERTIFICATE = "inventory for the teardown certificate"  # destroy, before the engine's
    CERTIFY_DESTROY = "certify the destroy"  # destroy, after success
    SEAL_FREEZE = "seal the freeze"  # freeze, after success
    RECORD_RELEASE = "record the release"  # release, after success


_WORK_SLOTS = frozenset({Slot.CHECK_EVIDENCE_MOUNTS, Slot.INVENTORY_FOR_CERTIFICATE})
_WORK: dict[Slot, WorkFn] = {}
_AFTER_SUCCESS: dict[Slot, AfterSuccess] = {}


def provide_work(slot: Slot, work: WorkFn) -> None:
    if slot not in _WORK_SLOTS:
        raise ValueError(f"slot {slot!r} takes after-success work, not a work step")
    _WORK[slot] = work


def provide_after_success(slot: Slot, work: AfterSuccess) -> None:
    if slot in _WORK_SLOTS:
        raise ValueError(f"slot {slot!r} takes a work step, not after-success work")
    _AFTER_SUCCESS[slot] = work


def empty_slots() -> list[Slot]:
    return [slot for slot in Slot if slot not in _WORK and slot not in _AFTER_SUCCESS]


def _provided_work(slot: Slot) -> WorkFn:
    """The slot's work, looked up when the step runs (the feature registers after this table is built)."""

    def run(ctx: StepContext, inv: Investigation, params: Params, step_run: StepRun) -> None:
        _WORK[slot](ctx, inv, params, step_run)

    return run


def _provided_after_success(slot: Slot) -> AfterSuccess:
    def run(
        ctx: StepContext, inv: Investigation, params: Params, result: OperationResult, step_run: StepRun
    ) -> dict[str, Any]:
        return _AFTER_SUCCESS[slot](ctx, inv, params, result, step_run)

    return run


# Engine steps


def engine_step(
    inv: Investigation, settings: Settings, kind: OperationKind, label: str, **overrides: Any
) -> Step:
    return Step(label=label, request=engine_request(inv, settings, kind, **overrides))


def engine_request(
    inv: Investigation, settings: Settings, kind: OperationKind, **overrides: Any
) -> OperationRequest:
    raw = {**stack_config.raw_config(inv), **stack_config.trust_config(settings, inv), **overrides}
    return OperationRequest(
        kind=kind,
        stack_name=inv.stack_name,
        config=stack_config.to_stack_config(raw),
        provider_config=stack_config.provider_config(inv, settings),
        policy_env=stack_config.policy_env(inv, settings),
    )


def fresh_engine_step(kind: OperationKind, label: str, **overrides: Any) -> Step:
    """An engine step whose config is read when it starts (earlier work steps declared more state)."""
    return Step(label=label, build=lambda inv, settings: engine_request(inv, settings, kind, **overrides))


def _open_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    up = engine_step(inv, settings, OperationKind.UP, "up")
    if not inv.evidence_snapshot_ids:
        return [up]
    # Ready means the evidence given at open is mounted read-only: the boot script's report decides.
    return [up, Step(label="check the evidence mounts", work=_provided_work(Slot.CHECK_EVIDENCE_MOUNTS))]


def _preview(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [engine_step(inv, settings, OperationKind.PREVIEW, "preview")]


def _refresh(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    return [engine_step(inv, settings, OperationKind.REFRESH, "refresh")]


def _freeze_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    # Declared in the program: stop, snapshot, deny, empty SG, protect. Stack state stays the truth.
    return [engine_step(inv, settings, OperationKind.UP, "up (frozen)", frozen=True)]


def _release_steps(inv: Investigation, _params: Params, settings: Settings) -> list[Step]:
    # Protection is lifted while still frozen, then the thaw removes the freeze-only resources.
    return [
        engine_step(inv, settings, OperationKind.UP, "up (unprotected)", frozen=True, unprotect=True),
        engine_step(inv, settings, OperationKind.UP, "up (released)", frozen=False),
    ]


def _destroy_steps(inv: Investigation, params: Params, settings: Settings) -> list[Step]:
    # What the stack holds right before its destroy: the teardown certificate shows each of them gone.
    inventory = Step(
        label="inventory for the teardown certificate", work=_provided_work(Slot.INVENTORY_FOR_CERTIFICATE)
    )
    if bool(params.get("retain_evidence_bucket", True)):
        return [inventory, engine_step(inv, settings, OperationKind.DESTROY, "destroy")]
    # retain_on_delete is resource state: it must be applied by an up before the destroy honours it.
    unretained = {"retainEvidenceBucket": False, "frozen": False}
    return [
        engine_step(inv, settings, OperationKind.UP, "up (evidence bucket not retained)", **unretained),
        inventory,
        engine_step(inv, settings, OperationKind.DESTROY, "destroy", **unretained),
    ]


# Declared state and after-success work


def _declare_frozen(inv: Investigation, _params: Params) -> None:
    inv.frozen = True


def _frozen_held(inv: Investigation, _params: Params) -> None:
    inv.frozen = True
    inv.legal_hold = True


def _released(inv: Investigation, params: Params) -> None:
    inv.frozen = False
    inv.legal_hold = not params.get("remove_legal_holds", False)


def _destroyed(inv: Investigation, params: Params) -> None:
    inv.retain_evidence_bucket = bool(params.get("retain_evidence_bucket", True))
    bucket = (inv.outputs or {}).get("evidenceBucket")
    inv.outputs = {"evidenceBucket": bucket} if bucket and inv.retain_evidence_bucket else {}
    inv.open_ticket = None


def _lift_legal_holds(
    ctx: StepContext, inv: Investigation, params: Params, result: OperationResult, run: StepRun
) -> dict[str, Any]:
    recorded = _AFTER_SUCCESS[Slot.RECORD_RELEASE](ctx, inv, params, result, run)
    bucket = result.outputs.get("evidenceBucket")
    if not params.get("remove_legal_holds") or not bucket:
        return recorded
    s3 = legal_hold.s3_client(ctx.settings, inv.region, inv.assume_role_arn)
    return {
        **recorded,
        "legal_hold_lifted": {"object_versions": legal_hold.set_legal_hold(s3, bucket, on=False)},
    }


def _retention(flag: str, when: bool) -> Callable[[Params], frozenset[Permission]]:
    """Deciding what happens to evidence (deleting the bucket, lifting holds) needs retention permission."""

    def needs(params: Params) -> frozenset[Permission]:
        return frozenset({Permission.RETENTION}) if bool(params.get(flag, not when)) == when else frozenset()

    return needs


# The two-person rule (the list: lifting a legal hold, deleting evidence, any retention change, a
# long extension). Each answer is said to the approver, so it says what is at stake.


def _release_second_person(params: Params, _settings: Settings) -> str | None:
    if params.get("remove_legal_holds"):
        return "release lifts a legal hold and removes the legal holds on the evidence (a retention change)"
    return "release lifts a legal hold"


def _destroy_second_person(params: Params, _settings: Settings) -> str | None:
    if not bool(params.get("retain_evidence_bucket", True)):
        return "destroy without retaining the evidence bucket deletes evidence (a retention change)"
    return None


def _extend_second_person(params: Params, settings: Settings) -> str | None:
    """``hours_granted_alone``: what extensions without a second person already added since the opening
    (the service reads it; service.investigations.service.extension_rule)."""
    limit, hours = settings.two_person_extension_hours, int(params.get("hours", 0))
    if hours > limit:
        return f"an extension by {hours} hours is longer than the {limit} hours one person may grant"
    earlier = int(params.get("hours_granted_alone", 0))
    if earlier + hours > limit:
        return (
            f"with this extension by {hours} hours, the extensions granted without a second person would add "
            f"{earlier + hours} hours, more than the {limit} hours one person may grant"
        )
    return None


register(
    ActionSpec(
        name=Action.OPEN,
        summary=(
            "Build the clean room (an `up` of a new stack); evidence given at open is acquired once it is "
            "ready, one acquisition each."
        ),
        permission=Permission.OPEN,
        extra_permissions=lambda params: (
            frozenset({Permission.ACQUIRE}) if params.get("evidence") else frozenset()
        ),
        sources=frozenset(),
        running=Status.OPENING,
        succeeded=Status.READY,
        failed=Status.FAILED,
        steps=_open_steps,
        kind=OperationKind.UP,
        retry_after_interrupt=True,
    )
)
register(
    ActionSpec(
        name=Action.PREVIEW,
        summary="What would change and whether the policies pass; creates nothing.",
        permission=Permission.PREVIEW,
        sources=STACK_MAY_EXIST,
        steps=_preview,
        kind=OperationKind.PREVIEW,
        retry_after_interrupt=True,
    )
)
register(
    ActionSpec(
        name=Action.REFRESH,
        summary="Drift check (a refresh preview): differences are reported, never fixed.",
        permission=Permission.REFRESH,
        sources=STACK_MAY_EXIST,
        steps=_refresh,
        kind=OperationKind.REFRESH,
        retry_after_interrupt=True,
    )
)
register(
    ActionSpec(
        name=Action.FREEZE,
        summary="Preserve in a locked state (declared in the program), then legal hold on every object.",
        permission=Permission.FREEZE,
        params_model=FreezeRequest,
        sources=frozenset({Status.READY, Status.NEEDS_ATTENTION}),
        running=Status.FREEZING,
        succeeded=Status.FROZEN,
        failed=Status.NEEDS_ATTENTION,
        steps=_freeze_steps,
        kind=OperationKind.UP,
        declare_when_ran=_declare_frozen,
        declare_when_succeeded=_frozen_held,
        after_success=_provided_after_success(Slot.SEAL_FREEZE),
        # Someone asked to preserve the evidence: another person's cancel waits for a second person, and a
        # cancelled freeze is never left for the reaper to destroy.
        custodial=True,
        cancelled=Status.NEEDS_ATTENTION,
        refusals={
            Status.FROZEN: "investigation {id} is already frozen",
            Status.OPENING: "investigation {id} is still opening; freeze it once it is ready",
        },
    )
)
register(
    ActionSpec(
        name=Action.RELEASE,
        summary="A data custodian lifts the freeze; legal holds stay unless remove_legal_holds.",
        permission=Permission.RELEASE,
        params_model=ReleaseRequest,
        extra_permissions=_retention("remove_legal_holds", when=True),
        sources=frozenset({Status.FROZEN, Status.NEEDS_ATTENTION}),
        running=Status.RELEASING,
        succeeded=Status.READY,
        failed=Status.NEEDS_ATTENTION,
        steps=_release_steps,
        kind=OperationKind.UP,
        declare_when_succeeded=_released,
        after_success=_lift_legal_holds,
        refusals={Status.READY: "investigation {id} is not frozen; there is nothing to release"},
        second_person=_release_second_person,
        custodial=True,
    )
)
register(
    ActionSpec(
        name=Action.DESTROY,
        summary="Tear down and remove the stack; the evidence bucket is kept unless a custodian decides.",
        permission=Permission.DESTROY,
        params_model=DestroyRequest,
        extra_permissions=_retention("retain_evidence_bucket", when=False),
        sources=frozenset({Status.READY, Status.FAILED, Status.NEEDS_ATTENTION}),
        guard=destroy_refusal,
        running=Status.DESTROYING,
        succeeded=Status.DESTROYED,
        failed=Status.FAILED,
        steps=_destroy_steps,
        kind=OperationKind.DESTROY,
        declare_when_succeeded=_destroyed,
        after_success=_provided_after_success(Slot.CERTIFY_DESTROY),
        second_person=_destroy_second_person,
        custodial=True,
        refusals={
            Status.FROZEN: (
                "investigation {id} is frozen under legal hold and cannot be destroyed; "
                "a data custodian must release it first (POST /v1/investigations/{id}/release)"
            ),
            Status.FREEZING: "investigation {id} is being frozen for legal hold and cannot be destroyed",
            Status.RELEASING: "investigation {id} is being released from legal hold; destroy it when ready",
            Status.OPENING: "investigation {id} is still opening; destroy it once it is ready or failed",
            Status.DESTROYED: "investigation {id} is already destroyed",
        },
    )
)
register(
    ActionSpec(
        name=Action.EXTEND,
        summary="Push the expiry back (no engine operation); re-arms the expiry warning.",
        permission=Permission.EXTEND,
        params_model=ExtendRequest,
        sources=STACK_MAY_EXIST,
        refusals={
            Status.DESTROYING: "investigation {id} is destroying; there is nothing to extend",
            Status.DESTROYED: "investigation {id} is destroyed; there is nothing to extend",
        },
        second_person=_extend_second_person,
    )
)
