"""The stand-in zygote (tools.aws_standin.zygote) as the engine uses it, through the plugin executable: each
start gets a provider process of its own, forked from the zygote; signals to the launcher reach it, a killed
launcher takes it along, and without a zygote the launcher runs the stand-in itself. A zygote whose starter
is killed ends, its providers with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.support.zygotes import children, gone, wait_gone, wait_reaped
from tools.aws_standin.zygote import StandinZygote

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tools" / "bin" / "pulumi-resource-aws"
VPC = "urn:pulumi:s::forensics::aws:ec2/vpc:Vpc::net-vpc"


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandinZygote]:
    with StandinZygote(tmp_path_factory.mktemp("zygote") / "standin.sock") as started:
        yield started


@dataclass
class Pass:
    """One start of the plugin, as the engine makes it: the launcher, the provider serving it, its client."""

    launcher: subprocess.Popen[bytes]
    provider: int
    stub: provider_pb2_grpc.ResourceProviderStub
    channel: grpc.Channel

    def close(self) -> None:
        self.channel.close()
        if self.launcher.poll() is None:
            self.launcher.kill()
        self.launcher.wait(timeout=10)
        assert self.launcher.stdout is not None and self.launcher.stderr is not None
        self.launcher.stdout.close()
        self.launcher.stderr.close()


def _start(socket_path: Path, zygote_pid: int | None) -> Pass:
    before = children(zygote_pid) if zygote_pid is not None else set()
    env = {**os.environ, "FORENSICS_STANDIN_ZYGOTE": str(socket_path)}
    launcher = subprocess.Popen(
        [str(PLUGIN), "127.0.0.1:1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,  # as the engine starts a plugin
    )
    assert launcher.stdout is not None
    port = int(launcher.stdout.readline().decode().strip())
    if zygote_pid is None:
        provider = launcher.pid
    else:
        (provider,) = children(zygote_pid) - before
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return Pass(launcher, provider, provider_pb2_grpc.ResourceProviderStub(channel), channel)


def _struct(values: dict[str, object]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


def _previewed_tags(stub: provider_pb2_grpc.ResourceProviderStub) -> dict[str, str]:
    """A VPC's tagsAll in a create preview: its own tags and the provider's configured default tags."""
    created = stub.Create(
        provider_pb2.CreateRequest(
            urn=VPC, properties=_struct({"cidrBlock": "10.0.0.0/16", "tags": {"Name": "net"}}), preview=True
        )
    )
    return dict(created.properties["tagsAll"])


def test_each_start_is_a_fresh_process_forked_from_the_zygote(zygote: StandinZygote) -> None:
    first = _start(zygote.path, zygote.pid)
    try:
        first.stub.Configure(
            provider_pb2.ConfigureRequest(
                args=_struct({"region": "us-east-1", "defaultTags": {"tags": {"configured": "first"}}}),
                acceptSecrets=True,
            )
        )
        assert _previewed_tags(first.stub) == {"Name": "net", "configured": "first"}
        second = _start(zygote.path, zygote.pid)
        try:
            # Another process, the zygote's child (not the launcher), with none of the first one's state.
            assert second.provider != first.provider
            assert {first.provider, second.provider} <= children(zygote.pid)
            assert {first.provider, second.provider}.isdisjoint({first.launcher.pid, second.launcher.pid})
            assert _previewed_tags(second.stub) == {"Name": "net"}
        finally:
            second.close()
    finally:
        first.close()


def test_an_interrupt_to_the_launcher_stops_the_provider_gracefully(zygote: StandinZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        started.launcher.send_signal(signal.SIGINT)
        # The provider's own graceful stop ends it with 0, and the launcher with it.
        assert started.launcher.wait(timeout=30) == 0
        wait_gone(started.provider)
    finally:
        started.close()


def test_a_terminated_launcher_ends_as_its_provider_does(zygote: StandinZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        started.launcher.send_signal(signal.SIGTERM)
        # The provider died of the SIGTERM passed on to it, and the launcher reports the same death.
        assert started.launcher.wait(timeout=30) == -signal.SIGTERM
        wait_gone(started.provider)
    finally:
        started.close()


def test_a_killed_launcher_leaves_no_provider_behind(zygote: StandinZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        assert not gone(started.provider)
        started.launcher.kill()
        assert started.launcher.wait(timeout=10) == -signal.SIGKILL
        wait_gone(started.provider)
        # And reaped by the zygote (a zombie until then).
        wait_reaped(zygote.pid, started.provider)
    finally:
        started.close()


def test_without_a_zygote_the_launcher_runs_the_stand_in_itself(tmp_path: Path) -> None:
    started = _start(tmp_path / "no-zygote.sock", None)
    try:
        command = Path(f"/proc/{started.provider}/cmdline").read_bytes().split(b"\0")
        assert command[2:4] == [b"-m", b"tools.aws_standin"], command
        assert _previewed_tags(started.stub) == {"Name": "net"}
        started.launcher.send_signal(signal.SIGINT)
        assert started.launcher.wait(timeout=30) == 0
    finally:
        started.close()


_STARTER = """
import sys
from pathlib import Path
from tests.support.zygotes import children, gone, wait_gone, wait_reaped
from tools.aws_standin.zygote import StandinZygote
zygote = StandinZygote(Path(sys.argv[1])).start()
print(zygote.pid, flush=True)
sys.stdin.read()
"""


def test_a_zygote_whose_starter_is_killed_ends_and_its_providers_with_it(tmp_path: Path) -> None:
    socket_path = tmp_path / "standin.sock"
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTER, str(socket_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert starter.stdout is not None
        zygote_pid = int(starter.stdout.readline())
        started = _start(socket_path, zygote_pid)
        try:
            starter.kill()  # no chance to stop the zygote
            starter.wait(timeout=10)
            wait_gone(zygote_pid)
            wait_gone(started.provider)
        finally:
            started.close()
    finally:
        if starter.poll() is None:
            starter.kill()
        starter.wait(timeout=10)
        for pipe in (starter.stdin, starter.stdout):
            if pipe is not None:
                pipe.close()
