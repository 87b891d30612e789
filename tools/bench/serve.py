"""``python -m tools.bench.serve``: the service as the benchmark runs it, in its own process (settings from
FORENSICS_* variables), so its CPU time and the API's latency are the service's alone."""

from __future__ import annotations

import uvicorn

from service.config import get_settings
from service.main import create_app


def main() -> None:
    settings = get_settings()
    # As served: the job consumer in its own process (``service.jobs.consumer_process``).
    app = create_app(settings, consumer_process=True)
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="warning")


if __name__ == "__main__":
    main()
