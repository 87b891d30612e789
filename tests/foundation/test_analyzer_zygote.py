"""The policy analyzer's zygote (tools.policy_shim.analyzer) as the engine uses it, through the policy shim
(``pulumi-analyzer-policy-python <engine address> .`` in the pack's folder): each start gets an analyzer
process of its own, forked from the zygote, serving the forensic pack; signals to the launcher reach it, a
killed launcher takes it along, and without a zygote the shim runs the analyzer on the real interpreter.
That the engine's passes use it is read in tests/foundation/test_engine_child_processes.py."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from policy_packs.forensics.pack import PACK_NAME
from policy_packs.forensics.rules import aws_access
from service.config import FORENSICS_POLICY_PACK, PROJECT_ROOT
from tests.support.zygotes import (
    UNTOUCHED_PULUMI_STATE,
    children,
    gone,
    preloaded_state,
    wait_gone,
    wait_reaped,
)
from tools.policy_shim.analyzer import AnalyzerZygote

SHIM = PROJECT_ROOT / "tools" / "policy_shim" / "pulumi-analyzer-policy-python"


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyzerZygote]:
    with AnalyzerZygote(tmp_path_factory.mktemp("zygote") / "analyzer.sock") as started:
        yield started


@dataclass
class Pass:
    """One start of the analyzer plugin, as the engine makes it: the launcher, the analyzer serving it."""

    launcher: subprocess.Popen[bytes]
    analyzer: int
    stub: analyzer_pb2_grpc.AnalyzerStub
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
    env = {**os.environ, "FORENSICS_ANALYZER_ZYGOTE": str(socket_path)}
    launcher = subprocess.Popen(
        [str(SHIM), "127.0.0.1:1", "."],
        env=env,
        cwd=FORENSICS_POLICY_PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,  # as the engine starts a plugin
    )
    assert launcher.stdout is not None
    port = int(launcher.stdout.readline().decode().strip())
    if zygote_pid is None:
        analyzer = launcher.pid
    else:
        (analyzer,) = children(zygote_pid) - before
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    return Pass(launcher, analyzer, analyzer_pb2_grpc.AnalyzerStub(channel), channel)


def _wait_serving(pid: int) -> None:
    """Until the analyzer's main thread sleeps in the pack's serving loop: pulumi_policy prints the port just
    before it enters the loop that turns an interrupt into a clean stop, so an interrupt in between ends the
    analyzer with a KeyboardInterrupt, however the analyzer was started."""
    deadline = time.monotonic() + 10
    while "nanosleep" not in Path(f"/proc/{pid}/wchan").read_text():
        assert time.monotonic() < deadline, f"analyzer {pid} never settled in its serving loop"
        time.sleep(0.02)


def _pack_name(stub: analyzer_pb2_grpc.AnalyzerStub) -> str:
    return str(stub.GetAnalyzerInfo(empty_pb2.Empty()).name)


def test_each_start_is_a_fresh_analyzer_forked_from_the_zygote(zygote: AnalyzerZygote) -> None:
    first = _start(zygote.path, zygote.pid)
    try:
        assert _pack_name(first.stub) == PACK_NAME
        second = _start(zygote.path, zygote.pid)
        try:
            # Another process, the zygote's child (not the launcher), serving the pack on its own server.
            assert second.analyzer != first.analyzer
            assert {first.analyzer, second.analyzer} <= children(zygote.pid)
            assert {first.analyzer, second.analyzer}.isdisjoint({first.launcher.pid, second.launcher.pid})
            assert _pack_name(second.stub) == PACK_NAME
            # The child runs in the pack's folder, as the engine starts the analyzer.
            assert Path(f"/proc/{second.analyzer}/cwd").resolve() == FORENSICS_POLICY_PACK.resolve()
        finally:
            second.close()
    finally:
        first.close()


def test_an_interrupt_to_the_launcher_stops_the_analyzer_gracefully(zygote: AnalyzerZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        _wait_serving(started.analyzer)
        started.launcher.send_signal(signal.SIGINT)
        # The pack stops its server on the interrupt and ends with 0, and the launcher with it.
        assert started.launcher.wait(timeout=30) == 0
        wait_gone(started.analyzer)
    finally:
        started.close()


def test_a_terminated_launcher_ends_as_its_analyzer_does(zygote: AnalyzerZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        started.launcher.send_signal(signal.SIGTERM)
        assert started.launcher.wait(timeout=30) == -signal.SIGTERM
        wait_gone(started.analyzer)
    finally:
        started.close()


def test_a_killed_launcher_leaves_no_analyzer_behind(zygote: AnalyzerZygote) -> None:
    started = _start(zygote.path, zygote.pid)
    try:
        assert not gone(started.analyzer)
        started.launcher.kill()
        assert started.launcher.wait(timeout=10) == -signal.SIGKILL
        wait_gone(started.analyzer)
        wait_reaped(zygote.pid, started.analyzer)
    finally:
        started.close()


def test_without_a_zygote_the_shim_runs_the_analyzer_on_the_real_interpreter(tmp_path: Path) -> None:
    started = _start(tmp_path / "no-zygote.sock", None)
    try:
        command = Path(f"/proc/{started.analyzer}/cmdline").read_bytes().split(b"\0")
        assert command[1:4] == [b"-u", b"-m", b"pulumi.policy"], command
        assert _pack_name(started.stub) == PACK_NAME
        # Ended by SIGTERM, not an interrupt: once in CI the real interpreter had not ended 30 s after an
        # interrupt. After pulumi_policy's clean stop its exit joins gRPC's and the executor's threads, which
        # a forked analyzer skips (it ends with os._exit), so the interrupt test above does not wait on them.
        started.launcher.send_signal(signal.SIGTERM)
        assert started.launcher.wait(timeout=30) == -signal.SIGTERM
    finally:
        started.close()


_PRELOAD = """
from tools.policy_shim.analyzer import preload
preload()
from policy_packs.forensics.rules import aws_access
"""
_FINDINGS = """{
    "connections": len(aws_access._connections),
    "parsed models": sorted(
        key[1]
        for loader in aws_access._loaders.values()
        for key in loader._cache
        if key[:3] == ("load_service_model", key[1], "service-2")
    ),
}"""


def test_the_preloaded_zygote_holds_no_thread_and_no_pulumi_runtime_state() -> None:
    """What every child inherits from the zygote: one thread (no gRPC server, channel or pool runs), the
    SDK's empty runtime settings and config (each pass's child configures its own from its environment), no
    AWS connection (each pass's child makes its own, as its environment says), and botocore's models of the
    services the pack asks, parsed."""
    assert preloaded_state(_PRELOAD, _FINDINGS) == {
        **UNTOUCHED_PULUMI_STATE,
        "connections": 0,
        "parsed models": sorted(aws_access.SERVICES),
    }
