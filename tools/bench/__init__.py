"""Benchmark: a bare Automation API `up` versus the service's create-to-ready, same program, same moto.

Prints wall-clock seconds for each and their ratio (the service adds a policy-gated preview, the job queue,
a process per operation and bookkeeping). Usage: ``make bench`` or ``python -m tools.bench [--runs N]``.
Also: evidence-disk hashing through the EBS direct APIs (MB/s and memory peak, ``ebs_hash_figures``), and
scale-out throughput: clean rooms per minute with 1 and with 2 worker processes on PostgreSQL, Redis and an
S3 state backend (``throughput``). Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

from pydantic import SecretStr

from service.config import PROJECT_ROOT, Settings
from service.custody.disk_image import BLOCK_SIZE, GIB, hash_snapshot, write_image
from service.local.aws import LocalAws
from service.local.seed import seed
from service.orchestration import engine_environment
from service.orchestration.models import ConfigValue, OperationKind, OperationRequest
from service.orchestration.stacks import build_request, settings_env
from tools.local_servers import PostgresServer, RedisServer

TOKEN = "bench-admin-token"


def _settings(root: Path, aws: LocalAws) -> Settings:
    return Settings(
        target="local",
        data_dir=root,
        aws_endpoint_url=aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=PROJECT_ROOT / ".tools" / "bin",
        bootstrap_admin_token=SecretStr(TOKEN),
        jobs_poll_max_delay=0.1,
    )


def bare_up(settings: Settings, investigation: str, snapshot: str) -> float:
    """The Automation API alone, in this process: select the stack, set config, `up` with the policy packs."""
    # In this process, so the engine sees this process's environment plus what the runner child would get.
    os.environ.update(engine_environment.engine_process_env(settings))
    engine_environment.prepare_directories(settings)
    from programs.forensic_env.program import forensic_environment
    from service.orchestration.engine_child import select_stack

    request = build_request(
        settings,
        OperationRequest(
            kind=OperationKind.UP,
            stack_name=f"inv-{investigation}",
            config={
                "investigationId": ConfigValue(investigation),
                "ticket": ConfigValue("BENCH-1"),
                "evidenceSnapshotIds": ConfigValue([snapshot]),
                "servicePrincipals": ConfigValue(settings.service_principals),
            },
        ),
    )
    started = time.perf_counter()
    stack = select_stack(request, forensic_environment, engine_environment.engine_workspace(settings))
    stack.up(policy_packs=request.policy_packs)
    elapsed = time.perf_counter() - started
    stack.destroy()
    return elapsed


def service_create_to_ready(settings: Settings, ticket: str, snapshot: str) -> float:
    from fastapi.testclient import TestClient

    from service.main import create_app

    headers = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        opened = client.post(
            "/v1/investigations",
            json={"ticket": ticket, "title": "benchmark", "evidence_snapshot_ids": [snapshot]},
            headers=headers,
        ).json()
        inv_id = opened["investigation"]["id"]
        while True:
            status = client.get(f"/v1/investigations/{inv_id}", headers=headers).json()["status"]
            if status in ("ready", "failed"):
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        if status != "ready":
            raise SystemExit(f"investigation {inv_id} ended {status}")
        client.post(f"/v1/investigations/{inv_id}/destroy", json={}, headers=headers)
        while client.get(f"/v1/investigations/{inv_id}", headers=headers).json()["status"] == "destroying":
            time.sleep(0.2)
    return elapsed


def ebs_hash_figures(aws: LocalAws, workers: int = 8) -> str:
    """Hashing evidence disks through the EBS direct APIs on this local AWS: raw-disk MB/s and the memory
    high-water mark while hashing (tracemalloc), for a 1 GiB disk with a quarter of its blocks written with
    random data and for a fully sparse one. Throughput is timed on an untraced run (tracing slows Python)."""
    ebs = aws.client("ebs")
    blocks = GIB // BLOCK_SIZE
    with tempfile.TemporaryFile() as image:
        for index in sorted(random.Random(7).sample(range(blocks), blocks // 4)):
            image.seek(index * BLOCK_SIZE)
            image.write(os.urandom(BLOCK_SIZE))
        image.truncate(GIB)
        image.seek(0)
        quarter = write_image(ebs, image, description="bench: 25% written")
    sparse = write_image(ebs, io.BytesIO(), volume_size_gib=1, description="bench: sparse")
    lines = []
    for label, snapshot_id in (("1 GiB, 25% written", quarter), ("1 GiB, sparse", sparse)):
        timed = hash_snapshot(ebs, snapshot_id, workers=workers)
        tracemalloc.start()
        try:
            traced = hash_snapshot(ebs, snapshot_id, workers=workers)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if traced.sha256 != timed.sha256:
            raise SystemExit(f"{snapshot_id} hashed differently twice: {timed.sha256}, {traced.sha256}")
        lines.append(
            f"EBS direct hash, {label} ({timed.blocks_read} blocks fetched, {workers} workers): "
            f"{timed.size_bytes / timed.seconds / 1e6:.0f} MB/s of disk "
            f"({timed.blocks_read * timed.block_size / timed.seconds / 1e6:.0f} MB/s fetched), "
            f"memory peak {peak / (1 << 20):.1f} MiB"
        )
    return "\n".join(lines)


def throughput(
    root: Path, aws: LocalAws, postgres: PostgresServer, redis: RedisServer, workers: int, rooms: int
) -> float:
    """Clean rooms per minute: ``rooms`` opened at once through the API (in this process, queueing only),
    built by ``workers`` worker processes (``python -m service.jobs.worker``, two operations each) on a fresh
    PostgreSQL database, Redis queue and S3 state bucket; from the first request to the last one ready."""
    from fastapi.testclient import TestClient

    from service.main import create_app

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
    snapshot = seed(settings)["snapshotId"]
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
                body = {
                    "ticket": f"BENCH-T{workers}-{n}",
                    "title": "bench",
                    "evidence_snapshot_ids": [snapshot],
                }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rooms", type=int, default=4, help="clean rooms per throughput run")
    parser.add_argument("--throughput-only", action="store_true", help="only the 1 vs 2 workers figure")
    args = parser.parse_args()
    with LocalAws() as aws, tempfile.TemporaryDirectory() as tmp:
        if not args.throughput_only:
            print(single_clean_room_figures(aws, Path(tmp), args.runs), flush=True)
        with PostgresServer() as postgres, RedisServer() as redis:
            per_minute = {
                workers: throughput(
                    Path(tmp) / f"throughput-{workers}", aws, postgres, redis, workers, args.rooms
                )
                for workers in (1, 2)
            }
    print(
        f"throughput ({args.rooms} clean rooms opened at once; PostgreSQL, Redis, S3 state; two operations "
        f"per worker): 1 worker {per_minute[1]:.2f} clean rooms/min, 2 workers {per_minute[2]:.2f} "
        f"clean rooms/min ({per_minute[2] / per_minute[1]:.2f}x)"
    )


def single_clean_room_figures(aws: LocalAws, tmp: Path, runs: int) -> str:
    """The bare `up` against the service's create-to-ready, and the disk hashing figures."""
    bare: list[float] = []
    service: list[float] = []
    for run in range(runs):
        settings = _settings(tmp / f"run-{run}", aws)
        snapshot = seed(settings)["snapshotId"]
        bare.append(bare_up(settings, f"bench-bare-{run}", snapshot))
        service.append(service_create_to_ready(settings, f"BENCH-{run}", snapshot))
        print(
            f"run {run + 1}: bare up {bare[-1]:.1f}s, service create-to-ready {service[-1]:.1f}s",
            flush=True,
        )
    disk_hashing = ebs_hash_figures(aws)
    b, s = statistics.median(bare), statistics.median(service)
    return "\n".join(
        [
            f"bare Automation API up (median of {runs}): {b:.1f} s",
            f"service create-to-ready (median of {runs}): {s:.1f} s",
            f"ratio service/bare: {s / b:.2f}",
            disk_hashing,
        ]
    )
