"""Turns Pulumi engine events into small JSON events, progress counts, policy violations and drift."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from pulumi.automation import EngineEvent

from service.orchestration.messages import PolicyViolation, Progress

# Steps that mean the AWS-side state differs from the stack's during a refresh preview.
_DRIFT_OPS = {"update", "delete", "read-discard", "discard"}


def op_name(op: Any) -> str:
    return str(op.value if isinstance(op, Enum) else op)


def counts(summary: Any) -> dict[str, int]:
    return {op_name(k): int(v) for k, v in (summary or {}).items()}


class EventCollector:
    """The ``on_event`` callback: forwards compact events to ``emit``, keeps what the result needs."""

    def __init__(self, emit: Callable[[dict[str, Any]], None], *, plan_first: bool = False) -> None:
        """``plan_first``: the run previews before it updates (an ``up`` that is its own policy gate): until
        the preview's summary, its steps only count towards the total, and only its policy violations are
        forwarded (its warnings would repeat the update's)."""
        self._emit = emit
        self._planning = plan_first
        self._started: set[str] = set()
        self._done: set[str] = set()
        self.violations: list[PolicyViolation] = []
        self.errors: list[str] = []
        self.drift: list[dict[str, Any]] = []
        # The run's step counts (its summary event) and the stack's outputs without secrets (the root
        # resource's outputs event; None if the run showed none): what the SDK otherwise reads with two more
        # CLI runs (`stack history`, `stack output`).
        self.changes: dict[str, int] = {}
        self.stack_outputs: dict[str, Any] | None = None
        self._expected = 0

    def expect(self, steps: int) -> None:
        """The step count a preview announced, so progress has a total before the steps start."""
        self._expected = steps

    @property
    def progress(self) -> Progress:
        return Progress(done=len(self._done), planned=max(len(self._started), self._expected))

    def __call__(self, event: EngineEvent) -> None:
        compact = self._plan(event) if self._planning else self._compact(event)
        if compact is not None:
            progress = self.progress
            compact["progress"] = {"done": progress.done, "planned": progress.planned}
            compact["sequence"] = event.sequence
            self._emit(compact)

    def _plan(self, event: EngineEvent) -> dict[str, Any] | None:
        """An event of the preview that precedes the update in the same run."""
        if event.summary_event is not None:
            self._planning = False
            self.expect(
                sum(n for op, n in counts(event.summary_event.resource_changes).items() if op != "same")
            )
            return None
        if event.resource_pre_event is not None or event.res_outputs_event is not None:
            return None
        compact = self._compact(event)
        return compact if compact is not None and compact["type"] == "policy_violation" else None

    def _compact(self, event: EngineEvent) -> dict[str, Any] | None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.type == "pulumi:pulumi:Stack":
                return None
            self._started.add(meta.urn)
            return {
                "type": "step_started",
                "urn": meta.urn,
                "resource_type": meta.type,
                "op": op_name(meta.op),
            }
        if event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            if meta.type == "pulumi:pulumi:Stack":
                if meta.new is not None:
                    self.stack_outputs = _without_secrets(meta.new.outputs or {})
                return None
            self._done.add(meta.urn)
            op = op_name(meta.op)
            if op in _DRIFT_OPS or (op == "refresh" and meta.diffs):
                self.drift.append(
                    {
                        "urn": meta.urn,
                        "resource_type": meta.type,
                        "op": op,
                        "properties": list(meta.diffs or []),
                    }
                )
            return {"type": "step_done", "urn": meta.urn, "resource_type": meta.type, "op": op}
        if event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            return {
                "type": "step_failed",
                "urn": meta.urn,
                "resource_type": meta.type,
                "op": op_name(meta.op),
            }
        if event.diagnostic_event is not None:
            diag = event.diagnostic_event
            if diag.severity not in ("error", "warning", "info"):
                return None
            message = diag.message.strip()
            if diag.severity == "error":
                self.errors.append(message)
            return {"type": "diagnostic", "severity": diag.severity, "message": message, "urn": diag.urn}
        if event.policy_event is not None:
            pol = event.policy_event
            violation = PolicyViolation(
                policy_pack=pol.policy_pack_name,
                policy_name=pol.policy_name,
                message=pol.message.strip(),
                urn=pol.resource_urn,
                enforcement_level=pol.enforcement_level,
            )
            if violation in self.violations:
                # The update of an `up` that previewed first judges again what its preview judged.
                return None
            if pol.enforcement_level != "remediate":
                self.violations.append(violation)
            return {"type": "policy_violation", **violation.__dict__}
        if event.summary_event is not None:
            self.changes = counts(event.summary_event.resource_changes)
            return {"type": "summary", "changes": self.changes}
        return None


# Engine events show a secret as this mask (they are written without --show-secrets).
SECRET_MASK = "[secret]"
# The signature key of a secret in Pulumi's serialized property values.
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def _without_secrets(outputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in outputs.items()
        if value != SECRET_MASK and not (isinstance(value, dict) and _SECRET_SIGNATURE in value)
    }
