"""The engine child (``python -m service.orchestration.engine_child``) gets an explicit, minimal environment.

Every secret setting is set to a unique sentinel, both in the Settings and in the service's own environment
(where a deployment puts them); no sentinel may reach the child's environment, except the secrets the engine
genuinely needs, in the one variable that carries each (ENGINE_SECRETS). The engine-level twin,
tests/foundation/test_engine_child_processes.py, reads the real environment of the child and its descendants.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from service.config import Settings
from service.orchestration import engine_environment
from service.orchestration.engine_environment import (
    POLICY_PACK_AWS_VARIABLES,
    POLICY_PACK_LIST_SETTINGS,
    POLICY_PACK_SETTINGS,
)

# The secrets the engine needs, the one environment variable each may appear in, and why.
ENGINE_SECRETS: dict[str, tuple[str, str]] = {
    "pulumi_passphrase": (
        "PULUMI_CONFIG_PASSPHRASE",
        "the CLI encrypts and decrypts the stack's secret config and outputs with it",
    ),
    "aws_secret_access_key": (
        "PULUMI_CONFIG",
        "local mode: moto's credential for the stand-in provider, sent as the secret stack config "
        "aws:secretKey, never as a variable of ours; the engine itself hands the stack's config, decrypted, "
        "to the provider and policy analyzer plugins it starts, in PULUMI_CONFIG",
    ),
}


def secret_fields() -> list[str]:
    """Every SecretStr setting (also ``SecretStr | None``), read from the model: a new secret is covered."""

    def is_secret(annotation: Any) -> bool:
        if annotation is SecretStr:
            return True
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            return any(is_secret(arg) for arg in typing.get_args(annotation))
        return False

    return sorted(name for name, field in Settings.model_fields.items() if is_secret(field.annotation))


def sentinels() -> dict[str, str]:
    return {name: f"sentinel-{name.replace('_', '-')}-6f1c2b" for name in secret_fields()}


def settings_with_sentinels(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Settings:
    """Settings whose every secret is its sentinel; the sentinels are also in this process's environment,
    as FORENSICS_* variables, because that is where a deployed service's secrets live."""
    for name, value in sentinels().items():
        monkeypatch.setenv(f"FORENSICS_{name.upper()}", value)
    return Settings(**settings, **{name: SecretStr(value) for name, value in sentinels().items()})


def leaks(environments: Iterable[tuple[str, Mapping[str, str]]]) -> list[str]:
    """Each (process, variable, secret) where a sentinel shows, but for ENGINE_SECRETS in their variable."""
    found: list[str] = []
    for process, env in environments:
        for variable, value in env.items():
            for name, sentinel in sentinels().items():
                if sentinel not in f"{variable}={value}":
                    continue
                if name in ENGINE_SECRETS and ENGINE_SECRETS[name][0] == variable:
                    continue
                found.append(f"{process}: {variable} carries {name}")
    return found


def test_every_secret_setting_is_enumerated() -> None:
    # A guard on the enumeration itself: these exist today, so an empty list would mean it broke.
    assert {"pulumi_passphrase", "ticketing_token", "slack_signing_secret", "bootstrap_admin_token"} <= set(
        secret_fields()
    )
    assert set(ENGINE_SECRETS) <= set(secret_fields())


@pytest.mark.parametrize("target", ["local", "aws"])
def test_the_child_env_holds_no_secret_but_the_passphrase(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-aws-secret")
    monkeypatch.setenv("SOME_UNRELATED_TOKEN", "parent-only")
    settings = settings_with_sentinels(
        monkeypatch, target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1"
    )
    env = engine_environment.engine_process_env(settings)

    assert leaks([("engine child", env)]) == []
    passphrase = ENGINE_SECRETS["pulumi_passphrase"][0]
    assert env[passphrase] == settings.pulumi_passphrase.get_secret_value()
    # Nothing of the parent's environment comes along unless named.
    assert "SOME_UNRELATED_TOKEN" not in env
    forensics = {name for name in env if name.startswith("FORENSICS_")}
    assert {"FORENSICS_PYTHON", *POLICY_PACK_SETTINGS} <= forensics
    assert forensics <= {
        "FORENSICS_PYTHON",
        # The stand-in zygote's socket (local target, when one runs: the suite's does).
        "FORENSICS_STANDIN_ZYGOTE",
        # The policy analyzer zygote's socket (likewise).
        "FORENSICS_ANALYZER_ZYGOTE",
        *POLICY_PACK_SETTINGS,
        *POLICY_PACK_LIST_SETTINGS,
        *POLICY_PACK_AWS_VARIABLES,
    }
    # The ambient AWS identity only where the real provider needs it.
    assert ("AWS_SECRET_ACCESS_KEY" in env) is (target == "aws")


def test_the_child_env_carries_what_the_engine_and_the_policy_pack_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("PYTHONPATH", "/extra")
    settings = Settings(data_dir=tmp_path, max_ami_age_days=9)
    env = engine_environment.engine_process_env(settings)

    assert {k: env[k] for k in engine_environment.pulumi_env(settings)} == engine_environment.pulumi_env(
        settings
    )
    assert env["HOME"] == "/home/someone"
    assert env["PYTHONPATH"].split(":")[-1] == "/extra"
    (variable,) = POLICY_PACK_SETTINGS
    assert env[variable] == "9"


def test_a_local_s3_state_backend_uses_the_settings_identity_never_the_hosts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Locally an S3 state backend is a bucket of the local AWS (``make local-aws``): the CLI reaches it with
    the settings' keys and region alone. A node's shell may hold the operator's real-AWS session; a profile
    or session token of it would make the CLI fail (an unknown profile) or sign as someone else."""
    ambient = {
        "AWS_PROFILE": "operator-real-aws",
        "AWS_SESSION_TOKEN": "operator-session",
        "AWS_ACCESS_KEY_ID": "AKIAOPERATOR",
        "AWS_SECRET_ACCESS_KEY": "operator-secret",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_CONFIG_FILE": "/home/operator/.aws/config",
    }
    for name, value in ambient.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        target="local",
        data_dir=tmp_path,
        aws_region="us-east-1",
        aws_endpoint_url="https://127.0.0.1:1",
        aws_access_key_id="AKIASERVICE",
        aws_secret_access_key=SecretStr("service-secret"),
        pulumi_backend_url="s3://forensics-state?endpoint=127.0.0.1:2&disableSSL=true&region=us-east-1",
    )
    env = engine_environment.engine_process_env(settings)

    assert env["AWS_ACCESS_KEY_ID"] == "AKIASERVICE"
    assert env["AWS_SECRET_ACCESS_KEY"] == "service-secret"
    assert env["AWS_REGION"] == "us-east-1"
    assert not {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"} & set(env)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_the_standin_zygote_is_named_to_the_engine_only_locally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    """The stand-in's launcher finds the zygote it forks the provider from in the engine's environment; real
    AWS runs the real provider, which is told nothing of it. Unset, nothing names one."""
    monkeypatch.delenv("FORENSICS_STANDIN_ZYGOTE", raising=False)
    zygote = tmp_path / "standin.sock"
    named = Settings(
        target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1", standin_zygote=zygote
    )
    unnamed = Settings(target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1")

    env = engine_environment.engine_process_env(named)
    assert env.get("FORENSICS_STANDIN_ZYGOTE") == (str(zygote) if target == "local" else None)
    assert "FORENSICS_STANDIN_ZYGOTE" not in engine_environment.engine_process_env(unnamed)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_the_cli_collects_garbage_less_often_only_locally(tmp_path: Path, target: str) -> None:
    """Locally the CLI's Go runtime trades a larger heap for less collection CPU; against real AWS it keeps
    the runtime's default (no GOGC in its environment)."""
    settings = Settings(target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1")

    env = engine_environment.engine_process_env(settings)

    assert env.get("GOGC") == ("200" if target == "local" else None)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_the_analyzer_zygote_is_named_to_the_engine_only_locally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    """The policy shim's launcher finds the zygote it forks the analyzer from in the engine's environment;
    for real AWS the shim starts the analyzer afresh, as without a zygote. Unset, nothing names one."""
    monkeypatch.delenv("FORENSICS_ANALYZER_ZYGOTE", raising=False)
    zygote = tmp_path / "analyzer.sock"
    named = Settings(
        target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1", analyzer_zygote=zygote
    )
    unnamed = Settings(target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1")

    env = engine_environment.engine_process_env(named)
    assert env.get("FORENSICS_ANALYZER_ZYGOTE") == (str(zygote) if target == "local" else None)
    assert "FORENSICS_ANALYZER_ZYGOTE" not in engine_environment.engine_process_env(unnamed)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_the_engine_zygote_starts_the_child_only_locally_and_is_named_to_its_launcher_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, target: str
) -> None:
    """Locally with an engine zygote the service starts the zygote's launcher in the child's place, and only
    the launcher is told the zygote's socket (it drops the variable before the child starts); for real AWS,
    or with none, the child starts afresh exactly as it always did, and nothing names a zygote."""
    monkeypatch.delenv("FORENSICS_ENGINE_ZYGOTE", raising=False)
    zygote = tmp_path / "engine.sock"
    named = Settings(
        target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1", engine_zygote=zygote
    )
    unnamed = Settings(target=target, data_dir=tmp_path, aws_endpoint_url="https://127.0.0.1:1")
    afresh = [sys.executable, "-u", "-m", "service.orchestration.engine_child"]

    start = engine_environment.engine_child_start(named)
    if target == "local":
        assert start.command == [
            sys.executable,
            "-I",
            "-S",
            str(engine_environment.ZYGOTE_LAUNCHER),
            "FORENSICS_ENGINE_ZYGOTE",
            "service.orchestration.engine_child",
        ]
        assert start.launcher_env == {"FORENSICS_ENGINE_ZYGOTE": str(zygote)}
    else:
        assert (start.command, start.launcher_env) == (afresh, {})
    unserved = engine_environment.engine_child_start(unnamed)
    assert (unserved.command, unserved.launcher_env) == (afresh, {})
    for settings in (named, unnamed):
        assert "FORENSICS_ENGINE_ZYGOTE" not in engine_environment.engine_process_env(settings)
