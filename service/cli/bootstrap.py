"""`forensics bootstrap`: build day zero (the forensic accounts' deploy roles and guardrails) with this host's
own AWS identity and settings, then write or print the settings the stacks imply. Unlike the other commands
it does not call the API: nothing of the service needs to run yet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TaskID

from service.bootstrap.programs import BootstrapOptions, DayZeroProgram, StackPlan
from service.bootstrap.run import STACK_KEY, env_file_text
from service.bootstrap.run import bootstrap as run_bootstrap
from service.cli.client import console, err
from service.cli.output import event_progress, show_event
from service.config import get_settings
from service.errors import ServiceError


def bootstrap(
    env_file: Annotated[
        Path | None, typer.Option(help="Write the implied FORENSICS_* settings to this file (mode 0600)")
    ] = None,
    base_image_id: Annotated[
        str, typer.Option(help="The approved base image (ami-...) the golden-AMI pipeline builds from")
    ] = "",
    golden_image_pipeline: Annotated[
        bool,
        typer.Option(
            "--golden-image-pipeline/--no-golden-image-pipeline",
            help="Build the EC2 Image Builder pipeline (off for the local AWS, which has no Image Builder)",
        ),
    ] = True,
    organization_id: Annotated[
        str,
        typer.Option(
            help="The AWS Organization (o-...): its members may read the signing public key, and the "
            "forensics OU with its SCPs is built in it, last (none: no OU)"
        ),
    ] = "",
    organization_parent_id: Annotated[
        str, typer.Option(help="Where the forensics OU goes (r-... or ou-...; default: the root)")
    ] = "",
    member_role_name: Annotated[
        str,
        typer.Option(help="The role assumed in each source account to build its evidence role there"),
    ] = "OrganizationAccountAccessRole",
) -> None:
    """Build or update the day-zero stacks; a second run changes nothing."""
    settings = get_settings()
    options = BootstrapOptions(
        base_image_id=base_image_id,
        golden_image_pipeline=golden_image_pipeline,
        organization_id=organization_id,
        member_role_name=member_role_name,
        organization_parent_id=organization_parent_id,
    )
    with event_progress() as progress:
        # One task per stack: the stacks of one program may deploy at once (sources); events name theirs.
        tasks: dict[str, TaskID] = {}

        def on_stack(program: DayZeroProgram, plan: StackPlan) -> None:
            tasks[plan.stack_name] = progress.add_task(f"{program.name} {plan.stack_name}", total=None)

        def on_event(event: dict[str, Any]) -> None:
            task = tasks.get(str(event.get(STACK_KEY, "")))
            if task is not None:
                show_event(progress, task, event)

        try:
            result = run_bootstrap(settings, options, on_stack=on_stack, on_event=on_event)
        except ServiceError as exc:
            progress.stop()
            err.print(f"[red]bootstrap failed[/red]: {exc.message}")
            raise typer.Exit(1) from None
    for stack in result.stacks:
        changes = (
            ", ".join(f"{op} {n}" for op, n in sorted(stack.changes.items()) if op != "same") or "no changes"
        )
        console.print(f"{stack.program} [bold]{stack.stack_name}[/bold]: {changes}")
    text = env_file_text(result.settings)
    if env_file is None:
        console.print(text, markup=False, highlight=False, end="")
        return
    env_file.write_text(text)
    os.chmod(env_file, 0o600)
    console.print(f"settings written to {env_file}")
