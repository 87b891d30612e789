"""The engine child keeps the SDK's debug lines to itself (each was a gRPC call and an engine event that the
service then dropped); warnings, errors and info still go to the engine."""

from __future__ import annotations

from typing import Any

import pulumi.log
import pulumi.runtime.settings
import pytest

from service.orchestration import engine_child


class _Engine:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def Log(self, request: Any) -> None:  # the gRPC method's name
        self.messages.append(request.message)


def test_debug_lines_stay_in_the_engine_child(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _Engine()
    monkeypatch.setattr(pulumi.runtime.settings, "get_engine", lambda: engine)
    monkeypatch.setattr(pulumi.log, "debug", pulumi.log.debug)  # put back after the test
    pulumi.log.debug("before")
    engine_child._drop_sdk_debug_log()
    pulumi.log.debug("registering resource")
    pulumi.log.info("an info line")
    pulumi.log.warn("a warning")
    pulumi.log.error("an error")
    assert engine.messages == ["before", "an info line", "a warning", "an error"]
