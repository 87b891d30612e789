"""Fixtures for the forensic program's unit tests (mocked engine, no AWS)."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings


@pytest.fixture(autouse=True)
def _isolated_runtime() -> Iterator[None]:
    """No config or root stack leaks between tests."""
    pulumi.runtime.set_all_config({}, [])
    runtime_settings.ROOT.set(None)
    yield
    pulumi.runtime.set_all_config({}, [])
    runtime_settings.ROOT.set(None)
