"""Shared machinery for the forensic rules: the `Rule` wrapper and helpers that read resource properties.

The engine hands policies the resource's properties (camelCase, as in the pulumi-aws schema) wrapped in
pulumi_policy's "unknown checking" proxies: reading a value that is not known yet (preview) raises
`UnknownValueError`, which makes the engine skip the whole policy with an advisory note. The rules never
read through the proxies: `plain()` unwraps them into ordinary dicts and lists in which every unknown is
the `UNKNOWN` marker, so each rule decides for itself ("can't judge yet" versus "absence is the violation").
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import Policy

try:  # the sentinels the engine uses for values that are unknown during preview
    from pulumi_policy.proxy import (
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    )

    _SENTINELS = frozenset(
        {
            UNKNOWN_BOOLEAN_VALUE,
            UNKNOWN_NUMBER_VALUE,
            UNKNOWN_STRING_VALUE,
            UNKNOWN_ARRAY_VALUE,
            UNKNOWN_ASSET_VALUE,
            UNKNOWN_ARCHIVE_VALUE,
            UNKNOWN_OBJECT_VALUE,
        }
    )
except ImportError:  # pragma: no cover - older pulumi_policy
    _SENTINELS = frozenset()

ReportFn = Callable[..., None]
CheckFn = Callable[[Any, ReportFn], None]


class _Unknown:
    """A value the engine does not know yet (preview). Falsy, equal only to itself."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def plain(value: Any) -> Any:
    """Unwraps pulumi_policy proxies (and secrets) into dicts/lists; unknown sentinels become UNKNOWN."""
    if isinstance(value, str):
        return UNKNOWN if value in _SENTINELS else value
    if value is None or isinstance(value, (bool, int, float)) or value is UNKNOWN:
        return value
    if isinstance(value, Mapping):
        target = _proxy_target(value)
        if target is not None:
            value = target
        return {str(k): plain(_raw_item(value, k)) for k in list(value.keys())}
    if isinstance(value, Sequence):
        target = _proxy_target(value)
        if target is not None:
            value = target
        return [plain(_raw_item(value, i)) for i in range(len(value))]
    inner = getattr(value, "value", None)  # pulumi_policy.secret.Secret
    if type(value).__name__ == "Secret" and inner is not None:
        return plain(inner)
    return value


def _proxy_target(value: Any) -> Any:
    name = type(value).__name__
    if name in ("_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy"):
        try:
            return value["__target"]
        except Exception:
            return None
    return None


def _raw_item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except Exception as err:  # an UnknownValueError from a proxy we could not unwrap
        sentinel = getattr(err, "unknown_type_sentinel", None)
        if sentinel is not None:
            return UNKNOWN
        raise


def props_of(obj: Any) -> dict[str, Any]:
    """The plain properties of a ResourceValidationArgs or a PolicyResource."""
    props = plain(getattr(obj, "props", None) or {})
    return props if isinstance(props, dict) else {}


def get(value: Any, *path: str | int) -> Any:
    """Walks dicts/lists; returns None when something is missing and UNKNOWN when something is unknown."""
    for key in path:
        if value is None:
            return None
        if is_unknown(value):
            return UNKNOWN
        if isinstance(key, int):
            if not isinstance(value, list) or key >= len(value):
                return None
            value = value[key]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
    return UNKNOWN if is_unknown(value) else value


def as_list(value: Any) -> list[Any]:
    """None -> [], scalar -> [scalar], list -> list, UNKNOWN -> [UNKNOWN]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def as_bool(value: Any) -> bool | None:
    """True/False for known booleans (also "true"/"false" strings); None when absent or unknown."""
    if value is None or is_unknown(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "1", "yes", "enabled"):
            return True
        if low in ("false", "0", "no", "disabled", ""):
            return False
    return bool(value)


def is_set(value: Any) -> bool:
    """A value that is present: known and non-empty, or unknown (it will be something at apply time)."""
    if is_unknown(value):
        return True
    return value not in (None, "", [], {})


def is_any_network(cidr: Any) -> bool:
    """True for 0.0.0.0/0, ::/0 and other /0 spellings."""
    if not isinstance(cidr, str) or is_unknown(cidr):
        return False
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return cidr.strip() in ("0.0.0.0/0", "::/0")


def parse_policy_document(value: Any) -> dict[str, Any] | _Unknown | None:
    """A policy document (JSON string or dict) as a dict; UNKNOWN when unknown; None when absent/invalid."""
    if value is None or value == "":
        return None
    if is_unknown(value):
        return _Unknown()
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return dict(plain(doc)) if isinstance(doc, dict) else None
    if isinstance(value, dict):
        return dict(value)
    return None


def _ci_get(mapping: Mapping[str, Any], name: str) -> Any:
    """Case-insensitive key lookup (JSON policies say "Action", PolicyDocumentArgs say "action")."""
    if name in mapping:
        return mapping[name]
    low = name.lower()
    for key, val in mapping.items():
        if isinstance(key, str) and key.lower() == low:
            return val
    return None


@dataclass
class Statement:
    effect: str
    actions: list[Any]
    not_actions: list[Any]
    resources: list[Any]
    not_resources: list[Any]
    principal: Any
    condition: Any
    raw: dict[str, Any]

    @property
    def is_allow(self) -> bool:
        return self.effect.lower() == "allow"

    @property
    def is_deny(self) -> bool:
        return self.effect.lower() == "deny"


def statements(doc: Any) -> list[Statement]:
    """The statements of a parsed policy document (a single statement object is accepted too)."""
    if not isinstance(doc, dict):
        return []
    raw = _ci_get(doc, "Statement")
    result: list[Statement] = []
    for item in as_list(raw):
        if not isinstance(item, dict):
            continue
        effect = _ci_get(item, "Effect")
        result.append(
            Statement(
                effect=effect if isinstance(effect, str) else "Allow",
                actions=as_list(_ci_get(item, "Action")),
                not_actions=as_list(_ci_get(item, "NotAction")),
                resources=as_list(_ci_get(item, "Resource")),
                not_resources=as_list(_ci_get(item, "NotResource")),
                principal=_ci_get(item, "Principal"),
                condition=_ci_get(item, "Condition"),
                raw=item,
            )
        )
    return result


def tags_of(props: Mapping[str, Any]) -> Any:
    tags = props.get("tags")
    return UNKNOWN if is_unknown(tags) else tags


@dataclass
class Rule:
    """One policy: a plain check function plus the metadata the pack needs.

    `check(args, report)` reports bare messages; `validate(args, report_violation)` is what the engine calls:
    it appends the remediation hint to every message ("... Remediation: ...").
    """

    name: str
    description: str
    remediation: str
    check: CheckFn
    kind: str = "resource"  # or "stack"
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY
    config_schema: PolicyConfigSchema | None = None
    resource_types: tuple[str, ...] = field(default_factory=tuple)

    def validate(self, args: Any, report_violation: ReportFn) -> None:
        def report(message: str, urn: str | None = None) -> None:
            text = message.rstrip()
            if not text.endswith("."):
                text += "."
            text = f"{text} Remediation: {self.remediation}"
            if urn:
                report_violation(text, urn)
            else:
                report_violation(text)

        self.check(args, report)

    def to_policy(self) -> Policy:
        if self.kind == "stack":
            return StackValidationPolicy(
                name=self.name,
                description=self.description,
                validate=self.validate,
                enforcement_level=self.enforcement_level,
                config_schema=self.config_schema,
                remediation_steps=self.remediation,
            )
        return ResourceValidationPolicy(
            name=self.name,
            description=self.description,
            validate=self.validate,
            enforcement_level=self.enforcement_level,
            config_schema=self.config_schema,
            remediation_steps=self.remediation,
        )


def resources_of(args: Any, *types: str) -> list[Any]:
    """Stack resources of the given types (all resources when no type is given)."""
    res = list(getattr(args, "resources", None) or [])
    if not types:
        return res
    wanted = set(types)
    return [r for r in res if getattr(r, "resource_type", None) in wanted]


def deps_of(resource: Any, prop: str | None = None) -> list[Any]:
    """Resources a stack resource depends on: for `prop` when the engine says so, else all dependencies."""
    if prop is not None:
        pdeps = getattr(resource, "property_dependencies", None) or {}
        found = list(pdeps.get(prop) or [])
        if found:
            return found
    return list(getattr(resource, "dependencies", None) or [])


def urn_of(resource: Any) -> str | None:
    urn = getattr(resource, "urn", None)
    return urn if isinstance(urn, str) and urn else None


def label(resource: Any) -> str:
    name = getattr(resource, "name", None) or urn_of(resource) or "?"
    return f"{getattr(resource, 'resource_type', '?')} '{name}'"


def identifiers(props: Mapping[str, Any], *keys: str) -> set[str]:
    """Known string identifiers of a resource (e.g. its `bucket`, `id`, `arn`)."""
    found: set[str] = set()
    for key in keys:
        val = props.get(key)
        if isinstance(val, str) and val and not is_unknown(val):
            found.add(val)
    return found


def target_key(resource: Any) -> str:
    return urn_of(resource) or str(id(resource))


def resolve_targets(
    dependent: Any,
    ref_prop: str,
    targets: Iterable[Any],
    target_ids: Mapping[str, set[str]],
) -> tuple[list[Any], bool]:
    """Which of `targets` a dependent resource points at through `ref_prop`.

    Match by value first (the dependent's `ref_prop` equals one of the target's known identifiers), then by
    the engine's property dependencies / dependencies. Returns (matched targets, unresolved): unresolved is
    True when nothing matched but the reference could still be one of the targets (the reference or some
    target's identifiers are unknown during preview); callers then count it for every target.
    """
    targets = list(targets)
    ref = get(props_of(dependent), ref_prop)
    if ref is None:
        return [], False
    if isinstance(ref, str):
        matched = [t for t in targets if ref in target_ids.get(target_key(t), set())]
        if matched:
            return matched, False
    dep_urns = {urn_of(d) for d in deps_of(dependent, ref_prop)}
    dep_urns.discard(None)
    matched = [t for t in targets if urn_of(t) in dep_urns]
    if matched:
        return matched, False
    prop_deps = (getattr(dependent, "property_dependencies", None) or {}).get(ref_prop)
    if prop_deps:  # the engine says exactly what the reference depends on, and it is none of the targets
        return [], False
    some_target_unnamed = any(not target_ids.get(target_key(t)) for t in targets)
    return [], is_unknown(ref) or some_target_unnamed
