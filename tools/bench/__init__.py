"""Benchmark: a bare Automation API `up` versus the service's create-to-ready, same program, same moto.

Prints wall-clock seconds for each and their ratio (the service adds a policy-gated preview, the job queue,
a process per operation and bookkeeping). Usage: ``make bench`` or ``python -m tools.bench [--runs N]``.
Not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from service.config import PROJECT_ROOT, Settings
from service.local.aws import LocalAws
from service.local.seed import seed
from service.orchestration import engine_environment
from service.orchestration.models import ConfigValue, OperationKind, OperationRequest
from service.orchestration.stacks import build_request

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    bare: list[float] = []
    service: list[float] = []
    with LocalAws() as aws, tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            settings = _settings(Path(tmp) / f"run-{run}", aws)
            snapshot = seed(settings)["snapshotId"]
            bare.append(bare_up(settings, f"bench-bare-{run}", snapshot))
            service.append(service_create_to_ready(settings, f"BENCH-{run}", snapshot))
            print(
                f"run {run + 1}: bare up {bare[-1]:.1f}s, service create-to-ready {service[-1]:.1f}s",
                flush=True,
            )
    b, s = statistics.median(bare), statistics.median(service)
    print(f"bare Automation API up (median of {args.runs}): {b:.1f} s")
    print(f"service create-to-ready (median of {args.runs}): {s:.1f} s")
    print(f"ratio service/bare: {s / b:.2f}")
