"""HTML forms from the API's own request models: the fields a form shows, and a submitted form read back
into the model, so the console checks exactly what the API checks (and answers a bad field the same way)."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from service.errors import InvalidInput

Model = TypeVar("Model", bound=BaseModel)

# Form-only fields: never part of a request model.
NOT_PARAMS = frozenset({"csrf_token", "confirm"})


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: Literal["text", "textarea", "number", "checkbox"]
    required: bool
    default: Any
    help: str | None
    minimum: int | None = None
    maximum: int | None = None


def _base_type(annotation: Any) -> Any:
    """``str | None`` -> str."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


def _bound(info: FieldInfo, name: str) -> int | None:
    for meta in info.metadata:
        value = getattr(meta, name, None)
        if value is not None:
            return int(value)
    return None


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def fields_of(model: type[BaseModel]) -> list[FormField]:
    out = []
    for name, info in model.model_fields.items():
        base = _base_type(info.annotation)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        kind: Literal["text", "textarea", "number", "checkbox"]
        if base is bool:
            kind = "checkbox"
        elif base is int:
            kind = "number"
        elif name == "reason":
            kind = "textarea"
        else:
            kind = "text"
        out.append(
            FormField(
                name=name,
                label=_label(name),
                kind=kind,
                required=info.is_required(),
                default=default,
                help=info.description,
                minimum=_bound(info, "ge"),
                maximum=_bound(info, "le"),
            )
        )
    return out


def values_of(model: type[BaseModel], form: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values for the model's fields: an unchecked checkbox is False (browsers send nothing),
    an empty optional text is absent (the model's default), everything else as typed."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        base = _base_type(info.annotation)
        raw = form.get(name)
        if base is bool:
            values[name] = raw is not None
        elif raw is None or (raw == "" and not info.is_required()):
            continue
        elif base is int:
            values[name] = raw.strip() if isinstance(raw, str) else raw
        else:
            values[name] = raw
    return values


def parse(model: type[Model], form: Mapping[str, Any]) -> Model:
    """The form as the API's request model, or the API's 422 for it."""
    unknown = sorted(set(form) - set(model.model_fields) - NOT_PARAMS)
    if unknown:
        raise InvalidInput(
            f"invalid request: body.{unknown[0]}: Extra inputs are not permitted",
            details={
                "fields": [
                    {"field": f"body.{name}", "message": "Extra inputs are not permitted"} for name in unknown
                ]
            },
        )
    try:
        return model.model_validate(values_of(model, form))
    except ValidationError as exc:
        fields = [
            {
                # Named as the API names a body field.
                "field": ".".join(str(p) for p in ("body", *err.get("loc", ()))),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise InvalidInput(f"invalid request: {summary}", details={"fields": fields}) from None
