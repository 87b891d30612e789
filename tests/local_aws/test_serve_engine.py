"""`make local-aws` (``python -m tools.local_aws.serve --state-bucket ...``) end to end, as an operator
runs it for a rehearsal of several nodes: the process starts the enforcing local AWS on a free port, runs
day zero in it and writes the env file; then, with ONLY that file's settings (and a data folder of the
node's own), a node keeps its Pulumi state in the S3 bucket and does nothing else as itself:

- the pinned Pulumi CLI, in the environment the service hands its engine (``engine_process_env``), logs
  into the S3 backend, finds the bootstrap's own stacks there, and runs ``stack init`` / ``stack ls`` /
  ``stack rm``, its state object appearing and going in the bucket;
- boto3 with the file's keys (``forensics-service``) reads and writes the state bucket's objects and is
  refused another bucket, the state bucket's own settings and an administrator's action.

That the file reads back whole in a shell and in the settings is ``tests/unit/test_local_aws_tls.py``'s;
this file is the one proof that its settings work together. Day zero costs ~100 s of engine time: one
test."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from service.config import PROJECT_ROOT, Settings
from service.orchestration.engine_environment import engine_process_env
from tools.local_aws.aws import free_port

pytestmark = [pytest.mark.engine]

DAY_ZERO_TIMEOUT = 900
READY = "Stop with Ctrl-C or SIGTERM"


@dataclass(frozen=True)
class Served:
    env_file: Path
    state_bucket: str
    output: list[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("local-aws-serve")
    env_file = folder / "local-aws.env"
    state_bucket = f"forensics-state-{uuid.uuid4().hex[:12]}"
    # What `make local-aws` runs with: the operator's shell, no FORENSICS_* of the suite's.
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FORENSICS_", "AWS_", "PULUMI_"))},
        "FORENSICS_TARGET": "local",
        "FORENSICS_DATA_DIR": str(folder / "data"),
        "FORENSICS_PULUMI_CLI_DIR": str(pulumi_cli.parent),
    }
    command = [sys.executable, "-m", "tools.local_aws.serve", "--port", str(free_port())]
    command += ["--state-bucket", state_bucket, "--env-file", str(env_file)]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if READY in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DAY_ZERO_TIMEOUT
        while not ready.wait(1) and process.poll() is None and time.monotonic() < deadline:
            pass
        if not ready.is_set():
            pytest.fail("make local-aws did not get ready:\n" + "\n".join(output[-60:]))
        yield Served(env_file=env_file, state_bucket=state_bucket, output=output)
        # It runs until SIGTERM, then stops the local AWS and exits cleanly.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "\n".join(output[-30:])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=10)


def _node_settings(served: Served, data_dir: Path) -> Settings:
    """A node's settings: the env file alone (none of the suite's FORENSICS_* variables), its own folder."""
    suite = [name for name in os.environ if name.startswith("FORENSICS_")]
    with mock.patch.dict(os.environ):
        for name in suite:
            del os.environ[name]
        settings = Settings(_env_file=served.env_file)  # type: ignore[call-arg]
    return settings.model_copy(update={"data_dir": data_dir})


# A node's shell may hold the operator's own AWS session (for real AWS): the engine's state backend in the
# local AWS must not pick it up.
OPERATOR_SHELL = {"AWS_PROFILE": "operator-real-aws", "AWS_SESSION_TOKEN": "operator-real-aws-session"}


def _pulumi(settings: Settings, project: Path, *args: str) -> str:
    """The pinned CLI as the service's engine child runs it: its environment, nothing else."""
    with mock.patch.dict(os.environ, OPERATOR_SHELL):
        env = engine_process_env(settings)
    done = subprocess.run(
        [str(settings.pulumi_cli_dir / "pulumi"), *args, "--non-interactive"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"pulumi {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _s3_as_node(settings: Settings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        verify=str(settings.aws_ca_bundle),
    )


def _refused(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    assert refused.value.response["Error"]["Code"] == "AccessDenied", refused.value.response


def test_a_node_keeps_its_state_in_the_bucket_with_the_env_files_settings_and_nothing_more(
    served: Served, tmp_path: Path
) -> None:
    # The file holds the service identity's secret key: the owner's alone.
    assert stat.S_IMODE(served.env_file.stat().st_mode) == 0o600
    settings = _node_settings(served, tmp_path / "node")
    backend = settings.backend_url
    assert urlsplit(backend).scheme == "s3" and urlsplit(backend).netloc == served.state_bucket
    assert settings.aws_access_key_id != "testing"
    s3 = _s3_as_node(settings)
    caller = boto3.client(
        "sts",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        verify=str(settings.aws_ca_bundle),
    ).get_caller_identity()
    assert caller["Arn"].endswith(":user/forensics-service")

    # (a) The pinned CLI, in the engine's environment, against the S3 backend.
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "pulumi-home").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: serve-state-proof\nruntime: python\n")
    _pulumi(settings, project, "login", backend)
    # The bootstrap's own stacks (day zero ran with this backend): a re-run from any node finds them.
    every = json.loads(_pulumi(settings, project, "stack", "ls", "--all", "--json"))
    names = [str(stack["name"]).rsplit("/", 1)[-1] for stack in every]
    assert any(name.startswith("account-") for name in names), names
    stack = f"node-{uuid.uuid4().hex[:8]}"
    _pulumi(settings, project, "stack", "init", stack)
    listed = json.loads(_pulumi(settings, project, "stack", "ls", "--json"))
    assert [s["name"].rsplit("/", 1)[-1] for s in listed] == [stack]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=served.state_bucket)["Contents"]]
    assert any(key.endswith(f"serve-state-proof/{stack}.json") for key in keys), keys
    _pulumi(settings, project, "stack", "rm", stack, "--yes")
    assert json.loads(_pulumi(settings, project, "stack", "ls", "--json")) == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=served.state_bucket)["Contents"]]
    assert not any(key.endswith(f"serve-state-proof/{stack}.json") for key in keys), keys

    # (b) boto3 as forensics-service: the state bucket's objects, and nothing else.
    key = f".pulumi/proof/{uuid.uuid4().hex}.json"
    s3.put_object(Bucket=served.state_bucket, Key=key, Body=b"{}")
    assert s3.get_object(Bucket=served.state_bucket, Key=key)["Body"].read() == b"{}"
    s3.delete_object(Bucket=served.state_bucket, Key=key)
    anchor = settings.audit_anchor_bucket
    assert anchor and anchor != served.state_bucket
    _refused(s3.list_objects_v2, Bucket=anchor)
    _refused(s3.put_object, Bucket=anchor, Key="planted", Body=b"x")
    _refused(s3.create_bucket, Bucket=f"forensics-other-{uuid.uuid4().hex[:8]}")
    _refused(s3.delete_bucket, Bucket=served.state_bucket)
    _refused(s3.put_bucket_policy, Bucket=served.state_bucket, Policy=json.dumps({"Statement": []}))
    iam = boto3.client(
        "iam",
        endpoint_url=settings.aws_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        verify=str(settings.aws_ca_bundle),
    )
    _refused(
        iam.attach_user_policy,
        UserName="forensics-service",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    _refused(iam.create_user, UserName=f"intruder-{uuid.uuid4().hex[:8]}")
