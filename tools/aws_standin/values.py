"""The one place where Pulumi ``PropertyValue`` maps are converted to and from plain Python values.

Handlers work on plain dicts (``str``/``bool``/``int``/``float``/``list``/``dict``/``None``/:data:`UNKNOWN`).
Secretness is tracked per top-level key so outputs can be re-marked secret; dependencies are not needed
because the provider does not accept output values (the engine sends plain values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.provider.experimental.property_value import Computed, PropertyValue, ResourceReference
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL

Props = dict[str, Any]


class _Unknown:
    """A value not known until the resource exists (preview). Marshalled as the engine's unknown sentinel."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    """True if the value is or contains an unknown."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(is_unknown(v) for v in value)
    return False


def to_plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed) or inner == UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(inner, ResourceReference):
        # With accept_resources=False the engine sends ids, but be lenient: a reference stands for its id.
        return to_plain(inner.resource_id) if inner.resource_id is not None else inner.urn
    if isinstance(inner, Mapping):
        return {k: to_plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [to_plain(v) for v in inner]
    return inner  # None, bool, float, str, Asset, Archive


def props_to_plain(props: Mapping[str, PropertyValue]) -> tuple[Props, set[str]]:
    """Plain dict and the set of top-level keys that held secrets."""
    secrets = {k for k, v in props.items() if v.contains_secret()}
    return {k: to_plain(v) for k, v in props.items()}, secrets


def from_plain(value: Any) -> PropertyValue:
    if value is UNKNOWN:
        # PropertyValue(Computed()) cannot be marshalled by this SDK version; the sentinel string is what the
        # engine itself uses for unknowns on the wire.
        return PropertyValue(UNKNOWN_SENTINEL)
    if value is None or isinstance(value, (bool, str, pulumi.Asset, pulumi.Archive)):
        return PropertyValue(value)
    if isinstance(value, (int, float)):
        return PropertyValue(float(value))
    if isinstance(value, Mapping):
        return PropertyValue({str(k): from_plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return PropertyValue([from_plain(v) for v in value])
    if hasattr(value, "isoformat"):  # datetimes from boto3
        return PropertyValue(value.isoformat())
    raise TypeError(f"cannot convert {type(value).__name__} to a Pulumi property value")


def props_from_plain(
    props: Mapping[str, Any], secrets: set[str] | frozenset[str] = frozenset()
) -> dict[str, PropertyValue]:
    out: dict[str, PropertyValue] = {}
    for key, value in props.items():
        pv = from_plain(value)
        out[key] = pv.with_secret(True) if key in secrets and value is not UNKNOWN else pv
    return out
