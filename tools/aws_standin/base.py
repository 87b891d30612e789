"""Handler base class and helpers shared by the per-service modules.

A handler serves one pulumi-aws type token. It declares the property names it accepts and returns (dotted
paths for nested fields, so tests can check every name against the pulumi_aws SDK) and implements create/read/
update/delete on plain dicts. The provider merges: state = inputs + whatever the handler returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from .clients import Aws
from .values import UNKNOWN, Props, is_unknown

T = TypeVar("T")

TAGS = frozenset({"tags", "tagsAll"})


class StandinError(Exception):
    """An error reported to the engine as the operation's failure message."""


class ResourceHandler:
    token: ClassVar[str]
    #: Input property names accepted (top level and dotted nested paths).
    inputs: ClassVar[frozenset[str]] = frozenset()
    #: Output-only property names returned (top level and dotted nested paths).
    outputs: ClassVar[frozenset[str]] = frozenset()
    #: Inputs (top level or dotted) whose change forces replacement in real AWS.
    replace_on: ClassVar[frozenset[str]] = frozenset()
    #: Property pulumi-aws auto-names when absent (e.g. ``name``), and how.
    autoname: ClassVar[str | None] = None
    autoname_lower: ClassVar[bool] = False
    autoname_max_len: ClassVar[int] = 255
    autoname_prefix: ClassVar[str] = ""
    #: Value an absent input is compared as in diff; inputs without a default are "computed when absent".
    diff_defaults: ClassVar[Mapping[str, Any]] = {}
    taggable: ClassVar[bool] = False

    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    # --- declared names -------------------------------------------------------------------------------
    @classmethod
    def input_names(cls) -> frozenset[str]:
        return cls.inputs | ({"tags"} if cls.taggable else set())

    @classmethod
    def output_names(cls) -> frozenset[str]:
        return cls.outputs | ({"tagsAll"} if cls.taggable else set())

    @classmethod
    def top_level_inputs(cls) -> frozenset[str]:
        return frozenset(n for n in cls.input_names() if "." not in n)

    @classmethod
    def top_level_outputs(cls) -> frozenset[str]:
        return frozenset(n for n in cls.output_names() if "." not in n)

    @classmethod
    def defaults_for_diff(cls) -> Mapping[str, Any]:
        return {**({"tags": {}} if cls.taggable else {}), **cls.diff_defaults}

    # --- operations (plain dicts) ---------------------------------------------------------------------
    def preview(self, news: Props) -> Props:
        """Outputs for a create preview: everything not given is unknown. No AWS call."""
        out: Props = {name: UNKNOWN for name in self.top_level_outputs() if name not in news}
        if self.taggable:
            out["tagsAll"] = self.tags_all(news) if not is_unknown(news.get("tags")) else UNKNOWN
        return out

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        raise NotImplementedError

    def read(self, resource_id: str, olds: Props) -> Props | None:
        """Current AWS-side values (a subset of the state is fine), or None if the resource is gone."""
        raise NotImplementedError

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        raise NotImplementedError

    def delete(self, resource_id: str, olds: Props) -> None:
        raise NotImplementedError

    # --- tag helpers ----------------------------------------------------------------------------------
    def tags_all(self, props: Props) -> dict[str, str]:
        return {**self.aws.config.default_tags, **(props.get("tags") or {})}

    def tag_outputs(self, aws_tags: Mapping[str, str], olds: Props) -> Props:
        """tags/tagsAll as seen in AWS; default tags the program did not set itself are not ``tags``."""
        visible = {k: v for k, v in aws_tags.items() if not k.startswith("aws:")}
        defaults = self.aws.config.default_tags
        declared = olds.get("tags") or {}
        tags = {k: v for k, v in visible.items() if k in declared or defaults.get(k) != v}
        return {"tags": tags, "tagsAll": visible}

    def tag_changes(self, olds: Props, news: Props) -> tuple[dict[str, str], list[str]]:
        """(tags to set, tag keys to remove) to go from the old tagsAll to the new."""
        old = olds.get("tagsAll") or olds.get("tags") or {}
        new = self.tags_all(news)
        return {k: v for k, v in new.items() if old.get(k) != v}, [k for k in old if k not in new]


# --- AWS helpers ----------------------------------------------------------------------------------------
def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def not_found(exc: BaseException, *codes: str) -> bool:
    code = error_code(exc)
    return code in codes or code.endswith("NotFound") or code in ("NoSuchEntity", "404", "NoSuchBucket")


def wait_until(check: Callable[[], T | None], what: str, timeout: float = 300.0, interval: float = 0.25) -> T:
    """Poll ``check`` until it returns a truthy value (boto3 waiters poll every 15s: too slow for moto)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StandinError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def retry_on(codes: Iterable[str], action: Callable[[], T], what: str, timeout: float = 120.0) -> T:
    """Retry while AWS answers with one of ``codes`` (e.g. DependencyViolation while ENIs go away)."""
    wanted = set(codes)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except ClientError as exc:
            if error_code(exc) not in wanted or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def aws_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tag_map(
    tag_list: Iterable[Mapping[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {t[key]: t.get(value, "") for t in tag_list or []}


def ints(value: Any) -> int | None:
    """Pulumi numbers arrive as floats; AWS wants ints."""
    return None if value is None else int(value)


def drop_none(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}
