"""Importing the worker module does no work (it is imported by tests, tools and `python -m`): the job queue
and the migrated database appear when the queue is first read, as `huey_consumer service.jobs.worker.huey`
reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _python(code: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORENSICS_DATA_DIR": str(data_dir), "FORENSICS_TARGET": "local"}
    env.pop("FORENSICS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_worker_builds_nothing(tmp_path: Path) -> None:
    result = _python("import service.jobs.worker", tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_reading_its_queue_builds_the_queue_and_migrates(tmp_path: Path) -> None:
    result = _python("import service.jobs.worker as w; print(type(w.huey).__name__)", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Huey"), result.stdout
    assert {"service.db", "jobs.db"} <= {p.name for p in tmp_path.iterdir()}
