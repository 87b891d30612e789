"""The suite's tuned garbage collection (tools/garbage.py, tests/support/final_collections.py) frees what
CPython's default would, and a finalizer that raises is still reported.

The collections are watched in a fresh interpreter: in a worker each full collection scans everything the
tests before it left alive (about a second each)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

from service.config import PROJECT_ROOT
from tools import garbage

_WATCH = textwrap.dedent(
    """
    import gc, json, sys
    import pytest
    from _pytest.unraisableexception import gc_collect_iterations_key
    from tests.support.final_collections import settle_before_pytests_own_collections
    from tools import garbage

    class RaisesWhenFreed:
        def __init__(self):
            self.me = self  # a cycle: only the collector frees it
        def __del__(self):
            raise RuntimeError("raised by a finalizer")

    reported = []
    sys.unraisablehook = lambda unraisable: reported.append(str(unraisable.exc_value))
    gc.collect()
    RaisesWhenFreed()
    first = garbage.collect_until_clean(5)
    again = garbage.collect_until_clean(5)

    class Config:
        stash = pytest.Stash()

    RaisesWhenFreed()
    settle_before_pytests_own_collections(Config)
    print(json.dumps({
        "passes": [first, again],
        "reported": reported,
        "pytest_passes_left": Config.stash[gc_collect_iterations_key],
    }))
    """
)


def test_collections_stop_at_the_first_that_finds_nothing_and_finalizers_still_report() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _WATCH],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    seen = json.loads(run.stdout)

    # The cycle freed (its finalizer ran and raised), then one pass that found nothing; then nothing at all.
    assert seen["passes"] == [2, 1]
    # Both finalizers' errors reached the hook pytest reports them from, and pytest's own passes had
    # nothing left to do.
    assert seen["reported"] == ["raised by a finalizer", "raised by a finalizer"]
    assert seen["pytest_passes_left"] == 0


def test_this_process_runs_with_the_tuned_collector_and_what_lived_after_collection_frozen() -> None:
    assert gc.get_threshold()[0] == garbage.YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
