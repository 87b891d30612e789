"""``python -m tools.bench.bare``: one bare Automation API deployment in its own process, for the benchmark.

Reads ``{"investigation", "gated"}`` (and optionally ``"parallel"``, the engine's ``--parallel``,
``"empty"``: a program without resources and no policy pack, the fixed cost of an engine run, and
``"preview"``: a ``preview`` under the packs alone, what the gate's first pass costs) on stdin;
the settings come from FORENSICS_* variables.
Runs the forensic program with the policy packs: ``up`` alone, or (``gated``) an ``up`` that previews
under the packs first in the same engine run, which is what the service's gate does. Prints one JSON line
when the stack is up (or previewed): the seconds
from selecting the stack to the end of ``up``, and this process's CPU seconds so far, its reaped children
(the CLI, the analyzer, the provider) included. Then destroys the stack, so the next run starts clean.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

from service.config import get_settings
from service.orchestration import engine_environment, workspace_folders
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest
from service.orchestration.stacks import build_request


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    job = json.load(sys.stdin)
    settings = get_settings()
    # The engine sees this process's environment, exactly what the service's engine child would get.
    os.environ.update(engine_environment.engine_process_env(settings))
    engine_environment.prepare_directories(settings)
    from programs.forensic_env.program import forensic_environment

    def empty_program() -> None:
        """No resource: what an engine run costs before it deploys anything (no provider starts)."""

    empty = bool(job.get("empty"))
    preview_only = bool(job.get("preview"))
    from service.orchestration.engine_child import operation_config, prepared, with_stack

    request = build_request(
        settings,
        OperationRequest(
            kind=OperationKind.UP,
            stack_name=f"inv-{job['investigation']}",
            config={
                "investigationId": ConfigValue(job["investigation"]),
                "ticket": ConfigValue("BENCH-1"),
                "servicePrincipals": ConfigValue(settings.service_principals),
            },
        ),
    )
    started = time.perf_counter()
    # The engine child's own bookkeeping (stack init, settings file), so that only the gate and the service
    # differ from the service's figures.
    with workspace_folders.workspace_folder(engine_environment.pulumi_home(settings)) as work_dir:
        program = empty_program if empty else forensic_environment
        stack = prepared(request, program, engine_environment.engine_workspace(settings), work_dir)

        # The engine's resource operations at once (``--parallel``): the SDK's default (None) is unbounded.
        parallel: int | None = int(job["parallel"]) if job.get("parallel") else None

        def deploy() -> None:
            if empty:
                stack.up(parallel=parallel)
            elif preview_only:
                # The gate's first pass on its own: the same packs judge every resource and the stack, nothing
                # is created (one CLI start, the program, the analyzer and the provider, as in the gated up).
                stack.preview(policy_packs=request.policy_packs, parallel=parallel)
            elif job["gated"]:
                # What the gate does: one engine run that previews (under the packs) before it updates.
                stack.up_previewing_first(policy_packs=request.policy_packs, parallel=parallel)
            else:
                stack.up(policy_packs=request.policy_packs, parallel=parallel)

        with_stack(stack, operation_config(request), deploy)
        elapsed = time.perf_counter() - started
        print(json.dumps({"seconds": elapsed, "cpu_seconds": _cpu_seconds()}), flush=True)
        stack.destroy(remove=True)


if __name__ == "__main__":
    main()
