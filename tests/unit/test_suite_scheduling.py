"""The suite's own tooling: the order the xdist workers get tests in, and the deployment counter behind
`--engine-runs` (tests/support/scheduling.py, tests/support/engine_runs.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from tests.support import scheduling
from tests.support.engine_runs import runs_logged, wrapper_cli

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _Item:
    nodeid: str
    engine: bool = False

    def get_closest_marker(self, name: str) -> Any:
        return object() if name == "engine" and self.engine else None


def test_known_long_modules_go_first_then_engine_tests_then_the_rest_each_module_in_file_order() -> None:
    longest, second = scheduling.LONGEST_MODULES[:2]
    items = [
        _Item("tests/unit/test_a.py::test_1"),
        _Item("tests/custody/test_other_engine.py::test_1", engine=True),
        _Item(f"{second}::test_1", engine=True),
        _Item("tests/custody/test_other_engine.py::test_2"),  # a non-engine test beside engine ones
        _Item(f"{longest}::test_b", engine=True),
        _Item("tests/unit/test_a.py::test_2"),
        _Item(f"{longest}::test_a", engine=True),
    ]
    ordered = cast(list[pytest.Item], list(items))
    scheduling.longest_first(ordered)
    assert [i.nodeid for i in ordered] == [
        f"{longest}::test_b",
        f"{longest}::test_a",
        f"{second}::test_1",
        "tests/custody/test_other_engine.py::test_1",
        "tests/custody/test_other_engine.py::test_2",
        "tests/unit/test_a.py::test_1",
        "tests/unit/test_a.py::test_2",
    ]


def test_long_modules_without_the_engine_go_first_among_the_tests_without_it() -> None:
    longest, second = scheduling.LONGEST_OTHER_MODULES[:2]
    items = [
        _Item("tests/unit/test_a.py::test_1"),
        _Item(f"{second}::test_1"),
        _Item(f"{longest}::test_b"),
        _Item("tests/unit/test_a.py::test_2"),
        _Item(f"{longest}::test_a"),
    ]
    ordered = cast(list[pytest.Item], list(items))
    scheduling.longest_first(ordered)
    assert [i.nodeid for i in ordered] == [
        f"{longest}::test_b",
        f"{longest}::test_a",
        f"{second}::test_1",
        "tests/unit/test_a.py::test_1",
        "tests/unit/test_a.py::test_2",
    ]


def test_every_listed_long_module_exists() -> None:
    listed = scheduling.LONGEST_MODULES + scheduling.LONGEST_OTHER_MODULES
    missing = [m for m in listed if not (ROOT / m).is_file()]
    assert missing == [], "moved or renamed: update tests/support/scheduling.py"


def test_the_counting_wrapper_logs_up_and_destroy_only_and_passes_everything_through(tmp_path: Path) -> None:
    real = tmp_path / "real-cli"
    real.write_text('#!/bin/sh\necho "ran: $*"\nexit 3\n')
    real.chmod(0o755)
    log = tmp_path / "runs.log"
    wrapper = wrapper_cli(real, tmp_path / "counted", log)
    assert wrapper == tmp_path / "counted" / "bin" / "pulumi"  # where the service looks for the CLI
    runs = [
        ["--non-interactive", "up", "--yes", "--stack", "s"],
        ["destroy", "--yes"],
        ["preview", "--stack", "up"],
        ["--non-interactive", "refresh", "--preview-only"],
        ["version"],
    ]
    for args in runs:
        done = subprocess.run([str(wrapper), *args], capture_output=True, text=True, check=False)
        assert done.returncode == 3 and done.stdout == f"ran: {' '.join(args)}\n"
    assert log.read_text().split() == ["up", "destroy"]
    assert runs_logged(log) == 2
