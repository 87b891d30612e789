"""Calling the stand-in provider directly, without the engine: its provider config as the orchestration
sets it (``provider_config``), a driver that makes the engine's calls with plain dicts (``Driver``), and
boto3 clients against the same moto to check what it did (``Clients``). The moto server and the fixtures
are in tests/standin/conftest.py."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from botocore.config import Config
from pulumi.provider.experimental import provider as p

from service.orchestration.engine_environment import LOCAL_ENDPOINT_SERVICES
from tools.aws_standin.provider import StandinProvider
from tools.aws_standin.values import props_from_plain, props_to_plain

REGION = "us-east-1"
# The services the orchestration points at the local endpoint.
SERVICES = LOCAL_ENDPOINT_SERVICES


def provider_config(url: str) -> dict[str, Any]:
    """Provider config exactly as the orchestration sets it (docs/contracts.md)."""
    return {
        "region": REGION,
        "accessKey": "testing",
        "secretKey": "testing",
        "skipCredentialsValidation": "true",
        "skipRequestingAccountId": "true",
        "skipMetadataApiCheck": "true",
        "s3UsePathStyle": "true",
        "endpoints": [{service: url for service in SERVICES}],
    }


class Driver:
    """Synchronous calls into the provider with plain dicts, as the engine would make them."""

    def __init__(self, provider: StandinProvider) -> None:
        self.provider = provider

    @staticmethod
    def urn(token: str, name: str) -> str:
        return f"urn:pulumi:test::forensics::{token}::{name}"

    def configure(self, config: dict[str, Any], secret_keys: tuple[str, ...] = ("secretKey",)) -> None:
        args = props_from_plain(config, set(secret_keys))
        resp = asyncio.run(self.provider.configure(p.ConfigureRequest({}, args, True, False)))
        assert resp.supports_preview and resp.accept_secrets

    def check(
        self, token: str, name: str, inputs: dict[str, Any], olds: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        resp = asyncio.run(
            self.provider.check(
                p.CheckRequest(
                    self.urn(token, name),
                    props_from_plain(olds or {}),
                    props_from_plain(inputs),
                    b"seed-" + name.encode(),
                )
            )
        )
        assert not resp.failures
        return props_to_plain(resp.inputs or {})[0]

    def create(
        self, token: str, name: str, inputs: dict[str, Any], preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        checked = self.check(token, name, inputs)
        resp = asyncio.run(
            self.provider.create(
                p.CreateRequest(self.urn(token, name), props_from_plain(checked), 300.0, preview)
            )
        )
        return resp.resource_id or "", props_to_plain(resp.properties)[0]

    def read(
        self,
        token: str,
        name: str,
        resource_id: str,
        state: dict[str, Any],
        inputs: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        resp = asyncio.run(
            self.provider.read(
                p.ReadRequest(
                    self.urn(token, name),
                    resource_id,
                    props_from_plain(state),
                    props_from_plain(inputs or {}),
                )
            )
        )
        return resp.resource_id or "", props_to_plain(resp.properties)[0], props_to_plain(resp.inputs)[0]

    def diff(
        self, token: str, name: str, resource_id: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> p.DiffResponse:
        return asyncio.run(
            self.provider.diff(
                p.DiffRequest(
                    self.urn(token, name), resource_id, props_from_plain(state), props_from_plain(inputs), []
                )
            )
        )

    def update(
        self,
        token: str,
        name: str,
        resource_id: str,
        state: dict[str, Any],
        inputs: dict[str, Any],
        preview: bool = False,
    ) -> dict[str, Any]:
        checked = self.check(token, name, inputs, state)
        resp = asyncio.run(
            self.provider.update(
                p.UpdateRequest(
                    self.urn(token, name),
                    resource_id,
                    props_from_plain(state),
                    props_from_plain(checked),
                    300.0,
                    [],
                    preview,
                )
            )
        )
        return props_to_plain(resp.properties)[0]

    def delete(self, token: str, name: str, resource_id: str, state: dict[str, Any]) -> None:
        asyncio.run(
            self.provider.delete(
                p.DeleteRequest(self.urn(token, name), resource_id, props_from_plain(state), 300.0)
            )
        )

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        resp = asyncio.run(self.provider.invoke(p.InvokeRequest(token, props_from_plain(args))))
        return props_to_plain(resp.return_value or {})[0]


class Clients:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}),
        )
