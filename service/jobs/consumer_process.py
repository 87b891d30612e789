"""The embedded job consumer in a process of its own, so the API process does only HTTP.

With ``embedded_consumer`` (the default, ``make run``), the API process starts ``python -m
service.jobs.consumer_process``: the worker of ``service.jobs.worker`` (start-up recovery, the sweep, the
draining consumer; the jobs run there and so does the ingestion of their engine events), on the same
settings, the same database and the same job queue. One command still runs everything; the API never
shares its interpreter (and its GIL) with a deployment's event stream.

Tied to the API process both ways:
- the API stops it with SIGTERM (which drains it: ``service.jobs.drain``) when it shuts down;
- it reads its stdin, a pipe from the API process, and dies as soon as that closes: the API process is gone,
  even killed (SIGKILL leaves it no chance to stop its child). A killed service is a crash of the whole node,
  as when the consumer ran on the API's threads: the engines it ran keep their own process groups, and the
  next start's recovery finds them (``service.jobs.recovery``);
- if it dies, the API process logs it and starts another (its start-up recovery takes over what the dead
  one ran); it is never silently left without a consumer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from service.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)
MODULE = "service.jobs.consumer_process"
# Between a crash and the next start: doubled after each quick crash, up to the longest.
RESTART_DELAY_SECONDS = 1.0
LONGEST_RESTART_DELAY_SECONDS = 30.0
# A consumer that ran this long before it died counts as a fresh crash, not a crash loop.
STABLE_SECONDS = 60.0


class ConsumerProcess:
    """The API process's side: starts the consumer process, restarts it if it dies, stops it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._supervisor = threading.Thread(target=self._supervise, name="consumer-process", daemon=True)
        self._supervisor.start()

    def _spawn(self) -> None:
        # The engine runner imports the Pulumi SDK: only an API process that spawns a consumer loads it.
        from service.orchestration.stacks import lower_priority, settings_env

        env = {**os.environ, **settings_env(self.settings)}
        # The API process has applied the migrations already.
        env["FORENSICS_RUN_MIGRATIONS_ON_STARTUP"] = "false"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", MODULE],
            stdin=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env=env,
            # Its own process group: a Ctrl-C at the terminal reaches the API process, which drains it once.
            # Not its own session: its niceness must count against the API's (``lower_priority``).
            process_group=0,
        )
        # Below the API's priority, so requests are served first while jobs run (and the engines it starts
        # are lower still): it has started only just, before it runs any job.
        lower_priority(self._proc.pid, self.settings.consumer_niceness)
        logger.info("job consumer process %s started", self._proc.pid)

    def _supervise(self) -> None:
        delay = RESTART_DELAY_SECONDS
        while True:
            proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            logger.error("job consumer process %s exited with %s: starting another", proc.pid, code)
            delay = RESTART_DELAY_SECONDS if time.monotonic() - started > STABLE_SECONDS else delay
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, LONGEST_RESTART_DELAY_SECONDS)
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()

    def stop(self) -> None:
        """Drains the consumer (SIGTERM: no new jobs, the shutdown grace for running ones, then their
        hand-over) and waits for it; kills it if it outlives the grace by far."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.settings.shutdown_grace_seconds + 60)
        except subprocess.TimeoutExpired:
            logger.error("job consumer process %s did not stop: killing it", proc.pid)
            proc.kill()
            proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()


def _die_with_the_parent() -> None:
    """Blocks until stdin (the pipe from the API process) closes, then ends this process at once."""
    # os.read, not sys.stdin: a daemon thread blocked in a buffered read holds the buffer's lock, and the
    # interpreter aborts on it when it shuts down after a drain.
    with contextlib.suppress(OSError):
        while os.read(sys.stdin.fileno(), 4096):
            pass
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    threading.Thread(target=_die_with_the_parent, name="parent-watch", daemon=True).start()
    # The worker (the engine, every feature) is loaded in the child process only.
    from service.jobs import worker

    worker.main()


if __name__ == "__main__":
    main()
