"""A test clock: fixed time that tests move forward; the app reads it through ``create_app(clock=...)``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class TestClock:
    """Fixed time that tests move forward; everything in the app reads it."""

    __test__ = False

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now = self.now + timedelta(**delta)
            return self.now
