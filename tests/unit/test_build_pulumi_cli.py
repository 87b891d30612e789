"""The Pulumi CLI's build is kept per user (tools/build_pulumi_cli.py): a clone copies the kept build of the
same inputs, builds once when there is none, and never installs a kept binary that reports another version.
Go and the CLI are stand-ins here (scripts on PATH that log their runs), so no test builds Go."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tools import build_pulumi_cli
from tools.build_pulumi_cli import CliBuildError, build_key, ensure_cli, pinned_sdk_version


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `go` that logs each run; its `build -o X` writes a CLI script reporting the pinned version."""
    tools = tmp_path / "go-bin"
    tools.mkdir()
    log = tmp_path / "go.log"
    version = pinned_sdk_version()
    cli = f"#!/bin/sh\\necho v{version}\\n"
    _script(
        tools / "go",
        f'echo "$@" >> {log}\n'
        'if [ "$1" = version ]; then echo "go version go1.99 linux/amd64"; exit 0; fi\n'
        'while [ "$1" != -o ]; do shift; done\n'
        f'printf "{cli}" > "$2"; chmod +x "$2"\n',
    )
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return log


def _builds(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if line.startswith("build"))


def test_the_first_clone_builds_and_the_next_copies_the_kept_build(fake_go: Path, tmp_path: Path) -> None:
    first = ensure_cli(tmp_path / "clone-1" / "bin")
    second = ensure_cli(tmp_path / "clone-2" / "bin")

    assert _builds(fake_go) == 1
    assert first.read_bytes() == second.read_bytes()
    assert not second.is_symlink()
    assert build_pulumi_cli.cli_version(second) == pinned_sdk_version()


def test_other_inputs_build_again(fake_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_cli(tmp_path / "clone-1" / "bin")
    monkeypatch.setenv("GOFLAGS", "-race")

    ensure_cli(tmp_path / "clone-2" / "bin")

    assert _builds(fake_go) == 2


def test_a_kept_build_reporting_another_version_is_refused(fake_go: Path, tmp_path: Path) -> None:
    ensure_cli(tmp_path / "clone-1" / "bin")
    (kept,) = (tmp_path / "cache" / "forensic-cleanroom" / "pulumi-cli").iterdir()
    assert kept.name == build_key("go", pinned_sdk_version())
    _script(kept / "pulumi", "echo v0.0.1\n")

    with pytest.raises(CliBuildError, match=r"reports '0\.0\.1'"):
        ensure_cli(tmp_path / "clone-2" / "bin")
