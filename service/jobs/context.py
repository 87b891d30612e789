"""What background code needs, passed explicitly (no globals): settings, sessions, the engine seam, time."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from service.clock import Clock, utcnow
from service.config import Settings
from service.db.session import SessionFactory
from service.jobs.executor import OperationExecutor, PulumiExecutor

# Schedules processing of an investigation's queue after ``delay`` seconds (0: now).
Requeue = Callable[[str, float], None]


@dataclass
class JobContext:
    settings: Settings
    session_factory: SessionFactory
    executor: OperationExecutor = field(default_factory=PulumiExecutor)
    clock: Clock = utcnow
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
