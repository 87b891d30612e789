"""The fake engine: stands in for ``service.orchestration.engine.OperationExecutor`` in API-level tests only,
shipped beside the interface it fakes so that the two change together (as httpx ships its mock transport).
Nothing in the service selects it; whatever claims to deploy uses the real engine (``PulumiExecutor``)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from service.config import Settings
from service.orchestration.messages import OperationKind, OperationRequest, OperationResult, PolicyViolation

Behaviour = Callable[[OperationRequest, threading.Event], OperationResult | None]


@dataclass
class Call:
    kind: OperationKind
    stack: str
    config: dict[str, Any]
    started: float
    ended: float = 0.0


@dataclass
class FakeExecutor:
    """Succeeds by default with outputs; ``script`` lets a test decide per call (return None = default)."""

    script: list[Behaviour] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    delay: float = 0.05
    exports: int = 0
    cleared: list[str] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)
    bucket: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        call = Call(
            request.kind,
            request.stack_name,
            {k: v.value for k, v in request.config.items()},
            time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
            behaviour = self.script.pop(0) if self.script else None
        on_started(4_000_000)  # beyond pid_max: never a real process
        urn = f"urn:pulumi:{request.stack_name}::forensics::aws:ec2/vpc:Vpc::vpc"
        on_event(
            {
                "type": "step_started",
                "urn": urn,
                "resource_type": "aws:ec2/vpc:Vpc",
                "op": "create",
                "progress": {"done": 0, "planned": 1},
                "sequence": 1,
            }
        )
        result = behaviour(request, cancel) if behaviour else None
        if result is None:
            time.sleep(self.delay)
            on_event(
                {
                    "type": "step_done",
                    "urn": urn,
                    "resource_type": "aws:ec2/vpc:Vpc",
                    "op": "create",
                    "progress": {"done": 1, "planned": 1},
                    "sequence": 2,
                }
            )
            outputs = {
                "vpcId": "vpc-123",
                "instanceId": "i-123",
                "evidenceBucket": self.bucket or f"evidence-{request.stack_name}",
            }
            result = OperationResult(
                kind=request.kind,
                stack_name=request.stack_name,
                succeeded=True,
                changes={"create": 1},
                outputs=outputs if request.kind == "up" else {},
            )
        call.ended = time.monotonic()
        return result

    def export_stack(self, settings: Settings, stack_name: str) -> dict[str, Any]:
        self.exports += 1
        # Shaped like a real export: the stack and provider entries are not resources of the clean room.
        prefix = f"urn:pulumi:{stack_name}::forensics::"
        return {
            "version": 3,
            "deployment": {
                "resources": [
                    {
                        "urn": f"{prefix}pulumi:pulumi:Stack::forensics-{stack_name}",
                        "type": "pulumi:pulumi:Stack",
                    },
                    {
                        "urn": f"{prefix}pulumi:providers:aws::default",
                        "type": "pulumi:providers:aws",
                        "id": "p1",
                    },
                    {
                        "urn": f"{prefix}aws:ec2/vpc:Vpc::vpc",
                        "type": "aws:ec2/vpc:Vpc",
                        "id": "vpc-123",
                        "protect": True,
                    },
                    {
                        "urn": f"{prefix}aws:s3/bucket:Bucket::evidence",
                        "type": "aws:s3/bucket:Bucket",
                        "id": "ev-1",
                    },
                ]
            },
        }

    def clear_stack_lock(self, settings: Settings, stack_name: str) -> None:
        self.cleared.append(stack_name)

    def stop_process_groups(self, pids: Sequence[int]) -> None:
        self.stopped.extend(pids)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def fail_with(
    code: str, message: str = "failed", violations: list[PolicyViolation] | None = None
) -> Behaviour:
    def behaviour(request: OperationRequest, cancel: threading.Event) -> OperationResult:
        return OperationResult(
            kind=request.kind,
            stack_name=request.stack_name,
            succeeded=False,
            error_code=code,
            error=message,
            policy_violations=violations or [],
        )

    return behaviour


def block_until(release: threading.Event) -> Behaviour:
    """Runs until the test releases it, or until cancelled (like the real engine, reporting `cancelled`)."""

    def behaviour(request: OperationRequest, cancel: threading.Event) -> OperationResult | None:
        while not release.is_set():
            if cancel.wait(0.05):
                return OperationResult(
                    kind=request.kind,
                    stack_name=request.stack_name,
                    succeeded=False,
                    error_code="cancelled",
                    error="cancelled",
                )
        return None

    return behaviour


class ScriptedExecutor(FakeExecutor):
    """FakeExecutor whose behaviour can also be chosen per (stack, kind): per-investigation failures."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_stack: dict[tuple[str, str], list[Behaviour]] = {}

    def when(self, stack: str, kind: OperationKind, *behaviours: Behaviour) -> None:
        with self._lock:
            self.by_stack.setdefault((stack, kind.value), []).extend(behaviours)

    def run_operation(
        self, settings: Settings, request: OperationRequest, on_event: Any, **kwargs: Any
    ) -> OperationResult:
        with self._lock:
            queue = self.by_stack.get((request.stack_name, request.kind.value)) or []
            behaviour = queue.pop(0) if queue else None
        if behaviour is not None:
            kwargs["on_started"](4_000_000)
            result = behaviour(request, kwargs["cancel"])
            if result is not None:
                return result
        return super().run_operation(settings, request, on_event, **kwargs)
