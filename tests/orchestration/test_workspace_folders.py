"""Each Automation API workspace of the service writes its project file and the stack's settings file (the
stack's config, in clear where it is plain) into a folder under the service's Pulumi home that is removed when
the work ends, never into the host's temporary folder, where the SDK would leave one behind for every
operation and every stack lookup (``service/orchestration/workspace_folders.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings
from service.orchestration import engine_child, engine_environment, stacks, workspace_folders
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest
from tests.support.settings import make_settings

TICKET = "INC-FOLDERS-7"


@pytest.fixture
def host_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder this process's ``tempfile`` uses (where the SDK makes a workspace's folder when
    it is given none), watched by the test."""
    folder = tmp_path / "host-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    cli = PROJECT_ROOT / ".tools" / "bin" / "pulumi"
    if not cli.exists():
        pytest.fail("the Pulumi CLI is missing: run the README's test command (make test), which builds it")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.chdir(tmp_path)
    return make_settings(tmp_path)


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_an_operation_writes_its_settings_under_the_home_and_leaves_nothing(
    settings: Settings, host_temp: Path
) -> None:
    engine_environment.prepare_directories(settings)
    workspace = engine_environment.engine_workspace(settings)
    seen: list[list[str]] = []

    def program() -> None:
        # While the operation runs: the stack's settings file, with its config, is in the service's folder.
        folders = Path(workspace.pulumi_home) / workspace_folders.FOLDER_NAME
        seen.append([path.read_text() for path in folders.glob("*/Pulumi.folders.yaml")])

    request = OperationRequest(
        kind=OperationKind.PREVIEW,
        stack_name="folders",
        config={"forensics:ticket": ConfigValue(TICKET)},
    )
    result = engine_child.run(request, program, workspace, lambda _event: None)

    assert result.succeeded, result.error
    assert len(seen) == 1 and len(seen[0]) == 1 and TICKET in seen[0][0]
    home = Path(workspace.pulumi_home)
    assert _everything_under(host_temp) == []
    assert _everything_under(home / workspace_folders.FOLDER_NAME) == []
    assert _everything_under(home / workspace_folders.CLI_WORKSPACES) == []


def test_stack_lookups_leave_no_folder_anywhere(settings: Settings, host_temp: Path) -> None:
    assert stacks.stack_names(settings) == []
    assert not stacks.stack_exists(settings, "folders")

    assert _everything_under(host_temp) == []
    home = engine_environment.pulumi_home(settings)
    assert _everything_under(home / workspace_folders.FOLDER_NAME) == []
    assert _everything_under(home / workspace_folders.CLI_WORKSPACES) == []


def test_folders_of_killed_processes_are_removed_before_the_next_operation(settings: Settings) -> None:
    home = engine_environment.pulumi_home(settings)
    folders = home / workspace_folders.FOLDER_NAME
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    names = {
        "killed": f"{dead.pid}_{host}_a1",
        "alive": f"{os.getpid()}_{host}_b2",
        "other host": f"{dead.pid}_elsewhere.example_c3",
        "not ours": "notes",
    }
    for name in names.values():
        (folders / name).mkdir(parents=True)
        (folders / name / "Pulumi.yaml").write_text("name: forensics\n")

    engine_environment.prepare_directories(settings)

    assert sorted(path.name for path in folders.iterdir()) == sorted(
        name for kind, name in names.items() if kind != "killed"
    )
