"""The local AWS's certificate is a CA file clients verify with (``tools.local_aws.tls``), not a reason to
turn checks off: boto3 given the file connects, boto3 with the system's CAs is refused, the service's clients
verify with ``FORENSICS_AWS_CA_BUNDLE``, and the engine's processes get it as ``AWS_CA_BUNDLE``. The env file
``make local-aws`` writes is read back whole by a shell and by the settings."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import SSLError

from service import aws_clients
from service.config import Settings, tls_verify
from service.orchestration.engine_environment import engine_process_env
from tools.local_aws import tls
from tools.local_aws.aws import LocalAws
from tools.local_aws.serve import node_settings, write_env_file


def _sts(local_aws: LocalAws, verify: bool | str) -> object:
    return boto3.client(
        "sts",
        endpoint_url=local_aws.endpoint_url,
        region_name=local_aws.region,
        aws_access_key_id=local_aws.access_key_id,
        aws_secret_access_key=local_aws.secret_access_key,
        verify=verify,
    )


def test_the_endpoint_is_verified_with_its_ca_file_and_refused_without_it(local_aws: LocalAws) -> None:
    assert local_aws.ca_file.is_file()
    assert _sts(local_aws, str(local_aws.ca_file)).get_caller_identity()["Account"]  # type: ignore[attr-defined]
    with pytest.raises(SSLError):
        _sts(local_aws, True).get_caller_identity()  # type: ignore[attr-defined]


def test_the_key_is_the_launchers_alone(tmp_path: Path) -> None:
    files = tls.write_self_signed(tmp_path)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" not in files.cert.read_bytes()


def test_the_service_and_the_engine_verify_with_the_ca_bundle(local_aws: LocalAws, tmp_path: Path) -> None:
    settings = Settings(
        target="local",
        data_dir=tmp_path,
        aws_endpoint_url=local_aws.endpoint_url,
        aws_access_key_id=local_aws.access_key_id,
        aws_secret_access_key=local_aws.secret_access_key,  # type: ignore[arg-type]
        aws_ca_bundle=local_aws.ca_file,
    )
    assert tls_verify(settings) == str(local_aws.ca_file)
    assert aws_clients.client(settings, "sts").get_caller_identity()["Account"]
    assert engine_process_env(settings)["AWS_CA_BUNDLE"] == str(local_aws.ca_file)

    unchecked = settings.model_copy(update={"aws_verify_tls": False})
    assert tls_verify(unchecked) is False
    assert "AWS_CA_BUNDLE" not in engine_process_env(unchecked)
    with pytest.raises(SSLError):
        aws_clients.client(settings.model_copy(update={"aws_ca_bundle": None}), "sts").get_caller_identity()


def test_the_env_file_reads_back_whole_in_a_shell_and_in_the_settings(
    local_aws: LocalAws, tmp_path: Path
) -> None:
    values = node_settings(local_aws, "forensics-state-tls-test")
    assert "&" in values["FORENSICS_PULUMI_BACKEND_URL"]
    env_file = tmp_path / "local-aws.env"
    write_env_file(env_file, values)
    shell = subprocess.run(
        ["bash", "-c", f'set -a; . "{env_file}"; set +a; printf %s "$FORENSICS_PULUMI_BACKEND_URL"'],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert shell.stdout == values["FORENSICS_PULUMI_BACKEND_URL"]
    read = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert read.aws_endpoint_url == values["FORENSICS_AWS_ENDPOINT_URL"]
    assert read.aws_ca_bundle == Path(values["FORENSICS_AWS_CA_BUNDLE"])
    assert read.backend_url == values["FORENSICS_PULUMI_BACKEND_URL"]
