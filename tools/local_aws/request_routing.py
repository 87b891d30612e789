"""Two lookups moto's server repeats for every request, answered without redoing work whose result is fixed.

- ``BaseResponse.call_action`` asks whether the request's action is a method of the response class by
  listing every function of the class (``inspect.getmembers``: hundreds of names, each fetched and sorted),
  about a twentieth of the local AWS's CPU. ``FunctionNames`` answers the same question for the one name
  (``inspect.isfunction`` of the class's attribute, what ``getmembers`` tests for each): a method patched in
  later still counts, nothing is cached.
- ``DomainDispatcherApplication.get_backend_for_host`` matches the host against every service's URL patterns
  (hundreds of regular expressions) for each request. Its answer depends on the host alone and on the
  patterns and module list, fixed when moto is imported, so it is kept per host (a handful of
  ``<service>.<region>.amazonaws.com`` names).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any


class FunctionNames:
    """The names of a class's functions, as ``moto.core.utils.method_names_from_class`` lists them, for
    ``in`` tests only (the one use moto makes of that list)."""

    def __init__(self, clazz: object) -> None:
        self._clazz = clazz

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._clazz, name, None))


def install() -> None:
    """Patch moto's server in this process (idempotent)."""
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_backend_by_host", False):
        return
    DomainDispatcherApplication._backend_by_host = True  # type: ignore[attr-defined]
    responses.method_names_from_class = FunctionNames  # type: ignore[attr-defined,assignment]

    backend_for_host = DomainDispatcherApplication.get_backend_for_host

    @functools.wraps(backend_for_host)  # moto's own stays reachable as __wrapped__
    def remembered_backend_for_host(self: Any, host: str | None) -> Any:
        known: dict[str | None, Any] = self.__dict__.setdefault("_backends_by_host", {})
        if host not in known:
            known[host] = backend_for_host(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = remembered_backend_for_host  # type: ignore[method-assign]
