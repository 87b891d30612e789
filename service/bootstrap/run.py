"""`forensics bootstrap` as a Python API: every stack of every day-zero program brought up through the
Automation API (each in its own engine child, as the clean rooms are), then the settings their outputs imply.

Running it again changes nothing: the programs declare fixed names and the engine finds every resource the
same (each stack's result reports only `same` steps)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from policy_packs.forensics.rules.stack_kind import DAY_ZERO, ENV_STACK_KIND
from service.bootstrap.programs import PROGRAMS, BootstrapOptions, DayZeroProgram, StackPlan
from service.config import Settings
from service.errors import ServiceError
from service.orchestration import stacks
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest, OperationResult

EventHandler = Callable[[dict[str, Any]], None]
# The key each engine event handed to ``on_event`` carries: the stack it came from.
STACK_KEY = "forensics_stack"
Runner = Callable[..., OperationResult]


class BootstrapFailed(ServiceError):
    status_code = 502
    code = "bootstrap_failed"


@dataclass
class StackOutcome:
    program: str
    stack_name: str
    changes: dict[str, int]
    outputs: dict[str, Any]

    @property
    def changed(self) -> bool:
        return any(n for op, n in self.changes.items() if op != "same")


@dataclass
class BootstrapResult:
    stacks: list[StackOutcome] = field(default_factory=list)
    # FORENSICS_* name -> value, as an env file holds it.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(stack.changed for stack in self.stacks)


def request_for(program: DayZeroProgram, plan: StackPlan, kind: OperationKind) -> OperationRequest:
    """The stack's config under the program's namespace, in the plan's region, as the operator's own
    identity (day zero is what makes the roles the service assumes later)."""
    provider_config = {"aws:region": ConfigValue(plan.region)}
    if plan.assume_role_arn:
        role = {"roleArn": plan.assume_role_arn, "sessionName": "forensics-bootstrap"}
        provider_config["aws:assumeRoles"] = ConfigValue([role])
    return OperationRequest(
        kind=kind,
        stack_name=plan.stack_name,
        config={f"{program.namespace}:{key}": ConfigValue(value) for key, value in plan.config.items()},
        provider_config=provider_config,
        # The forensics pack judges these stacks too (policy_gate.packs_for adds it to every operation), told
        # by the service that they are day-zero stacks (tagged by baseline part, not by investigation).
        policy_packs=[],
        policy_env={ENV_STACK_KIND: DAY_ZERO},
    )


def bootstrap(
    settings: Settings,
    options: BootstrapOptions | None = None,
    *,
    on_stack: Callable[[DayZeroProgram, StackPlan], None] | None = None,
    on_event: EventHandler | None = None,
    runner: Runner = stacks.run_operation,
    programs: tuple[DayZeroProgram, ...] = PROGRAMS,
) -> BootstrapResult:
    """Bring every day-zero stack up, in the table's order; stops at the first failure (a later program may
    depend on an earlier one's resources). Raises BootstrapFailed naming the stack and the engine's error."""
    options = options or BootstrapOptions()
    plans = [(program, program.plans(settings, options)) for program in programs]  # all validated first
    result = BootstrapResult()
    for program, program_plans in plans:
        finished: list[tuple[StackPlan, Mapping[str, Any]]] = []

        def run_one(plan: StackPlan, program: DayZeroProgram = program) -> OperationResult:
            if on_stack is not None:
                on_stack(program, plan)
            handler = None
            if on_event is not None:
                # Stacks of one program may run at once: each event names its stack.
                def handler(event: dict[str, Any], stack: str = plan.stack_name) -> None:
                    on_event({**event, STACK_KEY: stack})

            return runner(
                settings, request_for(program, plan, OperationKind.UP), handler, program=program.program
            )

        outcomes: list[OperationResult] = []
        if program.parallel <= 1:
            for plan in program_plans:  # one at a time: the first failure stops the rest
                outcomes.append(run_one(plan))
                if not outcomes[-1].succeeded:
                    break
        else:
            with ThreadPoolExecutor(max_workers=program.parallel) as pool:
                outcomes = list(pool.map(run_one, program_plans))
        # Every stack started has finished; the first failure (in the table's order) is reported.
        for plan, outcome in zip(program_plans, outcomes, strict=False):
            if not outcome.succeeded:
                violations = "; ".join(f"{v.policy_name}: {v.message}" for v in outcome.policy_violations)
                detail = "; ".join(filter(None, (outcome.error, violations))) or "no error reported"
                raise BootstrapFailed(
                    f"{program.name} stack {plan.stack_name} failed ({outcome.error_code}): {detail}"
                )
            result.stacks.append(
                StackOutcome(program.name, plan.stack_name, outcome.changes, outcome.outputs)
            )
            finished.append((plan, outcome.outputs))
        result.settings.update(program.settings(settings, finished))
    return result


def env_file_text(values: Mapping[str, str]) -> str:
    """KEY='value' lines a shell and pydantic-settings' dotenv both read (JSON values keep their quotes)."""
    lines = ["# Written by `forensics bootstrap`: the settings the day-zero stacks imply."]
    for key, value in sorted(values.items()):
        lines.append(f"{key}='{value}'" if "'" not in value else f"{key}={value!r}")
    return "\n".join(lines) + "\n"
