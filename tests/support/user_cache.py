"""Where the suite keeps what it made once for later runs of the same user on the same machine: beside the
Makefile's mypy cache, ``$XDG_CACHE_HOME/forensic-cleanroom`` (``~/.cache`` by default), outside the
checkout. Each entry is keyed on everything it is made from and moved into place whole, so a reader finds it
complete or not at all, and a fresh machine makes it on first use."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache(name: str) -> Path:
    """The folder of the suite's cache named ``name`` (not created)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forensic-cleanroom" / name
