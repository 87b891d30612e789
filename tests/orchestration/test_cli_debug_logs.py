"""The engine's Pulumi CLI writes no debug log of its runs into PULUMI_HOME (``prepare_directories`` puts a
plain file where the CLI would make its logs folder): nothing reads them, the early ones are not encrypted,
and formatting them costs CPU on every run. The pinned CLI does write one where nothing is in the way, so
the same run with and without the file shows the file is what stops it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings
from service.orchestration import engine_environment
from tests.support.settings import make_settings


def _cli() -> Path:
    cli = PROJECT_ROOT / ".tools" / "bin" / "pulumi"
    if not cli.exists():
        pytest.fail("the Pulumi CLI is missing: run the README's test command (make test), which builds it")
    return cli


def _run_cli(settings: Settings) -> None:
    subprocess.run(
        [str(_cli()), "version"],
        env=engine_environment.pulumi_env(settings),
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_the_cli_writes_no_debug_log_into_the_engine_home(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine_environment.prepare_directories(settings)
    logs = engine_environment.pulumi_home(settings) / engine_environment.CLI_LOGS_NAME

    _run_cli(settings)

    assert logs.is_file()
    assert logs.read_text() == engine_environment.CLI_LOGS_NOTE


def test_without_the_file_in_its_place_the_cli_writes_its_debug_log(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine_environment.prepare_directories(settings)
    logs = engine_environment.pulumi_home(settings) / engine_environment.CLI_LOGS_NAME
    logs.unlink()

    _run_cli(settings)

    assert [path.suffix for path in logs.iterdir()] == [".log"]


def test_a_logs_folder_already_there_is_left_as_it_is(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    logs = engine_environment.pulumi_home(settings) / engine_environment.CLI_LOGS_NAME
    logs.mkdir(parents=True)
    (logs / "kept.log").write_text("an earlier run's log")

    engine_environment.prepare_directories(settings)
    engine_environment.prepare_directories(settings)

    assert [path.name for path in logs.iterdir()] == ["kept.log"]
