"""Diff of old state against new inputs, with pulumi-aws's replacement semantics.

Rules (a simplification of the Terraform bridge):
* only input properties are compared; an input absent from the new inputs is "computed" (no diff) unless the
  handler declares a default for it (``tags`` defaults to ``{}`` so removing all tags is a change);
* nested objects compare only the keys the program sets (the rest are computed), except free-form maps
  (``tags``, ``metadata``) which compare exactly; lists of objects compare as sets;
* JSON documents (policies) compare by meaning, numbers compare by value;
* an unknown new value is a change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .base import ResourceHandler
from .values import UNKNOWN, Props

FREE_FORM_MAPS = frozenset({"tags", "tagsAll", "metadata", "volumeTags"})
_ABSENT: Any = object()


def _json(value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return _ABSENT
    return _ABSENT


def same(old: Any, new: Any, key: str = "") -> bool:
    """Does ``old`` (state) already satisfy ``new`` (inputs)?"""
    if new is UNKNOWN:
        return False
    if isinstance(new, bool) or isinstance(old, bool):
        return old is new or (old is None and new is False) or (new is None and old is False)
    if isinstance(new, (int, float)) and isinstance(old, (int, float)):
        return float(old) == float(new)
    if isinstance(new, str) and isinstance(old, str):
        if old == new:
            return True
        parsed_new, parsed_old = _json(new), _json(old)
        return parsed_new is not _ABSENT and parsed_new == parsed_old
    if isinstance(new, Mapping):
        if old is None:
            return all(v is None or v == {} or v == [] for v in new.values())
        if not isinstance(old, Mapping):
            return False
        if key in FREE_FORM_MAPS:
            return dict(old) == dict(new)
        return all(same(old.get(k), v, k) for k, v in new.items() if v is not None)
    if isinstance(new, list):
        old_list = old if isinstance(old, list) else [] if old is None else None
        if old_list is None or len(old_list) != len(new):
            return False
        remaining = list(old_list)
        for item in new:
            match = next((i for i, o in enumerate(remaining) if same(o, item, key)), None)
            if match is None:
                return False
            remaining.pop(match)
        return True
    if new is None:
        return old is None or old == "" or old == [] or old == {}
    return bool(old == new)


def _replace_paths(handler: type[ResourceHandler] | None, key: str, old: Any, new: Any) -> bool:
    if handler is None:
        return False
    if key in handler.replace_on:
        return True
    prefix = key + "."
    nested = [p[len(prefix) :] for p in handler.replace_on if p.startswith(prefix)]
    if not nested:
        return False
    old_items = old if isinstance(old, list) else [old]
    new_items = new if isinstance(new, list) else [new]
    if new is UNKNOWN:
        return True
    for sub in nested:
        olds = [o.get(sub) if isinstance(o, Mapping) else None for o in old_items]
        news = [n.get(sub, _ABSENT) if isinstance(n, Mapping) else _ABSENT for n in new_items]
        for i, n in enumerate(news):
            if n is _ABSENT:
                continue
            if not same(olds[i] if i < len(olds) else None, n, sub):
                return True
    return False


def compute_diff(
    handler: type[ResourceHandler] | None, olds: Props, news: Props, ignore_changes: list[str]
) -> tuple[dict[str, str], list[str]]:
    """({property: "add"|"delete"|"update"}, [properties forcing replacement])."""
    inputs = handler.top_level_inputs() if handler else frozenset(news)
    defaults = handler.defaults_for_diff() if handler else {}
    keys = sorted((set(news) | (set(olds) & set(inputs)) | set(defaults)) - set(ignore_changes))
    changes: dict[str, str] = {}
    replaces: list[str] = []
    for key in keys:
        if key.startswith("__"):
            continue
        new = news.get(key, defaults.get(key, _ABSENT))
        if new is _ABSENT:
            continue  # computed when not set
        old = olds.get(key)
        if key not in olds and key in defaults and same(defaults[key], new, key):
            continue
        if same(old, new, key):
            continue
        changes[key] = "add" if old is None else "delete" if new is None else "update"
        if _replace_paths(handler, key, old, new):
            replaces.append(key)
    return changes, replaces
