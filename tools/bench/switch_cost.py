"""What a hand-off between processes costs in CPU on this machine, alone and with other work on the cores.

A clean room's processes (the CLI, the program, the analyzer, the provider, the local AWS) spend their time
handing requests to one another: a little work, then a wait for the next message. ``python
tools/bench/switch_cost.py pair N K`` is that pattern without Pulumi: two processes pass a byte back and
forth ``N`` times over a socket pair, each reading ``K`` random entries of its own dictionary (a working set,
as an interpreter's heap is) after every message; ``python tools/bench/switch_cost.py loop N K`` does the
same reads in one process without any hand-off. Each prints its CPU seconds (``{"cpu": ...}``, the pair's
both processes). ``line()`` runs each alone and then four at once, and says how much dearer the same work
got: the pair against the loop is what a wake-up adds to the work after it (its data left the core's caches
meanwhile), and four at once against alone is what sharing the cores adds to each.
"""

from __future__ import annotations

import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys

# Each copy runs this file by its path, not ``-m tools.bench.switch_cost``: the package's ``__init__`` (the
# whole benchmark, the service's settings) has no business in a process that measures a hand-off.
_THIS_FILE = os.path.abspath(__file__)
HANDOFFS = 4000
READS = 1000  # per hand-off
ENTRIES = 100_000  # the dictionary each process reads from (~15 MB of objects)


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _working_set(seed: int, reads: int) -> tuple[dict[int, tuple[int, str]], list[int]]:
    data = {i: (i, str(i)) for i in range(ENTRIES)}
    keys = list(data)
    random.Random(seed).shuffle(keys)
    return data, keys[:reads]


def _read(data: dict[int, tuple[int, str]], keys: list[int]) -> int:
    return sum(data[key][0] for key in keys)


def pair(handoffs: int, reads: int) -> float:
    """CPU seconds of two processes passing a byte ``handoffs`` times, reading after each message."""
    mine, theirs = socket.socketpair()
    child = os.fork()  # this process is fresh and single-threaded (``main``)
    end = theirs if child == 0 else mine
    data, keys = _working_set(child, reads)
    started = _cpu_seconds()  # the parent's; the child's is all of its life, reaped below
    if child:
        end.send(b"x")
    for _ in range(handoffs):
        end.recv(1)
        _read(data, keys)
        end.send(b"x")
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    return _cpu_seconds() - started


def loop(handoffs: int, reads: int) -> float:
    """CPU seconds of the same reads in one process, twice (both sides of a pair), without hand-offs."""
    data, keys = _working_set(1, reads)
    started = _cpu_seconds()
    for _ in range(2 * handoffs):
        _read(data, keys)
    return _cpu_seconds() - started


def _run(kind: str, at_once: int) -> float:
    """The median CPU seconds of ``at_once`` copies of ``kind`` run together."""
    procs = [
        subprocess.Popen(
            [sys.executable, _THIS_FILE, kind, str(HANDOFFS), str(READS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(at_once)
    ]
    spent = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"switch_cost {kind} failed")
        spent.append(float(json.loads(out)["cpu"]))
    return statistics.median(spent)


def line() -> str:
    """One line for the benchmark: the pair's and the loop's CPU alone and four at once."""
    pair_alone, pair_four = _run("pair", 1), _run("pair", 4)
    loop_alone, loop_four = _run("loop", 1), _run("loop", 4)
    return (
        f"the cost of a hand-off on this machine: two processes passing a message {HANDOFFS} times"
        f" ({READS} random reads of {ENTRIES:,} entries after each) {pair_alone:.2f} CPU-s alone,"
        f" {pair_four:.2f} each four at once (x{pair_four / pair_alone:.2f}); the same reads without"
        f" hand-offs {loop_alone:.2f} alone, {loop_four:.2f} each four at once"
        f" (x{loop_four / loop_alone:.2f})"
    )


def main(argv: list[str]) -> None:
    kind, handoffs, reads = argv[0], int(argv[1]), int(argv[2])
    spent = pair(handoffs, reads) if kind == "pair" else loop(handoffs, reads)
    print(json.dumps({"cpu": spent}))


if __name__ == "__main__":
    main(sys.argv[1:])
