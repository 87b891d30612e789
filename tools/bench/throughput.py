"""Scale-out throughput for ``make bench``: clean rooms per minute with 1 and with 2 worker processes on real
PostgreSQL, Redis and an S3 state backend on the local AWS (the topology of the README's operations guide)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from service.config import PROJECT_ROOT
from service.orchestration.stacks import settings_env
from tools.local_aws.aws import LocalAws
from tools.local_aws.seed import seed
from tools.local_servers import PostgresServer, RedisServer


def per_minute(root: Path, aws: LocalAws, rooms: int) -> dict[int, float]:
    """Clean rooms per minute with 1 and with 2 workers, measured one after the other in this run."""
    with PostgresServer() as postgres, RedisServer() as redis:
        return {
            workers: throughput(root / f"throughput-{workers}", aws, postgres, redis, workers, rooms)
            for workers in (1, 2)
        }


def line(rooms: int, figures: dict[int, float]) -> str:
    return (
        f"throughput ({rooms} clean rooms opened at once; PostgreSQL, Redis, S3 state; two operations per"
        f" worker): 1 worker {figures[1]:.2f} clean rooms/min, 2 workers {figures[2]:.2f} clean rooms/min"
        f" ({figures[2] / figures[1]:.2f}x)"
    )


def throughput(
    root: Path, aws: LocalAws, postgres: PostgresServer, redis: RedisServer, workers: int, rooms: int
) -> float:
    """Clean rooms per minute: ``rooms`` opened at once through the API (in this process, queueing only),
    built by ``workers`` worker processes (``python -m service.jobs.worker``, two operations each) on a fresh
    PostgreSQL database, Redis queue and S3 state bucket; from the first request to the last one ready."""
    from fastapi.testclient import TestClient

    from service.main import create_app
    from tools.bench import TOKEN, _settings

    settings = _settings(root, aws).model_copy(
        update={
            "database_url": postgres.database(),
            "jobs_url": redis.url(),
            "pulumi_backend_url": aws.state_backend_url(f"bench-state-{uuid.uuid4().hex[:12]}"),
            "embedded_consumer": False,
            "max_parallel_operations": 2,
            "integrations_periodic_tasks": False,
        }
    )
    root.mkdir(parents=True, exist_ok=True)
    seed(settings)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    env = {**os.environ, **settings_env(settings)}
    processes: list[subprocess.Popen[bytes]] = []
    with TestClient(create_app(settings)) as client:  # migrates the database before the workers start
        try:
            for n in range(workers):
                log = (root / f"worker-{n}.log").open("ab")
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "service.jobs.worker"],
                        cwd=PROJECT_ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            time.sleep(5)  # the workers' start-up (imports, recovery) is not part of the figure
            started = time.perf_counter()
            ids = []
            for n in range(rooms):
                body = {"ticket": f"BENCH-T{workers}-{n}", "title": "bench"}
                ids.append(
                    client.post("/v1/investigations", json=body, headers=headers).json()["investigation"][
                        "id"
                    ]
                )
            pending = set(ids)
            while pending:
                for inv_id in list(pending):
                    status = client.get(f"/v1/investigations/{inv_id}", headers=headers).json()["status"]
                    if status in ("failed", "needs_attention"):
                        raise SystemExit(f"throughput: investigation {inv_id} ended {status}")
                    if status == "ready":
                        pending.discard(inv_id)
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    return rooms / (elapsed / 60)
