"""The engine child ends as soon as its result is out: it does not finalize the interpreter (a full
collection of the engine's heap, seconds on a loaded machine, during which the service waits for the process
group to end; most of an orphaned engine's stop), and loses nothing by it: the result line and what the
program printed reach their files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings
from service.orchestration.engine_environment import engine_child_start
from service.orchestration.messages import EngineWorkspace, OperationKind, OperationRequest
from tests.support.zygotes import children
from tools.engine_zygote import EngineZygote


@pytest.mark.parametrize("mode", ["afresh", "forked"])
def test_the_engine_child_reports_then_ends_without_finalizing(
    tmp_path: Path, own_engine_zygote: EngineZygote, mode: str
) -> None:
    request = OperationRequest(kind=OperationKind.PREVIEW, stack_name="inv-exit")
    workspace = EngineWorkspace(
        pulumi_home=str(tmp_path), backend_url="file://" + str(tmp_path), pulumi_cli_dir=""
    )
    payload = {
        "request": request.to_json(),
        "workspace": workspace.to_json(),
        # The module loads (it prints, and registers its finalization note); the function is not there.
        "program": "tests.orchestration.exit_probe:not_there",
    }
    probe = tmp_path / "finalized"
    log = tmp_path / "engine.log"
    env = {**os.environ, "EXIT_PROBE_FILE": str(probe)}
    if mode == "afresh":
        # Without -u (the service passes it): the fast exit must flush what is still buffered.
        command = [sys.executable, "-m", "service.orchestration.engine_child"]
    else:
        # The launcher the service starts in the child's place, the zygote named to it.
        start = engine_child_start(Settings(target="local", engine_zygote=own_engine_zygote.path))
        command = start.command
        env.update(start.launcher_env)
    with log.open("wb") as stderr:
        done = subprocess.run(
            command,
            input=json.dumps(payload),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=PROJECT_ROOT,
            env=env,
            timeout=120,
        )

    assert done.returncode == 0
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(line) for line in lines] == [["result"]]
    assert lines[0]["result"]["error_code"] == "program_error"
    assert "not_there" in lines[0]["result"]["error"]
    assert "exit probe loaded" in log.read_text()
    assert not probe.exists(), "the interpreter was finalized"
    # Forked, the child was the zygote's, and is reaped by now: the launcher ends as its child has.
    (loaded,) = [line for line in log.read_text().splitlines() if line.startswith("exit probe loaded")]
    child, parent = (int(word) for word in loaded.split()[-3::2])
    assert parent == (os.getpid() if mode == "afresh" else own_engine_zygote.pid)
    assert child not in children(own_engine_zygote.pid)
