"""An idle worker thread on Redis waits for a job at most ``jobs_poll_max_delay`` (its blocking read's
timeout), which is also how long stopping the consumer waits for it."""

from __future__ import annotations

import time
from pathlib import Path

from service.jobs.queue import make_huey
from tests.support.settings import make_settings
from tools.local_servers import RedisServer


def test_an_idle_read_on_redis_ends_after_the_configured_wait(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    settings = make_settings(tmp_path, jobs_url=redis_server.url(), jobs_poll_max_delay=0.1)
    storage = make_huey(settings).storage
    assert storage.blocking and storage.read_timeout == 0.1

    started = time.monotonic()
    assert storage.dequeue() is None  # nothing queued: the blocking read times out
    # huey's default read timeout is a whole second; this one is a tenth of that.
    assert time.monotonic() - started < 0.9
