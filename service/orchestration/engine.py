"""The engine interface: what the job layer asks of the engine (``OperationExecutor``) and the real engine
behind it (``PulumiExecutor``). API-level tests may pass the fake beside it (``fake_engine.FakeExecutor``);
anything that claims to deploy uses ``PulumiExecutor``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from service.config import Settings
from service.orchestration.messages import OperationRequest, OperationResult


class OperationExecutor(Protocol):
    def run_operation(
        self,
        settings: Settings,
        request: OperationRequest,
        on_event: Callable[[dict[str, Any]], None],
        *,
        cancel: threading.Event,
        on_started: Callable[[int], None],
        timeout: float | None,
    ) -> OperationResult: ...

    def export_stack(self, settings: Settings, stack_name: str) -> dict[str, Any]: ...

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None: ...

    def stop_process_groups(self, pids: Sequence[int]) -> None:
        """Stop these engines' process groups together: SIGINT to each, one shared grace, SIGKILL to what
        is left (``stacks.stop_process_groups``)."""
        ...


class PulumiExecutor:
    """Delegates to ``service.orchestration.stacks`` (imported lazily: it loads the Pulumi SDK)."""

    def run_operation(
        self,
        settings: Settings,
        request: OperationRequest,
        on_event: Callable[[dict[str, Any]], None],
        *,
        cancel: threading.Event,
        on_started: Callable[[int], None],
        timeout: float | None,
    ) -> OperationResult:
        # pulumi.automation (under stacks) is slow to import; a process loads it when it runs an operation.
        from service.orchestration import stacks

        return stacks.run_operation(
            settings, request, on_event, cancel=cancel, on_started=on_started, timeout=timeout
        )

    def export_stack(self, settings: Settings, stack_name: str) -> dict[str, Any]:
        # pulumi.automation (under stacks) is slow to import; a process loads it when it runs an operation.
        from service.orchestration import stacks

        return stacks.export_stack(settings, stack_name)

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
        # pulumi.automation (under stacks) is slow to import; a process loads it when it runs an operation.
        from service.orchestration import stacks

        stacks.clear_stack_lock(settings, stack_name)

    def stop_process_groups(self, pids: Sequence[int]) -> None:
        # pulumi.automation (under stacks) is slow to import; a process loads it when it runs an operation.
        from service.orchestration import stacks

        stacks.stop_process_groups(pids)
