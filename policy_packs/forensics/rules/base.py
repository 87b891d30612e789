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
import re
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

from .action_catalogue import has_wildcard, matches_all_of, services_matching

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


# ------------------------------------------------------------------------------- internet coverage
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Address space that is not the internet: RFC 6890 special-purpose ranges that are not globally reachable
# (private, shared CGNAT, loopback, link-local, documentation, benchmarking, multicast, reserved). A set of
# CIDRs that covers everything else covers the internet, however it is split (0.0.0.0/1 + 128.0.0.0/1, a
# list of /8s that skips 10/8, ...).
_NOT_INTERNET_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
# IPv6: the internet is global unicast 2000::/3, less the documentation prefixes.
_INTERNET_V6 = ("2000::/3",)
_NOT_INTERNET_V6 = ("2001:db8::/32", "3fff::/20")


def _subtract(blocks: list[IpNetwork], hole: IpNetwork) -> list[IpNetwork]:
    remaining: list[IpNetwork] = []
    for block in blocks:
        if block.version != hole.version or not block.overlaps(hole):
            remaining.append(block)
        elif block.subnet_of(hole):  # type: ignore[arg-type]
            continue
        else:  # the hole lies inside the block
            remaining.extend(block.address_exclude(hole))  # type: ignore[arg-type]
    return remaining


def _space(include: Iterable[str], exclude: Iterable[str]) -> tuple[IpNetwork, ...]:
    blocks: list[IpNetwork] = [ipaddress.ip_network(c) for c in include]
    for hole in exclude:
        blocks = _subtract(blocks, ipaddress.ip_network(hole))
    return tuple(blocks)


INTERNET_V4 = _space(("0.0.0.0/0",), _NOT_INTERNET_V4)
INTERNET_V6 = _space(_INTERNET_V6, _NOT_INTERNET_V6)


def parse_cidr(value: Any) -> IpNetwork | None:
    """A known CIDR (or bare address) as a network; None when unknown, absent or not an address."""
    if not isinstance(value, str) or is_unknown(value):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def touches_internet(net: IpNetwork | None) -> bool:
    """Does the network overlap the internet's address space at all?"""
    if net is None:
        return False
    space = INTERNET_V4 if net.version == 4 else INTERNET_V6
    return any(net.overlaps(block) for block in space)


def internet_covered(cidrs: Iterable[Any]) -> list[str]:
    """Which internets ("IPv4", "IPv6") the union of `cidrs` covers entirely; unknown/invalid ones count
    for nothing."""
    nets = [n for n in (parse_cidr(c) for c in cidrs) if n is not None]
    covered: list[str] = []
    for family, space in (("IPv4", INTERNET_V4), ("IPv6", INTERNET_V6)):
        remaining = list(space)
        for net in nets:
            if not remaining:
                break
            remaining = _subtract(remaining, net)
        if not remaining:
            covered.append(family)
    return covered


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


# ------------------------------------------------------------------------------ wildcards in policies
_WILDCARD_CHARS = frozenset("*?")


def _all_wildcard(text: str, separators: str = "") -> bool:
    """`*`, `**`, `*?`, and with separators `*/*`, `*:*`: matches everything."""
    return bool(text) and "*" in text and all(c in _WILDCARD_CHARS or c in separators for c in text)


def is_wildcard_action(action: Any) -> bool:
    """An action pattern that matches every action of every service: `*`, `*:*`, `**`..."""
    if not isinstance(action, str) or is_unknown(action):
        return False
    text = action.strip()
    return _all_wildcard(text, ":")


def service_wide_services(action: Any) -> list[str]:
    """The services all of whose actions an action pattern matches: `s3:*` -> ["s3"], and, judged by what
    they match in the catalogue, `kms:?*` -> ["kms"] or `s?:*` -> every service whose prefix it matches."""
    if not isinstance(action, str) or is_unknown(action) or ":" not in action:
        return []
    service, _, name = action.strip().partition(":")
    if not service:
        return []
    if not has_wildcard(service):
        if _all_wildcard(name) or (has_wildcard(name) and matches_all_of(action, service.lower())):
            return [service.lower()]
        return []
    return [svc for svc in services_matching(service) if matches_all_of(f"{svc}:{name}", svc)]


def _arn_parts(resource: str) -> list[str] | None:
    """arn:partition:service:region:account:resource -> the six parts (resource may hold colons)."""
    parts = resource.split(":", 5)
    if len(parts) < 2 or parts[0].lower() != "arn":
        return None
    return parts + [""] * (6 - len(parts))


def is_wildcard_resource(resource: Any) -> bool:
    """`*`, or an ARN spelling of it: every resource of every service (`arn:*`, `arn:aws:*:*:*:*`)."""
    if not isinstance(resource, str) or is_unknown(resource):
        return False
    text = resource.strip()
    if _all_wildcard(text):
        return True
    parts = _arn_parts(text)
    if parts is None:
        return False
    service, name = parts[2], parts[5]
    if len(text.split(":")) == 2:  # "arn:*"
        return _all_wildcard(parts[1])
    return _all_wildcard(service) and (name == "" or _all_wildcard(name, "/:"))


def covers_whole_service(resource: Any, service: str) -> bool:
    """Does the resource pattern match every resource of `service` (in some account/region)?

    `*`, `arn:aws:s3:::*`, `arn:aws:s3:::*/*`, `arn:aws:kms:*:*:key/*`, `arn:aws:iam::123456789012:role/*`:
    a bucket name, or the name after the resource type, that is nothing but wildcards."""
    if is_wildcard_resource(resource):
        return True
    if not isinstance(resource, str) or is_unknown(resource):
        return False
    parts = _arn_parts(resource.strip())
    if parts is None:
        return False
    arn_service, name = parts[2].lower(), parts[5]
    if not (_all_wildcard(arn_service) or arn_service == service.lower()):
        return False
    if _all_wildcard(name, "/:"):
        return True
    head, sep, rest = name.partition("/") if "/" in name else name.partition(":")
    if arn_service == "s3":  # arn:aws:s3:::<bucket>[/<key>]: the first part is the bucket's name
        return _all_wildcard(head)
    return bool(sep) and _all_wildcard(rest, "/:")


def service_wildcard_grants(stmt: Statement) -> list[str]:
    """`svc:*` actions granted on resources that are every resource of that service: `s3:*` on
    `arn:aws:s3:::*` is as wide as `s3:*` on `*`."""
    found: list[str] = []
    for action in stmt.actions:
        wide = [
            r
            for r in stmt.resources
            if any(covers_whole_service(r, svc) for svc in service_wide_services(action))
        ]
        if wide:
            found.append(f"{action} on {', '.join(str(r) for r in wide)}")
    return found


# Condition keys that pin a statement to one account (or organization).
ACCOUNT_CONDITION_KEYS = ("aws:principalaccount", "aws:resourceaccount", "aws:principalorgid")
_ACCOUNT_VALUE = re.compile(r"^\d{12}$")
_ORG_VALUE = re.compile(r"^o-[a-z0-9]{10,32}$")


def account_condition(condition: Any) -> str | None:
    """The account-restricting condition key of a statement (StringEquals on aws:PrincipalAccount,
    aws:ResourceAccount or aws:PrincipalOrgID with concrete values), or None.

    `...IfExists` does not count: it lets requests without the key (anonymous ones) through."""
    if is_unknown(condition):
        return "unknown"
    if not isinstance(condition, dict):
        return None
    for operator, block in condition.items():
        if not isinstance(operator, str) or operator.strip().lower() != "stringequals":
            continue
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            if not isinstance(key, str) or key.strip().lower() not in ACCOUNT_CONDITION_KEYS:
                continue
            values = as_list(value)
            pattern = _ORG_VALUE if key.strip().lower() == "aws:principalorgid" else _ACCOUNT_VALUE
            if values and all(
                is_unknown(v) or (isinstance(v, str) and pattern.match(v.strip()) is not None) for v in values
            ):
                return key
    return None


def principal_values(principal: Any) -> list[Any]:
    """Every principal named by a Principal element (`"*"`, {"AWS": [...]}, {"Service": ...})."""
    if isinstance(principal, dict):
        values: list[Any] = []
        for value in principal.values():
            values.extend(as_list(value))
        return values
    return as_list(principal)


def is_public_principal(principal: Any) -> bool:
    """Principal "*", {"AWS": "*"} or a list holding "*"."""
    return any(isinstance(v, str) and v.strip() == "*" for v in principal_values(principal))


# ------------------------------------------------------------------------------------------ KMS keys
_AWS_MANAGED_ALIAS = re.compile(r"(^|:)alias/aws/", re.IGNORECASE)


def is_aws_managed_key(value: Any) -> bool:
    """`alias/aws/ebs`, `arn:aws:kms:<region>:<account>:alias/aws/s3`...: an AWS managed key, whose policy
    the account can neither read nor restrict."""
    return isinstance(value, str) and not is_unknown(value) and _AWS_MANAGED_ALIAS.search(value) is not None


def key_problem(value: Any, prop: str = "kmsKeyId") -> str | None:
    """Why a key reference is not a customer managed key (not set, or an AWS managed alias), else None."""
    if not is_set(value):
        return f"{prop} is not set"
    if is_aws_managed_key(value):
        return f"{prop} is the AWS managed key {value!r}, not a customer managed key"
    return None


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
    """Which of `targets` a dependent resource points at through its top-level property `ref_prop`.

    See `resolve_reference`; returns ([], False) when the dependent does not set `ref_prop`."""
    ref = get(props_of(dependent), ref_prop)
    if ref is None:
        return [], False
    return resolve_reference(dependent, ref, ref_prop, targets, target_ids)


def resolve_reference(
    dependent: Any,
    ref: Any,
    ref_prop: str,
    targets: Iterable[Any],
    target_ids: Mapping[str, set[str]],
) -> tuple[list[Any], bool]:
    """Which of `targets` the value `ref`, found under the dependent's top-level property `ref_prop`, names.

    A known value names the targets it equals one of the known identifiers of; failing that, a target whose
    identifiers are not in its properties (or not known yet) that the engine says `ref_prop` was computed
    from. A known value that matches neither names something outside the stack, however else the resource
    depends on the stack's targets: a resource the stack creates cannot be named by a literal before it
    exists. An unknown value (preview) names the targets the engine says it depends on.

    Returns (matched targets, unresolved): unresolved is True when nothing matched and nothing tells what
    `ref` refers to (an unknown value without dependency information, or a resource described without any
    dependency information next to targets without known identifiers); callers then count it for every
    target.
    """
    targets = list(targets)
    all_property_deps = getattr(dependent, "property_dependencies", None) or {}
    prop_deps = all_property_deps.get(ref_prop)
    if isinstance(ref, str) and not is_unknown(ref):
        matched = [t for t in targets if ref in target_ids.get(target_key(t), set())]
        if matched:
            return matched, False
        unnamed = [t for t in targets if not target_ids.get(target_key(t))]
        # The engine lists every input with what it was computed from (an empty list for a literal); an
        # older engine gives only the resource's dependencies.
        sources = list(prop_deps or []) if all_property_deps else deps_of(dependent)
        source_urns = {urn_of(d) for d in sources} - {None}
        matched = [t for t in unnamed if urn_of(t) in source_urns]
        if matched or all_property_deps or sources:
            return matched, False
        return [], bool(unnamed)  # no dependency information at all: can't tell
    dep_urns = {urn_of(d) for d in deps_of(dependent, ref_prop)}
    dep_urns.discard(None)
    matched = [t for t in targets if urn_of(t) in dep_urns]
    if matched:
        return matched, False
    if prop_deps:  # the engine says exactly what the reference depends on, and it is none of the targets
        return [], False
    return [], is_unknown(ref)
