"""A separate consumer deployment (``embedded_consumer=false`` in the API):

python -m service.jobs.worker            # runs recovery, then the consumer (recommended)
huey_consumer service.jobs.worker.huey -w 4 -k thread   # plain Huey consumer (no start-up recovery, and
                                                        # no drain: SIGTERM leaves its engines running)

SIGTERM drains the worker (``service.jobs.drain``): it takes no more jobs, gives running operations
``shutdown_grace_seconds``, then stops their engines and hands them over to another worker.

Importing this module does no work: the job queue is built (and the database migrated) by ``main`` or at the
first read of ``huey``, the attribute Huey's own consumer loads.
"""

from __future__ import annotations

import functools
import logging
import threading

from huey import Huey

from service import features  # noqa: F401  (registers every feature's actions: the table is complete here)
from service.config import get_settings, production_problems
from service.db.migrate import upgrade
from service.db.session import make_engine, make_session_factory
from service.errors import Misconfigured
from service.jobs import integration_tasks, recovery
from service.jobs.job_context import JobContext
from service.jobs.tasks import Jobs, install_schedule

logger = logging.getLogger(__name__)


def build_jobs() -> Jobs:
    settings = get_settings()
    problems = production_problems(settings)
    if problems:
        raise Misconfigured("refusing to start against real AWS:\n- " + "\n- ".join(problems))
    engine = make_engine(settings)
    if settings.run_migrations_on_startup:
        upgrade(engine)
    jobs = Jobs(JobContext(settings=settings, session_factory=make_session_factory(engine)))
    # The same notifications, delivery and schedules as in the API process.
    integration_tasks.build(jobs)
    # The features' scheduled work, whichever process runs the schedules.
    install_schedule(jobs)
    return jobs


@functools.cache
def process_jobs() -> Jobs:
    """This process's job queue, built once."""
    return build_jobs()


def __getattr__(name: str) -> Huey:
    """``huey``: the queue ``huey_consumer service.jobs.worker.huey`` loads, built when it is read."""
    if name == "huey":
        return process_jobs().huey
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sweep_forever(jobs: Jobs, stop: threading.Event) -> None:
    """Recovery every ``recovery_sweep_seconds`` on a thread of its own, besides Huey's periodic sweep task:
    that task waits for a free consumer thread, and while every thread runs a long operation a dead worker's
    operation would wait as long. Two nodes sweeping at once recover each orphan once
    (``recovery._recover``)."""
    while not stop.wait(jobs.ctx.settings.recovery_sweep_seconds):
        try:
            recovery.recover(jobs.ctx, jobs.dispatch, at_startup=False)
        except Exception:  # a database hiccup must not end the sweeps
            logger.exception("recovery sweep")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    jobs = process_jobs()
    cli = jobs.ctx.settings.pulumi_cli_dir / "pulumi"
    if not cli.is_file():
        # A worker installs nothing (`make serve-worker`): every operation it took would fail on this.
        raise SystemExit(
            f"no Pulumi CLI at {cli}: set FORENSICS_PULUMI_CLI_DIR to the folder holding it "
            "(`make cli` builds the pinned one into .tools/bin)"
        )
    jobs.recover()
    threading.Thread(target=sweep_forever, args=(jobs, threading.Event()), name="sweep", daemon=True).start()
    # SIGTERM drains: no new jobs, running ones get the shutdown grace, the rest are handed over.
    jobs.create_consumer().run()


if __name__ == "__main__":
    main()
