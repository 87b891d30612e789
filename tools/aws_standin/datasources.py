"""Data source (invoke) declaration: token, accepted argument names, result names, and the function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .clients import Aws
from .values import Props


@dataclass(frozen=True)
class DataSource:
    token: str
    #: Result class name in pulumi_aws (e.g. ``ec2.GetAmiResult``) the names are checked against.
    result_class: str
    args: frozenset[str]
    results: frozenset[str]
    fn: Callable[[Aws, Props], Props]
