"""Local stand-in for the `aws` Pulumi resource provider plugin, backed by boto3 against moto.

A test/demo fixture: the same Pulumi program runs against the real pulumi-aws provider in production, so every
type token, property name and output here follows the pulumi-aws schema (checked by tests/standin).
Entry points: ``python -m tools.aws_standin <engine address>`` (what ``tools/bin/pulumi-resource-aws`` runs)
and :class:`tools.aws_standin.provider.StandinProvider` for in-process use.
"""

from __future__ import annotations

PLUGIN_NAME = "aws"
