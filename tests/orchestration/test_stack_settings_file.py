"""The stack's settings file (``Pulumi.<stack>.yaml``) that the engine child writes its plain config into is
read by the CLI, whose YAML is 1.2: a string the Python side's YAML 1.1 writer leaves unquoted because it
is no 1.1 number (``014123500286``: a leading zero with an 8 or 9 in it) is a 1.2 integer, and the program
would get ``14123500286``. AWS account ids may start with 0, so every config value must come back exactly as
sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi import automation as auto

from service.config import PROJECT_ROOT
from service.orchestration.engine_child import workspace_for
from service.orchestration.messages import EngineWorkspace

# Strings a YAML reader could take for something else: numbers by 1.1 or 1.2 rules, booleans, null, dates.
AMBIGUOUS = [
    "014123500286",
    "012345670123",
    "123456789012",
    "1e3",
    "0x1F",
    "0o17",
    "true",
    "yes",
    "off",
    "null",
    "~",
    "2026-12-07",
    "1_000",
    ".inf",
]


def test_plain_config_reaches_the_cli_exactly_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = PROJECT_ROOT / ".tools" / "bin" / "pulumi"
    if not cli.exists():
        pytest.fail("the Pulumi CLI is missing: run the README's test command (make test), which builds it")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "state").mkdir()
    workspace = EngineWorkspace(
        pulumi_home=str(tmp_path / "home"),
        backend_url=f"file://{tmp_path / 'state'}",
        pulumi_cli_dir=str(cli.parent),
    )
    ws = workspace_for(lambda: None, workspace, str(tmp_path))
    ws.create_stack("settings-file")
    sent = {f"forensics:value{i}": auto.ConfigValue(value) for i, value in enumerate(AMBIGUOUS)}
    ws.write_config("settings-file", sent)

    read = ws.get_all_config("settings-file")

    assert {key: read[key].value for key in sent} == {key: cv.value for key, cv in sent.items()}
