"""``python -m tools.aws_standin <engine address>``: serve the stand-in over gRPC, print the port."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from .provider import StandinProvider, plugin_version


class StandinServicer(ProviderServicer):
    """The SDK servicer, with DiffConfig fixed: it passes a bool where the proto wants a DiffChanges enum."""

    async def DiffConfig(
        self, request: proto.DiffRequest, context: grpc.aio.ServicerContext
    ) -> proto.DiffResponse:
        resp = await self._provider.diff_config(
            p.DiffRequest(
                request.urn,
                request.id,
                PropertyValue.unmarshal_map(request.olds),
                PropertyValue.unmarshal_map(request.news),
                list(request.ignoreChanges),
            )
        )
        return proto.DiffResponse(
            changes=proto.DiffResponse.DIFF_SOME if resp.changes else proto.DiffResponse.DIFF_NONE,
            diffs=resp.diffs,
            replaces=[],
        )


def _with_clear_errors(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Fail the RPC with the exception's message (the default is "Unexpected <class ...>")."""

    @functools.wraps(method)
    async def wrapper(self: ProviderServicer, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            logging.getLogger("aws_standin").debug("%s failed", method.__name__, exc_info=True)
            await context.abort(grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}")

    return wrapper


for _name in ("Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke"):
    setattr(StandinServicer, _name, _with_clear_errors(getattr(StandinServicer, _name)))


# How long calls in flight get to finish after SIGINT (the CLI kills a plugin 5 s after interrupting it).
STOP_GRACE_SECONDS = 30.0


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Local stand-in aws provider plugin (gRPC server)")
    parser.add_argument("engine", nargs="?", default="", help="Pulumi engine address")
    known, _ = parser.parse_known_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    async def serve() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = StandinServicer(argv, plugin_version(), StandinProvider(), engine_address=known.engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        # The engine stops a provider with SIGINT (and so does a cancel, to the whole group): like the real
        # provider's GracefulStop, calls in flight finish (a resource being created is answered, so the
        # engine records it rather than leaving it in AWS unknown to the state) and new ones are refused.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(
            signal.SIGINT, lambda: loop.create_task(server.stop(grace=STOP_GRACE_SECONDS))
        )
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1:])
