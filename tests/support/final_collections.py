"""The last garbage collections of a pytest process, stopped when one finds nothing (the suite's conftest
also tunes the collector and freezes what lives after collection: tools/garbage.py).

At the end of a run pytest collects garbage five times over (its unraisable-exception check: a finalizer
that raises is reported, and one collection may free what the next finds). On a worker's heap after hundreds
of tests each full collection cost 1-3 CPU-s, all four workers paid it at the same moment, and the run's
last ~10 s went to it. Here collections run first until one finds nothing (the ones after it could find
nothing more), then pytest's own find nothing left to do: every finalizer still runs, and what it raises is
still reported.
"""

from __future__ import annotations

import pytest
from _pytest.unraisableexception import gc_collect_iterations_key

from tools import garbage


def settle_before_pytests_own_collections(config: pytest.Config) -> None:
    """A cleanup added after pytest's unraisable-exception plugin added its own, so run before it (cleanups
    run last in, first out)."""
    passes = config.stash.get(gc_collect_iterations_key, 5)
    garbage.collect_until_clean(passes)
    config.stash[gc_collect_iterations_key] = 0
