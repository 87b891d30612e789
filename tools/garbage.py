"""The garbage collector of the suite's own long-lived Python processes (pytest's workers, the local AWS),
tuned for how they allocate. The product's processes keep CPython's defaults.

CPython collects its youngest generation every 700 net allocations, every tenth of those collections also
scans the middle one, and a full collection follows every tenth of those once the heap has grown by a
quarter. A test worker holds ~1M objects (the service, boto's models, moto's backends, hypothesis) and
allocates in bursts (an app per test, a 4.7 MB JSON of AWS managed policies per emulated account). With the
youngest generation collected every 20,000 allocations and what lives after set-up frozen, three API
packages run in one process took 32.5, 34.8 and 38.1 CPU-s against 43.6, 39.5 and 38.9 (three alternating
pairs on this machine, whose speed drifts: a gain of uneven size on its own); `make check` on four workers
took 296.5 CPU-s with these changes and the last collections' (``tests/support/final_collections.py``)
against 345.1 before, in runs about an hour apart (README, "Tests"). Nothing is collected less surely, only
in larger batches: cycles live a little longer. The peak memory of one process over the investigations,
console and stand-in tests was 689 MB after, 725 MB before.

``freeze_survivors`` moves what lives once a process is set up (modules, classes, collected tests) out of the
collector's sight, so that full collections scan only what came after it.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

YOUNG_THRESHOLD = 20_000


def tune() -> None:
    """Collect the youngest generation every ``YOUNG_THRESHOLD`` allocations; the older ones as before."""
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)


def freeze_survivors() -> None:
    """Collect once, then freeze what survived: the collector never scans it again. A frozen object is
    still freed when its last reference goes; only a cycle among frozen objects stays (what lives after
    set-up lives to the process's end anyway)."""
    gc.collect()
    gc.freeze()


def collect_until_clean(passes: int) -> int:
    """Full collections until one finds nothing, at most ``passes``; returns how many ran.

    A pass finds nothing when it frees nothing and no finalizer raises in it: then no finalizer ran that
    could have let go of more, and further passes would find nothing either. (A finalizer that raises is
    kept alive by its traceback, so its pass frees nothing: the exception, sent to ``sys.unraisablehook``,
    is what tells.)"""
    raised = 0
    report = sys.unraisablehook

    def counted(unraisable: Any) -> None:
        nonlocal raised
        raised += 1
        report(unraisable)

    sys.unraisablehook = counted
    try:
        for done in range(1, passes + 1):
            raised_before = raised
            if gc.collect() == 0 and raised == raised_before:
                return done
        return passes
    finally:
        sys.unraisablehook = report
