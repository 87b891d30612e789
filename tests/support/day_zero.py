"""Deploy a day-zero program (a directory with its own Pulumi.yaml) through the Automation API into the
local AWS: a local workspace on the program's project file (its project, so its config namespace), the real
CLI, the stand-in provider on PATH.

The program runs inline, as the service runs its programs (the CLI the project builds has no Python language
host to start `__main__.py` with), and, as in the service, each operation in a process of its own
(``python -m tests.support.day_zero``): the Python SDK keeps runtime state between two runs in one process,
and a second run there sees no config."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from service.config import PROJECT_ROOT, Settings
from service.orchestration.engine_environment import prepare_directories, pulumi_env
from tools.local_aws.seed import operator_settings

# Services the day-zero programs call, each given the local endpoint.
LOCAL_SERVICES = ("iam", "sts", "ec2", "kms", "ssm", "organizations")


def provider_config(settings: Settings) -> dict[str, auto.ConfigValue]:
    assert settings.aws_endpoint_url
    endpoint = settings.aws_endpoint_url
    return {
        "aws:region": auto.ConfigValue(settings.aws_region),
        "aws:accessKey": auto.ConfigValue(settings.aws_access_key_id),
        "aws:secretKey": auto.ConfigValue(settings.aws_secret_access_key.get_secret_value(), secret=True),
        "aws:skipCredentialsValidation": auto.ConfigValue("true"),
        "aws:skipRequestingAccountId": auto.ConfigValue("true"),
        "aws:insecure": auto.ConfigValue("true"),
        "aws:endpoints": auto.ConfigValue(json.dumps([dict.fromkeys(LOCAL_SERVICES, endpoint)])),
    }


def _stack(job: Mapping[str, Any]) -> auto.Stack:
    program_dir = Path(job["program_dir"])
    module, _, function = str(job["program"]).partition(":")
    program = getattr(importlib.import_module(module), function)
    options = auto.LocalWorkspaceOptions(
        work_dir=str(program_dir),
        pulumi_home=job["env"]["PULUMI_HOME"],
        env_vars=job["env"],
        pulumi_command=auto.PulumiCommand(root=job["cli_root"], skip_version_check=True),
        secrets_provider="passphrase",
    )
    project = str(yaml.safe_load((program_dir / "Pulumi.yaml").read_text())["name"])
    return auto.create_or_select_stack(
        stack_name=job["stack"], project_name=project, program=program, opts=options
    )


@dataclass
class DayZeroStack:
    settings: Settings
    job: dict[str, Any]

    def _run(self, operation: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tests.support.day_zero"],
            input=json.dumps({**self.job, "operation": operation}),
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=600,
        )
        if done.returncode != 0:
            raise AssertionError(f"{operation} failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def up(self) -> dict[str, Any]:
        """The stack's outputs after an `up`."""
        return dict(self._run("up")["outputs"])

    def preview(self) -> dict[str, int]:
        """The change summary of a preview (operation -> count)."""
        return dict(self._run("preview")["changes"])


@contextmanager
def program_stack(
    settings: Settings, program_dir: Path, program: str, stack_name: str, config: Mapping[str, Any]
) -> Iterator[DayZeroStack]:
    """The stack (``program`` is ``module:function``), configured: the project's keys (JSON when not strings)
    and the provider's.

    The workspace is a folder of this run's own (in the data folder) holding a copy of the program's
    Pulumi.yaml: the stack settings file the workspace writes beside it then never lands in the checkout,
    where a parallel worker deploying the same program under the same stack name would overwrite it.

    Day zero is the operator's act: the stack's provider acts with the operator's keys of the local AWS the
    settings point at (``operator_settings``), not the service's."""
    settings = operator_settings(settings)
    prepare_directories(settings)
    workspace = settings.data_dir / "day-zero" / stack_name
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copy(program_dir / "Pulumi.yaml", workspace / "Pulumi.yaml")
    job = {
        "program_dir": str(workspace),
        "program": program,
        "stack": stack_name,
        "env": pulumi_env(settings),
        "cli_root": str(settings.pulumi_cli_dir.parent),
    }
    values = {
        key: auto.ConfigValue(value if isinstance(value, str) else json.dumps(value))
        for key, value in config.items()
    }
    _stack(job).set_all_config({**values, **provider_config(settings)})
    yield DayZeroStack(settings, job)


def main() -> None:
    job = json.load(sys.stdin)
    stack = _stack(job)
    if job["operation"] == "up":
        up = stack.up(on_output=lambda line: print(line, file=sys.stderr))
        print(json.dumps({"outputs": {k: v.value for k, v in up.outputs.items()}}))
    else:
        preview = stack.preview(on_output=lambda line: print(line, file=sys.stderr))
        print(json.dumps({"changes": preview.change_summary}))


if __name__ == "__main__":
    main()
