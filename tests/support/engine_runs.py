"""Counting deployments: how many `pulumi up` and `pulumi destroy` runs each test makes (`--engine-runs`).

Wall times on a shared machine are noise; the number of deployments a suite makes is not, so that is the
figure a change that shares deployed rooms reports. With the option, the session's Pulumi CLI is a wrapper
script that appends the command of every `up` and `destroy` to a log and then runs the pinned CLI unchanged.
The engine's own child processes run it too, so nothing is missed that goes through the `pulumi_cli` fixture.
Each test phase (setup, call, teardown) is charged with the log lines written while it ran: a module-scoped
room's deployment counts against the test whose setup made it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

# Commands that change a stack: a deployment, whatever its size. `preview` and `refresh` deploy nothing.
COUNTED = ("up", "destroy")

USER_PROPERTY = "engine_runs"


def wrapper_cli(real_cli: Path, folder: Path, log: Path) -> Path:
    """A `bin/pulumi` in `folder` (the service finds the CLI as `<dir>/../bin/pulumi`) that logs, then runs
    the real CLI with the same arguments."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "pulumi"
    counted = "|".join(COUNTED)
    wrapper.write_text(
        "#!/bin/sh\n"
        # The first argument that is not a flag is the command (the Automation API puts flags first).
        'for arg in "$@"; do\n'
        '  case "$arg" in -*) continue ;; esac\n'
        f'  case "$arg" in {counted}) echo "$arg" >> {shlex.quote(str(log))} ;; esac\n'
        "  break\n"
        "done\n"
        f'exec {shlex.quote(str(real_cli))} "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def runs_logged(log: Path) -> int:
    if not log.exists():
        return 0
    with log.open("rb") as lines:
        return sum(1 for _ in lines)


def log_path(folder: Path) -> Path:
    """One log per process: each xdist worker has its own session, CLI wrapper and count."""
    return folder / f"engine-runs-{os.getpid()}.log"


class EngineRunCounter:
    """The pytest plugin behind `--engine-runs` (registered by tests/conftest.py). Under xdist each worker
    counts its own tests and the controller sums the reports they send."""

    def __init__(self, folder: Path) -> None:
        self.log = log_path(folder)
        self.seen = 0
        self.per_test: dict[str, int] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Iterator[None]:
        yield
        total = runs_logged(self.log)
        if total > self.seen:
            # The phase's report shares this list, so teardown's report carries the whole test's count.
            item.user_properties.append((USER_PROPERTY, total - self.seen))
        self.seen = total

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        runs = sum(int(str(value)) for key, value in report.user_properties if key == USER_PROPERTY)
        if runs:
            self.per_test[report.nodeid] = runs

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.section("engine runs (pulumi up + destroy)")
        for nodeid, runs in sorted(self.per_test.items(), key=lambda kv: (-kv[1], kv[0])):
            terminalreporter.write_line(f"{runs:4d} {nodeid}")
        terminalreporter.write_line(f"{sum(self.per_test.values()):4d} in all, {len(self.per_test)} tests")
