"""What each test costs: the CPU it spends against the wall time it takes (`pytest --test-costs`).

On a machine other runs share, wall time is noise; CPU seconds are not, and a test whose wall time is far
above its CPU is waiting (a sleep, a polling interval, a timeout, a process starting). With the option, each
test phase (setup, call, teardown) is measured in the process that runs it: its own CPU (every thread's,
user + sys), that of the child processes reaped meanwhile, and the wall time. Fixtures are charged to the
test whose phase ran them: a module-scoped fixture to the module's first test (set-up) and last (teardown), a
session's to the worker's first test that asks for it and its last test. A server a fixture starts (the
local AWS, PostgreSQL, Redis) is a child reaped when it stops, so all its CPU shows as "children" in the
teardown that stopped it: for the session's servers, the teardown of the worker's last test.

The end of the run lists the 20 tests that cost the most CPU, the 20 that waited longest (wall - CPU), and
each worker's start-up (interpreter, imports and collection, before its first test) and total, and each
worker's timeline: when its first test began and its last ended, the time it spent in tests, and how long it
idled at the end while the other still ran (each test's row records when it began and on which worker). Under
pytest-xdist each worker measures its own tests and the controller gathers what they send: the phases'
figures ride on the reports (``user_properties``), the workers' on ``workeroutput``. ``--test-costs=FILE``
also writes every test's figures to FILE as JSON.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

USER_PROPERTY = "test_costs"
WORKER_OUTPUT = "test_costs_worker"
SHOWN = 20


def cpu_seconds() -> tuple[float, float]:
    """(this process's CPU, its reaped children's CPU), user + sys, in seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def process_age() -> float:
    """Seconds since this process started (Linux: /proc), or 0 where that cannot be read."""
    try:
        started_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Cost:
    wall: float = 0.0
    cpu: float = 0.0
    children: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    # When its set-up began (seconds since the epoch) and on which xdist worker ("main" without xdist): the
    # workers' timelines, where one idles while the other still runs.
    started: float = 0.0
    worker: str = "main"

    @property
    def spent(self) -> float:
        return self.cpu + self.children

    @property
    def waited(self) -> float:
        return self.wall - self.spent


class TestCostMeter:
    """The pytest plugin behind `--test-costs` (registered by tests/conftest.py)."""

    __test__ = False

    def __init__(self, output: Path | None) -> None:
        self.output = output
        self.per_test: dict[str, Cost] = {}
        self.workers: dict[str, dict[str, float]] = {}
        self._phase: dict[str, object] | None = None
        self._ready: dict[str, float] = {}

    # In the process that runs the tests (a worker, or the only one).

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self) -> Iterator[None]:
        yield from self._measured("setup")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self) -> Iterator[None]:
        yield from self._measured("call")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self) -> Iterator[None]:
        yield from self._measured("teardown")

    def _measured(self, phase: str) -> Iterator[None]:
        started, wall, cpu, children = time.time(), time.perf_counter(), *cpu_seconds()
        yield
        ended_cpu, ended_children = cpu_seconds()
        self._phase = {
            "phase": phase,
            "wall": time.perf_counter() - wall,
            "cpu": ended_cpu - cpu,
            "children": ended_children - children,
            "started": started,
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        }

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Iterator[None]:
        # Once per phase, after it ran: the reports of subtests, made while the call runs, carry nothing.
        # The phases' reports share this list, so teardown's report carries all three.
        if self._phase is not None:
            item.user_properties.append((USER_PROPERTY, self._phase))
            self._phase = None
        yield

    def pytest_collection_finish(self) -> None:
        cpu, children = cpu_seconds()
        self._ready = {"startup_wall": process_age(), "startup_cpu": cpu + children}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Last: the session's fixtures are torn down by then, so the servers they started are reaped.
        workeroutput = getattr(session.config, "workeroutput", None)
        cpu, children = cpu_seconds()
        figures = {**self._ready, "total_wall": process_age(), "total_cpu": cpu + children}
        if workeroutput is not None:
            workeroutput[WORKER_OUTPUT] = json.dumps(figures)
        else:
            # Under xdist this is the controller, whose reaped children are the workers: the whole run.
            self.workers["all" if self.workers else "main"] = figures

    # In the process that reports (the controller, or the only one).

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        cost = Cost()
        for key, value in report.user_properties:
            if key != USER_PROPERTY or not isinstance(value, dict):
                continue
            cost.wall += value["wall"]
            cost.cpu += value["cpu"]
            cost.children += value["children"]
            cost.phases[value["phase"]] = value["cpu"] + value["children"]
            if value["phase"] == "setup":
                cost.started = value.get("started", 0.0)
                cost.worker = value.get("worker", "main")
        self.per_test[report.nodeid] = cost

    def pytest_testnodedown(self, node: Any) -> None:
        figures = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if figures:
            self.workers[str(node.workeroutput.get("workerid", node.gateway.id))] = json.loads(figures)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        costs = self.per_test
        write = terminalreporter.write_line
        terminalreporter.section("test costs: CPU (own + children) and wall, seconds")
        write(
            f"{len(costs)} tests: {sum(c.spent for c in costs.values()):.1f} CPU-s in tests, "
            f"{sum(c.wall for c in costs.values()):.1f} wall-s"
        )
        write(f"top {SHOWN} by CPU: total (own, reaped children; setup/call/teardown), wall:")
        for nodeid, cost in sorted(costs.items(), key=lambda kv: -kv[1].spent)[:SHOWN]:
            phases = "/".join(f"{cost.phases.get(p, 0.0):.2f}" for p in ("setup", "call", "teardown"))
            write(
                f"  {cost.spent:7.2f} cpu ({cost.cpu:.2f}, {cost.children:.2f}; {phases}) "
                f"{cost.wall:7.2f} wall {nodeid}"
            )
        write(f"top {SHOWN} by waiting (wall - CPU):")
        for nodeid, cost in sorted(costs.items(), key=lambda kv: -kv[1].waited)[:SHOWN]:
            write(f"  {cost.waited:7.2f} waited {cost.wall:7.2f} wall {cost.spent:7.2f} cpu {nodeid}")
        for worker, figures in sorted(self.workers.items()):
            total = f"{figures['total_cpu']:.1f} CPU-s {figures['total_wall']:.1f} wall-s"
            if worker == "all":
                write(f"the whole run (controller and workers): {total}")
                continue
            write(
                f"worker {worker}: start-up (imports and collection) "
                f"{figures.get('startup_cpu', 0.0):.1f} CPU-s "
                f"{figures.get('startup_wall', 0.0):.1f} wall-s; in all {total}"
            )
        self._write_timelines(write)
        if self.output is not None:
            rows = {nodeid: {**asdict(cost), "spent": cost.spent} for nodeid, cost in costs.items()}
            self.output.write_text(json.dumps({"tests": rows, "workers": self.workers}, indent=1))
            write(f"every test's figures: {self.output}")

    def _write_timelines(self, write: Any) -> None:
        """Per worker, when its first test began and its last ended (seconds from the run's first test) and
        how much of that it spent in tests: what is left is time between tests (fixtures charged to no
        test, the scheduler), and the gap to the last worker's end is its idle tail."""
        timed = [cost for cost in self.per_test.values() if cost.started]
        if not timed:
            return
        origin = min(cost.started for cost in timed)
        spans: dict[str, tuple[float, float, float]] = {}
        for cost in timed:
            first, last, busy = spans.get(cost.worker, (cost.started, cost.started, 0.0))
            spans[cost.worker] = (
                min(first, cost.started),
                max(last, cost.started + cost.wall),
                busy + cost.wall,
            )
        end = max(last for _, last, _ in spans.values())
        for worker, (first, last, busy) in sorted(spans.items()):
            write(
                f"worker {worker}: tests from {first - origin:.1f} to {last - origin:.1f} s, {busy:.1f} s in "
                f"tests, idle at the end {end - last:.1f} s"
            )
