"""The benchmark's CPU figures (tools/bench/cpu.py) count what the OS says: here, the slices (times a thread
was put on a CPU) of a process that wakes up a known number of times, and the kind each process counts as."""

from __future__ import annotations

import subprocess
import sys
import time

from tools.bench import cpu


def test_the_sampler_counts_every_wake_up_of_a_process_it_watches() -> None:
    wakeups = 40
    script = f"import time\nfor _ in range({wakeups}):\n    time.sleep(0.01)\nimport sys; sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    try:
        # Counted from the sampler's start: the process's sleeps fall inside the window.
        with cpu.Sampler([proc.pid], interval=0.05) as sampler:
            time.sleep(1.0 + wakeups * 0.01)
        by_kind = sampler.switches_by_kind()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
    (counted,) = by_kind.values()
    assert counted.slices >= wakeups
    assert counted.waited >= 0.0


def test_the_switches_line_sets_each_kind_alone_beside_its_share_of_the_four() -> None:
    kind = cpu.STANDIN
    alone = ({kind: 2.0}, {kind: cpu.Switches(10_000, 1.0)})
    four = ({kind: 10.0}, {kind: cpu.Switches(44_000, 20.0)})
    line = cpu.switches_line(alone, four)
    assert line == (f"{kind} 10000 -> 11000 slices, 200 -> 227 us CPU each, waited for a CPU 1.0 -> 5.0 s")


def test_the_stand_in_is_one_kind_however_it_is_hosted() -> None:
    """A provider forked from the zygote keeps the zygote's command line; the launcher the engine starts
    names its script: all of it is the stand-in's CPU, as the stand-in started afresh is."""
    python, launcher = "/repo/.venv/bin/python", "/repo/tools/zygote/launcher.py"
    for command in (
        "bash /repo/tools/bin/pulumi-resource-aws 127.0.0.1:1",
        f"{python} -u -m tools.aws_standin 127.0.0.1:1",
        f"{python} -I -S {launcher} FORENSICS_STANDIN_ZYGOTE tools.aws_standin 127.0.0.1:1",
        f"{python} -m tools.zygote.server tools.aws_standin.zygote /tmp/forensics-zygote-x/standin.sock",
    ):
        assert cpu.kind_of(command) == cpu.STANDIN, command


def test_the_policy_analyzer_is_one_kind_however_it_is_hosted() -> None:
    """An analyzer forked from its zygote keeps the zygote's command line; the launcher the shim starts
    names the module it stands for: all of it is the analyzer's CPU, as the analyzer started afresh is."""
    python, launcher = "/repo/.venv/bin/python", "/repo/tools/zygote/launcher.py"
    for command in (
        "bash /repo/tools/policy_shim/pulumi-analyzer-policy-python 127.0.0.1:1 .",
        f"{python} -u -m pulumi.policy 127.0.0.1:1 .",
        f"{python} -I -S {launcher} FORENSICS_ANALYZER_ZYGOTE pulumi.policy 127.0.0.1:1 .",
        f"{python} -m tools.zygote.server tools.policy_shim.analyzer /tmp/forensics-zygote-x/analyzer.sock",
    ):
        assert cpu.kind_of(command) == "policy analyzer", command


def test_the_engine_child_is_one_kind_however_it_is_hosted() -> None:
    """An engine child forked from its zygote keeps the zygote's command line; the launcher the service
    starts in its place names the child's module: all of it is the program's and Automation API's CPU."""
    python, launcher = "/repo/.venv/bin/python", "/repo/tools/zygote/launcher.py"
    for command in (
        f"{python} -u -m service.orchestration.engine_child",
        f"{python} -I -S {launcher} FORENSICS_ENGINE_ZYGOTE service.orchestration.engine_child",
        f"{python} -m tools.zygote.server tools.engine_zygote /tmp/forensics-zygote-x/engine.sock",
    ):
        assert cpu.kind_of(command) == "program + Automation API", command
