"""What each action means for the engine: the ordered stack operations (and their config) it runs."""

from __future__ import annotations

from dataclasses import dataclass

from service.investigations import stack_config
from service.investigations.models import Investigation
from service.operations.states import Action
from service.orchestration.models import OperationKind, OperationRequest


@dataclass(frozen=True)
class Step:
    label: str
    request: OperationRequest


def steps(
    inv: Investigation, action: Action, params: dict[str, object], service_principals: list[str] | None = None
) -> list[Step]:
    """``service_principals``: the service's own AWS identity (freeze works inside the evidence bucket)."""

    def make(kind: OperationKind, label: str, **overrides: object) -> Step:
        raw = stack_config.raw_config(inv, **overrides)
        if service_principals:
            raw["servicePrincipals"] = list(service_principals)
        return Step(
            label=label,
            request=OperationRequest(
                kind=kind,
                stack_name=inv.stack_name,
                config=stack_config.to_stack_config(raw),
                provider_config=stack_config.provider_config(inv),
            ),
        )

    if action == Action.OPEN:
        return [make(OperationKind.UP, "up")]
    if action == Action.PREVIEW:
        return [make(OperationKind.PREVIEW, "preview")]
    if action == Action.REFRESH:
        return [make(OperationKind.REFRESH, "refresh")]
    if action == Action.FREEZE:
        # Declared in the program: stop, snapshot, deny, empty SG, protect. Stack state stays the truth.
        return [make(OperationKind.UP, "up (frozen)", frozen=True)]
    if action == Action.RELEASE:
        # Protection is lifted while still frozen, then the thaw removes the freeze-only resources.
        return [
            make(OperationKind.UP, "up (unprotected)", frozen=True, unprotect=True),
            make(OperationKind.UP, "up (released)", frozen=False),
        ]
    if action == Action.DESTROY:
        retain = bool(params.get("retain_evidence_bucket", True))
        if retain:
            return [make(OperationKind.DESTROY, "destroy")]
        # retain_on_delete is resource state: it must be applied by an up before the destroy honours it.
        return [
            make(
                OperationKind.UP,
                "up (evidence bucket not retained)",
                retainEvidenceBucket=False,
                frozen=False,
            ),
            make(OperationKind.DESTROY, "destroy", retainEvidenceBucket=False, frozen=False),
        ]
    raise ValueError(f"unknown action {action}")
