"""``python -m service.api_node`` (``make serve-api``, or the ``forensics-api`` command): one API node, from
the installed package, on ``FORENSICS_API_HOST``:``FORENSICS_API_PORT``. It installs and builds nothing.

The same app as ``uvicorn service.main:app``, served so that SIGTERM ends it cleanly: uvicorn stops taking
connections, lets requests in flight finish, then the app's shutdown drains an embedded consumer
(``service.jobs.drain``). Client addresses behind a proxy are the app's to judge
(``FORENSICS_TRUSTED_PROXIES``), so uvicorn's own X-Forwarded-For handling is off.
"""

from __future__ import annotations

import logging

import uvicorn

from service.config import get_settings
from service.main import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    app = create_app(settings)  # refuses unsafe settings for real AWS, naming each problem
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, proxy_headers=False, log_level="info")


if __name__ == "__main__":
    main()
