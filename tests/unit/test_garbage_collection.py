"""The suite's tuned garbage collection (tools/garbage.py, tests/support/final_collections.py) frees what
CPython's default would, and a finalizer that raises is still reported."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from _pytest.unraisableexception import gc_collect_iterations_key

from tests.support.final_collections import settle_before_pytests_own_collections
from tools import garbage


class _RaisesWhenFreed:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it

    def __del__(self) -> None:
        raise RuntimeError("raised by a finalizer")


@pytest.fixture
def unraisable() -> Iterator[list[BaseException | None]]:
    seen: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda args: seen.append(args.exc_value)
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


def test_collections_stop_at_the_first_that_finds_nothing_and_finalizers_still_run(
    unraisable: list[BaseException | None],
) -> None:
    gc.collect()
    _RaisesWhenFreed()

    passes = garbage.collect_until_clean(5)

    assert passes == 2  # the cycle freed (its finalizer ran and raised), then one pass that found nothing
    assert [str(exc) for exc in unraisable] == ["raised by a finalizer"]
    assert garbage.collect_until_clean(5) == 1


def test_pytests_own_last_collections_find_nothing_left_to_do(
    unraisable: list[BaseException | None],
) -> None:
    class Config:
        stash = pytest.Stash()

    config: Any = Config()
    _RaisesWhenFreed()

    settle_before_pytests_own_collections(config)

    assert [str(exc) for exc in unraisable] == ["raised by a finalizer"]
    assert config.stash[gc_collect_iterations_key] == 0


def test_this_process_runs_with_the_tuned_collector_and_what_lived_after_collection_frozen() -> None:
    assert gc.get_threshold()[0] == garbage.YOUNG_THRESHOLD
    assert gc.get_freeze_count() > 0
