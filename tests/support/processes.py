"""Service nodes as real OS processes: an API (uvicorn) or a job worker (``python -m service.jobs.worker``,
what ``make worker`` runs), each with exactly the given settings in its environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx

from service.config import PROJECT_ROOT, Settings
from service.orchestration import stacks
from tests.support.api import ADMIN, ADMIN_TOKEN
from tools.local_aws.aws import free_port


class NodeProcess:
    def __init__(self, settings: Settings, name: str, command: list[str]) -> None:
        self.env = {
            **os.environ,
            **stacks.settings_env(settings),
            "FORENSICS_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
            "FORENSICS_JOBS_POLL_MAX_DELAY": "0.2",
        }
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = settings.data_dir / f"{name}.log"

    def start(self) -> NodeProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command, cwd=PROJECT_ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (its engine children keep running in their own groups)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ServiceProcess(NodeProcess):
    """An API node on a free port; ``start`` returns once /healthz answers."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "uvicorn", "service.main:app", "--host", "127.0.0.1"]
        super().__init__(settings, f"service-{self.port}", [*command, "--port", str(self.port)])

    def start(self) -> ServiceProcess:
        super().start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"service did not start: {self.log.read_text()[-3000:]}")

    def get(self, path: str, **params: Any) -> Any:
        return httpx.get(f"{self.url}{path}", params=params, headers=ADMIN, timeout=30).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=ADMIN, timeout=60)


class WorkerProcess(NodeProcess):
    """A job worker (recovery at start, then the Huey consumer)."""

    def __init__(self, settings: Settings, name: str) -> None:
        super().__init__(settings, name, [sys.executable, "-m", "service.jobs.worker"])
