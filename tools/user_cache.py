"""Where the build and the suite keep what they made once for later runs of the same user on the same
machine (the Pulumi CLI's build, the suite's disk images and PostgreSQL cluster): beside the Makefile's mypy
cache, ``$XDG_CACHE_HOME/forensic-cleanroom`` (``~/.cache`` by default), outside the checkout. Each entry
is keyed on everything it is made from and moved into place whole, so a reader finds it complete or not at
all, and a fresh machine makes it on first use."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def user_cache(name: str) -> Path:
    """The folder of the cache named ``name`` (not created)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forensic-cleanroom" / name


def kept_entry(entry: Path, last_file: str, make: Callable[[Path], None]) -> Path:
    """``entry``, made first if its ``last_file`` is not there: ``make`` fills a staging folder beside it,
    which is then moved into place whole. Another process may have moved its own there first; made from the
    same key, it is the same, and the staging folder is dropped."""
    if (entry / last_file).is_file():
        return entry
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    try:
        make(staging)
        with contextlib.suppress(OSError):
            staging.rename(entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry
