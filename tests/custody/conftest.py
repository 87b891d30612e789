"""Custody tests run the service over HTTP like the service tests: the same fixtures."""

from tests.service.conftest import engine_client

__all__ = ["engine_client"]
