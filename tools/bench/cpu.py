"""CPU seconds from the OS (Linux ``/proc``), not estimated: totals per process tree and a breakdown by kind.

A process's own time is ``utime + stime``; once its children are reaped (waited for), theirs is added to its
``cutime + cstime``, recursively. So the delta of ``self + children`` of the service process over a clean
room's life counts the API, the engine child, the CLI and every plugin it started (all reaped by the time the
operation settles), and the local AWS (a separate long-lived process) is added as its own delta.

The breakdown samples the live process tree (``Sampler``): each process's time is known while it lives, so
what a process spends after the last sample is missing from its kind and shows as "unattributed".

With it the sampler counts, per process kind, how many times the kernel put one of the process's threads on a
CPU (``Switches.slices``: each follows a wake-up or a preemption) and how long its threads waited runnable for
one (``Switches.waited``), from ``/proc/<pid>/task/<tid>/schedstat``: CPU per slice is what a wake-up and the
work after it cost, which is where four clean rooms at once lose CPU against one (README, "Performance").
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICK = float(os.sysconf("SC_CLK_TCK"))
PROC = Path("/proc")

# Process kinds of a deployment, by what their command line runs.
STANDIN = "stand-in provider"
KINDS = ("engine (pulumi CLI)", "program + Automation API", "policy analyzer", STANDIN)
SERVICE = "service"
CONSUMER = "job consumer (jobs, event ingestion)"
LOCAL_AWS = "local AWS (moto)"


@dataclass(frozen=True)
class Times:
    own: float  # utime + stime
    children: float  # cutime + cstime: the reaped descendants

    @property
    def total(self) -> float:
        return self.own + self.children


def _stat(pid: int) -> tuple[int, Times] | None:
    """(parent pid, times) of a live process, or None if it is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(v) / TICK for v in fields[11:15])
    return int(fields[1]), Times(utime + stime, cutime + cstime)


@dataclass(frozen=True)
class Switches:
    slices: int  # times the kernel put one of its threads on a CPU
    waited: float  # seconds its threads spent runnable, waiting for a CPU


def switches(pid: int) -> Switches | None:
    """Summed over the live threads of ``pid`` (``/proc/<pid>/task/<tid>/schedstat``: on-CPU ns, run-queue
    ns, slices); None if the process is gone."""
    slices, waited_ns = 0, 0
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            _on_cpu, waited, count = (task / "schedstat").read_text().split()[:3]
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile
        slices += int(count)
        waited_ns += int(waited)
    return Switches(slices, waited_ns / 1e9)


def times(pid: int) -> Times:
    found = _stat(pid)
    if found is None:
        raise ProcessLookupError(pid)
    return found[1]


def _cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def tree_total(root: int) -> float:
    """CPU seconds of ``root`` and all its descendants so far: each live process's own time plus its reaped
    children's. A long-lived child (the job consumer process) is not reaped while it runs, so ``root``'s
    ``children`` alone would leave its time, and all it reaped, out."""
    found: dict[int, tuple[int, Times]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found[int(entry.name)] = stat
    tree = {root}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _times) in found.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    if root not in found:
        raise ProcessLookupError(root)
    return sum(found[pid][1].total for pid in tree if pid in found)


def descendant_kinds(root: int) -> list[str]:
    """The kinds of the live processes ``root`` started (children and theirs)."""
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)] = found[0]
    tree = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return [kind_of(_cmdline(pid)) for pid in tree - {root}]


def kind_of(cmdline: str) -> str:
    if "consumer_process" in cmdline:
        return CONSUMER
    if "engine_child" in cmdline or "tools.engine_zygote" in cmdline or "tools.bench.bare" in cmdline:
        # The bare deployment's process is what the engine child is to the service: the Automation API and
        # the program (inline), in one interpreter. Forked from its zygote (tools.engine_zygote) the child
        # keeps the zygote's command line; its launcher names the child's module.
        return "program + Automation API"
    # The analyzer as the shim starts it, its launcher, or a child of its zygote (tools.policy_shim.analyzer).
    if "pulumi.policy" in cmdline or "pulumi-analyzer" in cmdline or "policy_shim" in cmdline:
        return "policy analyzer"
    if "aws_standin" in cmdline or "pulumi-resource-aws" in cmdline:
        return STANDIN
    if "moto_server" in cmdline:
        return LOCAL_AWS
    first = cmdline.split(" ", 1)[0]
    if os.path.basename(first).startswith("pulumi"):
        return "engine (pulumi CLI)"
    return SERVICE


class Sampler:
    """Samples the CPU time of every live descendant of ``roots`` (and the roots) every ``interval`` s."""

    def __init__(self, roots: list[int], interval: float = 0.1) -> None:
        self.roots = roots
        self.interval = interval
        self._last: dict[int, float] = {}  # pid -> own seconds at the last sample
        self._base: dict[int, float] = {}
        self._kinds: dict[int, str] = {}
        self._switches: dict[int, Switches] = {}  # pid -> at the last sample (max over samples)
        self._switches_base: dict[int, Switches] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._sample(self._base, self._switches_base)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(self._last, self._switches)

    def _run(self) -> None:
        # Scanning /proc costs CPU: at the lowest priority (of this thread alone) it takes none from what is
        # measured, the API's latency included.
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while not self._stop.wait(self.interval):
            self._sample(self._last, self._switches)

    def _sample(self, into: dict[int, float], switches_into: dict[int, Switches]) -> None:
        parents: dict[int, int] = {}
        own: dict[int, float] = {}
        for entry in PROC.iterdir():
            if not entry.name.isdigit():
                continue
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)], own[int(entry.name)] = found[0], found[1].own
        wanted = set(self.roots)
        changed = True
        while changed:
            changed = False
            for pid, parent in parents.items():
                if parent in wanted and pid not in wanted:
                    wanted.add(pid)
                    changed = True
        for pid in wanted & own.keys():
            # Keyed by pid alone: a launcher script that execs Python keeps its pid and its CPU counter.
            into[pid] = max(into.get(pid, 0.0), own[pid])
            now = switches(pid)
            if now is not None:
                # A thread that ended takes its counts along: keep the highest seen.
                seen = switches_into.get(pid, now)
                switches_into[pid] = Switches(max(seen.slices, now.slices), max(seen.waited, now.waited))
            # An exited process not yet reaped (a zombie) has no command line left: keep what it ran.
            command = _cmdline(pid)
            if command or pid not in self._kinds:
                self._kinds[pid] = kind_of(command)

    def by_kind(self) -> dict[str, float]:
        spent: dict[str, float] = defaultdict(float)
        for pid, seconds in self._last.items():
            spent[self._kinds[pid]] += seconds - self._base.get(pid, 0.0)
        return dict(spent)

    def switches_by_kind(self) -> dict[str, Switches]:
        """Per process kind, the slices and run-queue wait of the sampled window (a process that started
        within it counts from zero; what it did after its last sample is missing, as for CPU)."""
        slices: dict[str, int] = defaultdict(int)
        waited: dict[str, float] = defaultdict(float)
        zero = Switches(0, 0.0)
        for pid, last in self._switches.items():
            base = self._switches_base.get(pid, zero)
            slices[self._kinds[pid]] += last.slices - base.slices
            waited[self._kinds[pid]] += last.waited - base.waited
        return {kind: Switches(slices[kind], waited[kind]) for kind in slices}


def switches_line(
    alone: tuple[dict[str, float], dict[str, Switches]],
    four: tuple[dict[str, float], dict[str, Switches]],
    rooms: int = 4,
) -> str:
    """Per process kind, per clean room: slices (wake-ups and preemptions) and CPU per slice alone and in the
    four, and the seconds spent waiting for a CPU. Few more slices but dearer ones is the cost of resuming
    after other processes ran (caches refilled), not of waiting."""
    parts = []
    for kind in [*KINDS, LOCAL_AWS]:
        (cpu_a, sw_a), (cpu_f, sw_f) = (
            (alone[0].get(kind, 0.0), alone[1].get(kind)),
            (four[0].get(kind, 0.0) / rooms, four[1].get(kind)),
        )
        if sw_a is None or sw_f is None or not sw_a.slices or not sw_f.slices:
            continue
        slices_f = sw_f.slices / rooms
        parts.append(
            f"{kind} {sw_a.slices:.0f} -> {slices_f:.0f} slices,"
            f" {1e6 * cpu_a / sw_a.slices:.0f} -> {1e6 * cpu_f / slices_f:.0f} us CPU each,"
            f" waited for a CPU {sw_a.waited:.1f} -> {sw_f.waited / rooms:.1f} s"
        )
    return "; ".join(parts)


def breakdown_line(by_kind: dict[str, float], total: float) -> str:
    order = [*KINDS, LOCAL_AWS, CONSUMER, SERVICE]
    parts = [f"{kind} {by_kind.get(kind, 0.0):.2f}" for kind in order]
    unattributed = total - sum(by_kind.values())
    parts.append(f"unattributed (after a process's last sample) {unattributed:.2f}")
    return ", ".join(parts)
