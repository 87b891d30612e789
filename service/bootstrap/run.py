"""`forensics bootstrap` as a Python API: every stack of every day-zero program brought up through the
Automation API (each in its own engine child, as the clean rooms are), then the settings their outputs imply.

Running it again changes nothing: the programs declare fixed names and the engine finds every resource the
same (each stack's result reports only `same` steps)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policy_packs.forensics.rules.stack_kind import DAY_ZERO, ENV_STACK_KIND
from service.bootstrap.programs import PROGRAMS, BootstrapOptions, DayZeroProgram, StackPlan
from service.config import Settings
from service.errors import ServiceError
from service.orchestration import stacks
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest, OperationResult

EventHandler = Callable[[dict[str, Any]], None]
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
    return OperationRequest(
        kind=kind,
        stack_name=plan.stack_name,
        config={f"{program.namespace}:{key}": ConfigValue(value) for key, value in plan.config.items()},
        provider_config={"aws:region": ConfigValue(plan.region)},
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
        for plan in program_plans:
            if on_stack is not None:
                on_stack(program, plan)
            outcome = runner(
                settings, request_for(program, plan, OperationKind.UP), on_event, program=program.program
            )
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
