"""The Pulumi provider: converts requests to plain dicts, dispatches to handlers, converts results back."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from importlib import metadata
from typing import Any

from pulumi.provider.experimental import provider as p

from .base import ResourceHandler, StandinError
from .clients import Aws, AwsConfig
from .diff import compute_diff
from .registry import data_source_for, handler_for
from .values import UNKNOWN, is_unknown, props_from_plain, props_to_plain


def plugin_version() -> str:
    """The installed pulumi_aws SDK's version: the engine looks for the plugin version the SDK names."""
    try:
        return metadata.version("pulumi_aws")
    except metadata.PackageNotFoundError:
        return "7.51.1"


def unserved(token: str) -> StandinError:
    return StandinError(
        f"the local stand-in aws provider does not serve {token}; use the real pulumi-aws provider"
    )


def _kinds() -> dict[str, p.PropertyDiffKind]:
    return {
        "add": p.PropertyDiffKind.ADD,
        "delete": p.PropertyDiffKind.DELETE,
        "update": p.PropertyDiffKind.UPDATE,
        "add!": p.PropertyDiffKind.ADD_REPLACE,
        "delete!": p.PropertyDiffKind.DELETE_REPLACE,
        "update!": p.PropertyDiffKind.UPDATE_REPLACE,
    }


class StandinProvider(p.Provider):
    def __init__(self, config: AwsConfig | None = None) -> None:
        # Usable before Configure (tests, or the engine calling Check first): env-only configuration.
        self.aws = Aws(config or AwsConfig.from_provider_config({}))

    # --- provider-level --------------------------------------------------------------------------------
    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        # The engine needs no schema to run programs that use the pulumi_aws SDK; a minimal one is valid.
        return p.GetSchemaResponse(schema=json.dumps({"name": "aws", "version": plugin_version()}))

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        return p.CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: p.DiffRequest) -> p.DiffResponse:
        # Never replace the provider (that would replace every resource): e.g. moto's port differs per run.
        olds, _ = props_to_plain(request.old_state)
        news, _ = props_to_plain(request.new_inputs)
        changed = [k for k in set(olds) | set(news) if olds.get(k) != news.get(k)]
        return p.DiffResponse(changes=bool(changed), diffs=sorted(changed))

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        args, _ = props_to_plain(request.args)
        self.aws = Aws(AwsConfig.from_provider_config(args, request.variables))
        return p.ConfigureResponse(
            accept_secrets=True, supports_preview=True, accept_resources=False, accept_outputs=False
        )

    # --- resources ---------------------------------------------------------------------------------------
    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        handler = handler_for(_token(request.urn))
        news, secrets = props_to_plain(request.new_inputs)
        olds, _ = props_to_plain(request.old_inputs)
        if handler is not None and handler.autoname and handler.autoname not in news:
            prefix_key = "namePrefix" if handler.autoname == "name" else f"{handler.autoname}Prefix"
            if news.get(prefix_key) is None:
                news[handler.autoname] = olds.get(handler.autoname) or self._autoname(
                    handler, request.name, request.random_seed
                )
        return p.CheckResponse(inputs=props_from_plain(news, secrets))

    @staticmethod
    def _autoname(handler: type[ResourceHandler], name: str, seed: bytes) -> str:
        digest = hashlib.sha256((seed or os.urandom(16)) + name.encode()).hexdigest()[:7]
        base = name[: max(1, handler.autoname_max_len - len(handler.autoname_prefix) - 8)]
        value = f"{handler.autoname_prefix}{base}-{digest}"
        return value.lower() if handler.autoname_lower else value

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        handler = handler_for(_token(request.urn))
        olds, _ = props_to_plain(request.old_state)
        news, _ = props_to_plain(request.new_inputs)
        changes, replaces = compute_diff(handler, olds, news, list(request.ignore_changes))
        kinds = _kinds()
        detailed = {
            key: p.PropertyDiff(kinds[kind + ("!" if key in replaces else "")], input_diff=True)
            for key, kind in changes.items()
        }
        return p.DiffResponse(
            changes=bool(changes),
            replaces=replaces,
            diffs=sorted(changes),
            detailed_diff=detailed,
            delete_before_replace=False,
        )

    def _handler(self, token: str) -> ResourceHandler:
        cls = handler_for(token)
        if cls is None:
            raise unserved(token)
        return cls(self.aws)

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        news, secrets = props_to_plain(request.properties)
        cls = handler_for(_token(request.urn))
        if request.preview:
            # Preview never touches AWS, and must work for any type so policy packs can judge any program.
            preview = cls(self.aws).preview(news) if cls else {}
            return p.CreateResponse(resource_id="", properties=props_from_plain({**news, **preview}, secrets))
        handler = self._handler(_token(request.urn))
        if is_unknown(news):
            raise StandinError(f"{_token(request.urn)} {request.name}: inputs still unknown at create")
        resource_id, outputs = await asyncio.to_thread(handler.create, request.name, news)
        return p.CreateResponse(
            resource_id=resource_id, properties=props_from_plain({**news, **outputs}, secrets)
        )

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        handler = self._handler(_token(request.urn))
        olds, secrets = props_to_plain(request.properties)
        inputs, input_secrets = props_to_plain(request.inputs)
        current = await asyncio.to_thread(handler.read, request.resource_id, olds)
        if current is None:
            return p.ReadResponse(resource_id="", properties={}, inputs={})  # gone: the engine drops it
        state = {**olds, **current}
        # Inputs as they would have to be to produce this state (only the keys the program set).
        new_inputs = {
            k: _project(state.get(k), v) if k in handler.top_level_inputs() else v for k, v in inputs.items()
        }
        return p.ReadResponse(
            resource_id=request.resource_id,
            properties=props_from_plain(state, secrets),
            inputs=props_from_plain(new_inputs, input_secrets),
        )

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        handler = self._handler(_token(request.urn))
        olds, _ = props_to_plain(request.olds)
        news, secrets = props_to_plain(request.news)
        for key in request.ignore_changes:
            if key in olds:
                news[key] = olds[key]
        if request.preview:
            state = {**olds, **news}
            if handler.taggable:
                state["tagsAll"] = UNKNOWN if is_unknown(news.get("tags")) else handler.tags_all(news)
            return p.UpdateResponse(properties=props_from_plain(state, secrets))
        outputs = await asyncio.to_thread(handler.update, request.resource_id, olds, news)
        state = {k: v for k, v in olds.items() if k not in handler.top_level_inputs()}
        return p.UpdateResponse(properties=props_from_plain({**state, **news, **outputs}, secrets))

    async def delete(self, request: p.DeleteRequest) -> None:
        handler = self._handler(_token(request.urn))
        olds, _ = props_to_plain(request.properties)
        await asyncio.to_thread(handler.delete, request.resource_id, olds)

    # --- data sources --------------------------------------------------------------------------------------
    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        source = data_source_for(request.tok)
        if source is None:
            raise unserved(request.tok)
        args, _ = props_to_plain(request.args)
        result = await asyncio.to_thread(source.fn, self.aws, args)
        secrets = {"value", "insecureValue"} & set(result) if result.get("type") == "SecureString" else set()
        return p.InvokeResponse(return_value=props_from_plain(result, secrets - {"insecureValue"}))


def _token(urn: str) -> str:
    """The resource's own type token: a URN's type segment is ``parent$...$type`` for children."""
    parts = urn.split("::")
    return parts[2].split("$")[-1] if len(parts) > 3 else ""


def _project(current: Any, declared: Any) -> Any:
    """``current`` restricted to the shape of ``declared`` (nested objects keep only declared keys)."""
    if isinstance(declared, dict) and isinstance(current, dict) and declared and not _free_form(declared):
        return {k: _project(current.get(k), v) for k, v in declared.items()}
    return (
        declared if current is None and declared is not None and not isinstance(declared, dict) else current
    )


def _free_form(value: dict[str, Any]) -> bool:
    return all(isinstance(v, str) for v in value.values())


__all__ = ["StandinProvider", "plugin_version"]
