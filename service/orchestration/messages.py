"""Plain, JSON-serialisable messages between the service and the per-operation runner process."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

# The Pulumi project name (Pulumi.yaml); stack config keys live under this namespace. Here rather than in
# service.config so the engine child, which needs it, does not import the settings (pydantic-settings): each
# operation's process start-up pays for every import.
PULUMI_PROJECT = "forensics"


class OperationKind(StrEnum):
    PREVIEW = "preview"
    UP = "up"
    REFRESH = "refresh"  # drift check: refresh in preview mode, never writes state
    DESTROY = "destroy"  # destroy, then remove the stack


@dataclass(frozen=True)
class ConfigValue:
    value: Any
    secret: bool = False


@dataclass(frozen=True)
class OperationRequest:
    """What one runner process does: one operation on one stack."""

    kind: OperationKind
    stack_name: str
    # Program config without namespace ("investigationId"), set under the project's namespace.
    config: dict[str, ConfigValue] = field(default_factory=dict)
    # Extra provider/aws config ("aws:region" ...); filled by the orchestration from Settings in local mode.
    provider_config: dict[str, ConfigValue] = field(default_factory=dict)
    policy_packs: list[str] = field(default_factory=list)
    remove_stack_after_destroy: bool = True
    # What the service tells the policy pack about this stack (FORENSICS_POLICY_* variables of the engine
    # child's environment): decided from the database, never by the program.
    policy_env: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OperationRequest:
        return cls(
            kind=OperationKind(data["kind"]),
            stack_name=data["stack_name"],
            config={k: ConfigValue(**v) for k, v in data.get("config", {}).items()},
            provider_config={k: ConfigValue(**v) for k, v in data.get("provider_config", {}).items()},
            policy_packs=list(data.get("policy_packs", [])),
            remove_stack_after_destroy=bool(data.get("remove_stack_after_destroy", True)),
            policy_env={str(k): str(v) for k, v in data.get("policy_env", {}).items()},
        )


@dataclass(frozen=True)
class EngineWorkspace:
    """Where the runner process finds the pinned CLI, the Pulumi home and the state backend.

    The service sends it with the request, so the runner never builds settings of its own (and never reads
    the service's environment or ``.env`` file, where its secrets are).
    """

    pulumi_home: str
    backend_url: str
    pulumi_cli_dir: str  # the folder holding the pinned `pulumi` binary

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineWorkspace:
        return cls(
            pulumi_home=str(data["pulumi_home"]),
            backend_url=str(data["backend_url"]),
            pulumi_cli_dir=str(data["pulumi_cli_dir"]),
        )


@dataclass(frozen=True)
class PolicyViolation:
    policy_pack: str
    policy_name: str
    message: str
    urn: str | None = None
    enforcement_level: str = "mandatory"


@dataclass
class OperationResult:
    kind: OperationKind
    stack_name: str
    succeeded: bool
    # Engine step counts, e.g. {"create": 12, "same": 3}
    changes: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    policy_violations: list[PolicyViolation] = field(default_factory=list)
    # For refresh: resources whose AWS-side state differs from the stack state.
    drift: list[dict[str, Any]] = field(default_factory=list)
    error_code: str | None = None  # an EngineErrorCode
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OperationResult:
        return cls(
            kind=OperationKind(data["kind"]),
            stack_name=data["stack_name"],
            succeeded=bool(data["succeeded"]),
            changes=dict(data.get("changes", {})),
            outputs=dict(data.get("outputs", {})),
            policy_violations=[PolicyViolation(**v) for v in data.get("policy_violations", [])],
            drift=list(data.get("drift", [])),
            error_code=data.get("error_code"),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class Progress:
    """Resources done out of those the engine has announced so far (planned grows as steps appear)."""

    done: int
    planned: int


class EngineErrorCode(StrEnum):
    """Why an engine operation failed; stored as ``operations.error_code`` and acted on by the job layer."""

    CONCURRENT_UPDATE = "concurrent_update"
    POLICY_VIOLATION = "policy_violation"
    STACK_NOT_FOUND = "stack_not_found"
    PROTECTED_RESOURCE = "protected_resource"
    PROGRAM_ERROR = "program_error"
    ENGINE_ERROR = "engine_error"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"
    # Our own code failed around the engine (after-success work, bookkeeping).
    INTERNAL_ERROR = "internal_error"
