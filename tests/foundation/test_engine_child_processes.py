"""No secret of the service reaches the engine's processes, and they run at a lower CPU priority than the
service: read from /proc while a real preview runs.

The unit twin (tests/unit/test_engine_child_env.py) checks the environment the service builds; this one
reads what the runner, the Pulumi CLI, the provider plugin and the policy analyzer actually started with.
Locally the provider plugin is the stand-in's launcher, and the provider it serves is a child of the
stand-in zygote (tools.aws_standin.zygote), outside the engine's tree: it is read there too; so is the
policy analyzer, a child of the analyzer zygote (tools.policy_shim.analyzer) served to the shim's launcher.
Their environment in /proc is the zygote's (the one they were forked with; the launcher's replaces it inside
the process). So is the engine child's, forked from the engine zygote (tools.engine_zygote) for the launcher
the service starts in its place: the CLI and the plugins it starts are that child's descendants, read in the
engine zygote's tree (tests/orchestration/test_engine_child_start.py reads the child's own environment from
inside it).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service.orchestration.engine_environment import POLICY_PACK_SETTINGS
from service.orchestration.messages import ConfigValue, OperationKind, OperationRequest
from service.orchestration.stacks import run_operation
from tests.foundation.test_engine import TEST_PACK
from tests.unit.test_engine_child_env import ENGINE_SECRETS, leaks, settings_with_sentinels
from tools.aws_standin.zygote import StandinZygote
from tools.engine_zygote import EngineZygote
from tools.local_aws.aws import LocalAws
from tools.policy_shim.analyzer import AnalyzerZygote

pytestmark = pytest.mark.engine

PROGRAM = "tests.foundation.programs:encrypted_bucket_that_lingers"
PROC = Path("/proc")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # the process ended between listing and reading
        return None


def _parent_pid(pid: int) -> int | None:
    stat = _read(PROC / str(pid) / "stat")
    if stat is None:
        return None
    # "<pid> (<comm>) <state> <ppid> ...": comm may hold spaces and parentheses, so split after the last ")".
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


@dataclass
class ProcessTree:
    """Every descendant of one process: each command it ran, with the environment it was started with.

    Keyed by (pid, command line) because a plugin's wrapper script execs its interpreter in the same pid,
    with a new command line and environment.
    """

    root: int
    environments: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    niceness: dict[tuple[int, str], int] = field(default_factory=dict)
    sessions: dict[tuple[int, str], int] = field(default_factory=dict)

    def scan(self) -> None:
        parents = {int(p.name): _parent_pid(int(p.name)) for p in PROC.iterdir() if p.name.isdigit()}
        tree = {self.root}
        while grown := {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}:
            tree |= grown
        for pid in tree:
            environ, cmdline = _read(PROC / str(pid) / "environ"), _read(PROC / str(pid) / "cmdline")
            if environ is None or cmdline is None:
                continue
            command = cmdline.decode(errors="replace").replace("\0", " ").strip()
            pairs = (entry.partition("=") for entry in environ.decode(errors="replace").split("\0") if entry)
            self.environments[pid, command] = {name: value for name, _, value in pairs}
            stat = _read(PROC / str(pid) / "stat")
            if stat is not None:  # field 19 of /proc/<pid>/stat, the 17th after the command name
                fields = stat[stat.rindex(b")") + 2 :].split()
                self.niceness[pid, command] = int(fields[16])
                self.sessions[pid, command] = int(fields[3])  # field 6, the session id

    def without_root(self) -> ProcessTree:
        """The descendants alone (the zygote itself is no engine process: only its children are)."""
        tree = ProcessTree(self.root)
        for table, kept in (
            (self.environments, tree.environments),
            (self.niceness, tree.niceness),
            (self.sessions, tree.sessions),
        ):
            kept.update({key: value for key, value in table.items() if key[0] != self.root})
        return tree

    def find(self, marker: str) -> list[dict[str, str]]:
        return [env for (_, command), env in self.environments.items() if marker in command]


def test_engine_processes_get_no_secret_and_run_at_a_lower_priority(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    local_aws: LocalAws,
    pulumi_cli: Path,
    standin_zygote: StandinZygote | None,
    analyzer_zygote: AnalyzerZygote | None,
    engine_zygote: EngineZygote | None,
) -> None:
    settings = settings_with_sentinels(
        monkeypatch,
        target="local",
        data_dir=tmp_path / "data",
        aws_endpoint_url=local_aws.endpoint_url,
        aws_verify_tls=False,
        pulumi_cli_dir=pulumi_cli.parent,
        max_ami_age_days=11,
    )
    trees: list[ProcessTree] = []
    done = threading.Event()
    served = (standin_zygote, analyzer_zygote, engine_zygote)
    zygotes = [ProcessTree(z.pid) for z in served if z is not None]

    def watch(pid: int) -> None:
        tree = ProcessTree(pid)
        trees.append(tree)
        while not done.wait(0.02):
            tree.scan()
            for zygote in zygotes:
                zygote.scan()

    request = OperationRequest(
        kind=OperationKind.PREVIEW,
        stack_name="child-env",
        config={"name": ConfigValue("child-env")},
        policy_packs=[TEST_PACK],
    )
    watcher: list[threading.Thread] = []

    def started(pid: int) -> None:
        watcher.append(threading.Thread(target=watch, args=(pid,), daemon=True))
        watcher[0].start()

    try:
        result = run_operation(settings, request, on_started=started, program=PROGRAM)
    finally:
        done.set()
        for thread in watcher:
            thread.join()
    assert result.succeeded, result.error

    (tree,) = trees
    # The provider and the analyzer the launchers had the zygotes fork; and the engine child with all it
    # started (the CLI, the plugins' launchers).
    forked = ProcessTree(0)
    for zygote in zygotes:
        children = zygote.without_root()
        for table, kept in (
            (children.environments, forked.environments),
            (children.niceness, forked.niceness),
            (children.sessions, forked.sessions),
        ):
            kept.update(table)
    # Every process of the operation, however started.
    engine = ProcessTree(0, environments={**tree.environments, **forked.environments})
    seen = sorted(command for _, command in engine.environments)
    # The runner itself (where the inline program runs; forked, its launcher names it), the CLI, the provider
    # (locally the stand-in, or its launcher) and the policy analyzer.
    for marker in ("service.orchestration.engine_child", "bin/pulumi ", "aws_standin", "pulumi.policy"):
        assert engine.find(marker), f"never saw a process running {marker!r}: {seen}"
    if engine_zygote is not None:
        assert forked.find("tools.engine_zygote"), "never saw the engine zygote fork the engine child"
    if standin_zygote is not None:
        assert forked.find("tools.aws_standin.zygote"), "never saw the stand-in zygote fork a provider"
    if analyzer_zygote is not None:
        assert forked.find("tools.policy_shim.analyzer"), "never saw the analyzer zygote fork an analyzer"

    assert leaks((f"{pid} {command}", env) for (pid, command), env in engine.environments.items()) == []
    (variable,) = POLICY_PACK_SETTINGS
    assert all(env[variable] == "11" for env in engine.find("pulumi.policy"))
    # The passphrase is where the CLI reads it, in every process (the CLI hands its environment on) but
    # those forked from a zygote, which show the zygote's.
    passphrase = ENGINE_SECRETS["pulumi_passphrase"][0]
    expected = settings.pulumi_passphrase.get_secret_value()
    started = {key: env for key, env in engine.environments.items() if "tools.zygote.server" not in key[1]}
    assert started and all(env[passphrase] == expected for env in started.values())

    # Deploying must not starve the API: every engine process runs `engine_niceness` below the service.
    own = os.getpriority(os.PRIO_PROCESS, 0)
    wanted = min(19, own + settings.engine_niceness)
    assert settings.engine_niceness > 0
    niceness = {**tree.niceness, **forked.niceness}
    assert niceness and {command: nice for (_, command), nice in niceness.items() if nice != wanted} == {}
    # And in the service's session: where the kernel shares CPU time between sessions first (autogroup), an
    # engine in a session of its own would get as much as the API whatever its niceness.
    own_session = os.getsid(0)
    sessions = {**tree.sessions, **forked.sessions}
    assert sessions and {c: s for (_, c), s in sessions.items() if s != own_session} == {}
