"""The plugin executable as the engine runs it: prints its port, answers gRPC with the SDK's version."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pulumi_aws
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import provider_pb2_grpc
from pulumi.runtime.rpc import UNKNOWN

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tools" / "bin" / "pulumi-resource-aws"


@pytest.fixture(scope="module")
def stub() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    proc = subprocess.Popen([str(PLUGIN), "127.0.0.1:1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().decode().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def struct(values: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


def test_plugin_info_and_schema(stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    assert stub.GetPluginInfo(empty_pb2.Empty()).version == pulumi_aws._utilities.get_version()
    assert json.loads(stub.GetSchema(proto.GetSchemaRequest(version=0)).schema)["name"] == "aws"


def test_configure_check_and_preview_over_grpc(stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    resp = stub.Configure(
        proto.ConfigureRequest(
            args=struct({"region": "us-east-1", "endpoints": '[{"ec2": "http://127.0.0.1:1"}]'}),
            acceptSecrets=True,
        )
    )
    assert resp.supportsPreview and resp.acceptSecrets
    # A child resource's URN carries its parents' types: the resource's own type is the last one.
    urn = "urn:pulumi:s::forensics::forensics:index:IsolatedNetwork$aws:ec2/vpc:Vpc::net-vpc"
    checked = stub.Check(
        proto.CheckRequest(urn=urn, news=struct({"cidrBlock": "10.0.0.0/16"}), randomSeed=b"x")
    )
    assert checked.inputs["cidrBlock"] == "10.0.0.0/16"
    created = stub.Create(proto.CreateRequest(urn=urn, properties=checked.inputs, preview=True))
    assert created.properties["arn"] == UNKNOWN and created.properties["cidrBlock"] == "10.0.0.0/16"
    diff = stub.Diff(
        proto.DiffRequest(
            urn=urn,
            id="vpc-1",
            olds=struct({"cidrBlock": "10.0.0.0/16"}),
            news=struct({"cidrBlock": "10.1.0.0/16"}),
        )
    )
    assert diff.changes == proto.DiffResponse.DIFF_SOME and list(diff.replaces) == ["cidrBlock"]
    assert diff.detailedDiff["cidrBlock"].kind == proto.PropertyDiff.UPDATE_REPLACE


def test_diff_config_is_an_update_never_a_replace(stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    urn = "urn:pulumi:s::forensics::pulumi:providers:aws::default_7_51_1"
    same = stub.DiffConfig(
        proto.DiffRequest(urn=urn, olds=struct({"region": "us-east-1"}), news=struct({"region": "us-east-1"}))
    )
    assert same.changes == proto.DiffResponse.DIFF_NONE
    moved = stub.DiffConfig(
        proto.DiffRequest(urn=urn, olds=struct({"endpoints": "[1]"}), news=struct({"endpoints": "[2]"}))
    )
    assert moved.changes == proto.DiffResponse.DIFF_SOME and not moved.replaces


def test_errors_name_the_problem(stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    urn = "urn:pulumi:s::forensics::aws:lambda/function:Function::fn"
    with pytest.raises(grpc.RpcError) as err:
        stub.Create(proto.CreateRequest(urn=urn, properties=struct({"runtime": "python3.12"})))
    assert (
        "does not serve aws:lambda/function:Function; use the real pulumi-aws provider" in err.value.details()
    )
