"""Puts a router's routes into an app as they are, so that every app of a process shares them.

FastAPI's ``include_router`` makes each app its own copy of every route of the router, built (dependency
analysis, validators, serializers) at the app's first request matched against that router: about 2 ms of
CPU per route, over 100 ms for an app's first requests. A node builds one app, but the test suite builds one
per test. The routes an ``APIRouter`` made are complete already: its prefix, tags, responses and
dependencies were applied when each route was declared, and our apps add nothing of their own on top (no
prefix, tags, dependencies or default response class), so the copies would equal the originals.

What a shared route does not take is an app's ``dependency_overrides`` (its overrides provider is its
router's): the service does not use them, and a test checks that an app made this way documents and
answers as one made with ``include_router`` does (tests/api/test_shared_routes.py).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's own routes, shared, appended to the app's; a router that holds anything but plain
    routes (an included router, a mount, start-up or shutdown handlers) is refused, since appending its
    routes alone would drop the rest."""
    unsupported = [route for route in router.routes if not isinstance(route, APIRoute)]
    if unsupported or router.on_startup or router.on_shutdown:
        extra = unsupported or "event handlers"
        raise TypeError(
            f"router {router.prefix or '/'} holds more than plain routes ({extra}): "
            "include it with include_router"
        )
    app.router.routes.extend(router.routes)
