"""An in-process moto server per session, a driver that calls the stand-in provider's methods directly and
clients to check what it did (tests/support/standin.py)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.support.standin import Clients, Driver, provider_config
from tools.aws_standin.provider import StandinProvider
from tools.local_aws import managed_policies


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # read when the IAM backend is first built
    from moto.server import ThreadedMotoServer

    managed_policies.install()  # as the local AWS does: parsed once, not per account

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def driver(moto_url: str) -> Driver:
    d = Driver(StandinProvider())
    d.configure(provider_config(moto_url))
    return d


@pytest.fixture
def aws(moto_url: str) -> Clients:
    """boto3 clients against the same moto, to check what the provider did."""
    return Clients(moto_url)
