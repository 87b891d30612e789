"""``python -m tools.zygote.server <entry module> <socket>``: one kind of process, imported once, forked.

The engine starts some Python processes afresh for every pass (preview, update, destroy, refresh): the
``aws`` provider plugin (the stand-in, locally) and the policy analyzer. Started afresh, each spends most of
its start-up importing grpc, the Pulumi SDKs, boto3 and its own modules. A zygote does that once: it imports
the entry module (``tools.aws_standin.zygote``, ``tools.policy_shim.analyzer``), calls its ``preload()``,
then listens on a Unix socket. The launcher the engine starts (``tools.zygote.launcher``) connects, hands over
its arguments, environment, working folder and standard streams (SCM_RIGHTS), and the zygote forks a child
that calls the entry module's ``run(argv, cwd)`` with them: each start still gets a process of its own, with
its own gRPC server and state, printing its port on the engine's pipe.

The zygote creates no gRPC object and no thread before it forks (gRPC is not fork-safe once initialised; a
fork copies only the forking thread): it checks it is single-threaded before every fork.

Per launcher connection, both ways, one message per line or byte:
- zygote -> launcher: ``pid <n>`` once forked, then ``exit <code>`` or ``signal <number>`` when the child
  ends; or, instead of all these, ``refused <reason>`` (nothing was forked: the launcher starts its process
  afresh);
- launcher -> zygote: one byte per signal the launcher got (SIGINT, SIGTERM, SIGHUP, SIGQUIT), delivered to
  the child; the connection closing (the launcher gone, even by SIGKILL) kills the child.
The child dies with the zygote (PR_SET_PDEATHSIG), leads a process group of its own, as a plugin the
engine starts does, and takes its launcher's niceness. An entry whose module sets ``JOINS_LAUNCHER_GROUP``
(the engine child's, ``tools.engine_zygote``) has its children join the launcher's process group instead, so
that a signal to that group (a cancel, recovery's SIGKILL) reaches the child and all it starts as it would
reach a process started in the launcher's place. A process may only join a group of its own session: the
zygote refuses a launcher of another session (the launcher then starts its process afresh).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import io
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Protocol, Self, cast

from tools.zygote.launcher import HEADER, RELAYED_SIGNALS

# The process basics (home, locale, time zone, temp folder) the zygote keeps from whoever starts it.
PROCESS_BASICS = ("HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PATH")

# The launcher's request (``launcher.encode_request``): a header (the payload's length) carrying its stdin,
# stdout and stderr, then the payload: NUL-separated fields, the working folder, the niceness, the argument
# count, the arguments, then NAME=value pairs. Of its bytes after that, the signals it relays count; others
# are ignored.
STREAMS = 3
RELAYED = frozenset(RELAYED_SIGNALS)
MAX_REQUEST = 4 << 20
# A connected launcher sends its request at once; one that does not is dropped rather than stall the zygote.
REQUEST_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1
# SO_PEERCRED's answer: the connecting process's pid, uid and gid.
PEER_CREDENTIALS = struct.Struct("3i")


class Refused(Exception):
    """The zygote will not serve this launcher (its reason); nothing was forked."""


@dataclass(frozen=True)
class Request:
    cwd: str
    niceness: int
    argv: list[str]
    env: dict[str, str]


def decode_request(payload: bytes) -> Request:
    fields = [os.fsdecode(f) for f in payload.split(b"\0")]
    count = int(fields[2])
    argv = fields[3 : 3 + count]
    env = dict(item.split("=", 1) for item in fields[3 + count :] if "=" in item)
    return Request(fields[0], int(fields[1]), argv, env)


class Entry(Protocol):
    """What an entry module gives its zygote: ``preload()`` in the zygote, ``run(argv, cwd)`` in each child
    (it may raise SystemExit; returning is exit code 0). It may also set ``JOINS_LAUNCHER_GROUP = True``
    (``joins_launcher_group``)."""

    def preload(self) -> None: ...

    def run(self, argv: list[str], cwd: str) -> None: ...


def load_entry(name: str) -> Entry:
    module: ModuleType = importlib.import_module(name)
    return cast(Entry, module)


def joins_launcher_group(entry: Entry) -> bool:
    """Whether the entry's children join their launcher's process group rather than lead their own."""
    return bool(getattr(entry, "JOINS_LAUNCHER_GROUP", False))


def launcher_group(conn: socket.socket) -> int:
    """The process group of the launcher on ``conn``, for a child to join; Refused unless the launcher is of
    the zygote's session (a process cannot join a group of another session)."""
    pid, _, _ = PEER_CREDENTIALS.unpack(
        conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEER_CREDENTIALS.size)
    )
    try:
        session, group = os.getsid(pid), os.getpgid(pid)
    except ProcessLookupError:
        raise Refused("the launcher is gone") from None
    if session != os.getsid(0):
        raise Refused(f"the launcher is of session {session}, the zygote of {os.getsid(0)}")
    return group


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


@dataclass
class Child:
    pid: int
    pidfd: int
    conn: socket.socket | None


class Zygote:
    def __init__(self, path: Path, entry: Entry, name: str) -> None:
        self.path = path
        self.entry = entry
        self.name = name
        self.joins_launcher_group = joins_launcher_group(entry)
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.children: dict[int, Child] = {}
        self.stopping = False

    def serve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        # Only this user may ask for a process (the socket's folder is private too where it can be).
        old_umask = os.umask(0o177)
        try:
            self.listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        self.listener.listen(64)
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        self.selector.register(wake_read, selectors.EVENT_READ, lambda: os.read(wake_read, 512))
        self._wake = (wake_read, wake_write)
        self.selector.register(0, selectors.EVENT_READ, self._from_starter)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        try:
            while not self.stopping:
                for key, _ in self.selector.select():
                    key.data()
        finally:
            self.listener.close()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            for child in self.children.values():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _from_starter(self) -> None:
        """The zygote's stdin is a pipe its starter holds open (``ZygoteProcess``): at its end the starter is
        gone (killed, say, with no chance to stop it), and so the zygote goes, its children with it."""
        if not os.read(0, 512):
            self.stopping = True

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            header, fds, _, _ = socket.recv_fds(conn, HEADER.size, STREAMS)
        except OSError:
            conn.close()
            return
        try:
            if len(header) != HEADER.size or len(fds) != STREAMS:
                raise ValueError("malformed request header")
            (length,) = HEADER.unpack(header)
            if length > MAX_REQUEST:
                raise ValueError("request too large")
            payload = bytearray()
            while len(payload) < length:
                chunk = conn.recv(length - len(payload))
                if not chunk:
                    raise ValueError("request cut short")
                payload += chunk
            request = decode_request(bytes(payload))
            group = launcher_group(conn) if self.joins_launcher_group else None
            self._fork(conn, request, fds, group)
        except Refused as exc:
            with contextlib.suppress(OSError):
                conn.sendall(f"refused {exc}\n".encode())
            conn.close()
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"{self.name} zygote: dropped a request: {exc}\n")
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _fork(self, conn: socket.socket, request: Request, fds: list[int], group: int | None) -> None:
        if thread_count() != 1:
            raise OSError("the zygote is not single-threaded: forking it would copy a broken process")
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._run_child(conn, request, fds, parent, group)
        conn.settimeout(None)
        pidfd = os.pidfd_open(pid)
        child = Child(pid, pidfd, conn)
        self.children[pid] = child
        conn.sendall(f"pid {pid}\n".encode())
        self.selector.register(conn, selectors.EVENT_READ, lambda: self._from_launcher(child))
        self.selector.register(pidfd, selectors.EVENT_READ, lambda: self._reap(child))

    def _from_launcher(self, child: Child) -> None:
        assert child.conn is not None
        try:
            data = child.conn.recv(64)
        except OSError:
            data = b""
        if not data:
            # The launcher is gone (the engine killed it, or it crashed): so is its child.
            self.selector.unregister(child.conn)
            child.conn.close()
            child.conn = None
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            return
        for signum in data:
            if signum in RELAYED:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)

    def _reap(self, child: Child) -> None:
        _, status = os.waitpid(child.pid, 0)
        self.selector.unregister(child.pidfd)
        os.close(child.pidfd)
        del self.children[child.pid]
        if child.conn is None:
            return
        if os.WIFSIGNALED(status):
            message = f"signal {os.WTERMSIG(status)}\n"
        else:
            message = f"exit {os.waitstatus_to_exitcode(status)}\n"
        with contextlib.suppress(OSError):
            child.conn.sendall(message.encode())
        self.selector.unregister(child.conn)
        child.conn.close()

    def _run_child(
        self, conn: socket.socket, request: Request, fds: list[int], parent: int, group: int | None
    ) -> None:
        """In the forked child: become the launcher's process, run the entry, never return. ``group``: the
        launcher's process group to join (``joins_launcher_group``); None leads a group of its own."""
        code = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:
                os._exit(1)  # the zygote died before the tie was made
            signal.set_wakeup_fd(-1)
            # A fresh interpreter's handlers: SIGINT raises KeyboardInterrupt, SIGTERM ends the process.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            # A process group of its own, as the engine starts a plugin, or its launcher's; in the zygote's
            # session (the service's, so the kernel shares CPU with the service as for the engine's own
            # processes).
            os.setpgid(0, 0 if group is None else group)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, 0, request.niceness)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            conn.close()
            self.listener.close()
            self.selector.close()
            for other in self.children.values():
                os.close(other.pidfd)
                if other.conn is not None:
                    other.conn.close()
            for fd in self._wake:
                os.close(fd)
            os.chdir(request.cwd)
            os.environ.clear()
            os.environ.update(request.env)
            # As ``python -u``: the port line must reach the engine at once.
            sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), write_through=True, errors="backslashreplace"
            )
            self.entry.run(request.argv, request.cwd)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)


class ZygoteProcess:
    """``with ZygoteProcess(entry_module, socket_path) as zygote:`` a zygote process of this interpreter for
    that entry module, ready; stopped (its children with it) on exit. ``pid`` is the zygote's (the benchmark
    adds its CPU)."""

    def __init__(self, entry: str, path: Path, timeout: float = 60.0) -> None:
        self.entry = entry
        self.path = path
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        root = str(Path(__file__).resolve().parents[2])
        # Nothing of the starter's environment but the process basics: a child's environment is its
        # launcher's (the engine's), and the zygote holds no secret for a child to inherit.
        env = {name: os.environ[name] for name in PROCESS_BASICS if name in os.environ}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tools.zygote.server", self.entry, str(self.path)],
            env=env,
            cwd=root,
            # Held open while this handle runs: the zygote ends when it closes, even if the starter is killed.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Its own process group (a Ctrl-C to the terminal's is not for it), in the starter's session.
            process_group=0,
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        selector = selectors.DefaultSelector()
        selector.register(self._proc.stdout, selectors.EVENT_READ)
        ready = b""
        while not ready.endswith(b"\n"):
            if not selector.select(max(0.0, deadline - time.monotonic())):
                self.stop()
                raise RuntimeError(f"the zygote of {self.entry} did not start within {self.timeout}s")
            chunk = os.read(self._proc.stdout.fileno(), 64)
            if not chunk:
                code = self._proc.wait()
                self._proc = None
                raise RuntimeError(f"the zygote of {self.entry} exited with code {code}")
            ready += chunk
        selector.close()
        return self

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"the zygote of {self.entry} is not running")
        return self._proc.pid

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()
        self._proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python -m tools.zygote.server <entry module> <socket path>")
    entry = load_entry(argv[0])
    entry.preload()
    # Objects that live as long as the zygote: kept out of the collector's sweeps, so a child's collections
    # do not write to (and copy) every page it shares with the zygote.
    gc.freeze()
    Zygote(Path(argv[1]), entry, argv[0]).serve()


if __name__ == "__main__":
    main(sys.argv[1:])
