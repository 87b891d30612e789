"""The plugin process the engine starts when a zygote serves its kind (``tools.zygote.server``).

Run as ``python -I -S launcher.py <socket variable> <module> [args]`` by a plugin executable
(``tools/bin/pulumi-resource-aws``, ``tools/policy_shim/pulumi-analyzer-policy-python``; standard library
only, no site: it stays cheap). It connects to the zygote's socket, named by the environment variable
``<socket variable>`` (set by the service for the local target only), hands over its arguments, environment,
working folder, niceness and standard streams, and waits: the forked child prints its port on the engine's
pipe and logs where the engine reads. SIGINT, SIGTERM, SIGHUP and SIGQUIT to the launcher go on to the child;
the child's exit becomes the launcher's (the same code, or death by the same signal). If the launcher dies,
even by SIGKILL, the zygote sees its connection close and kills the child. With no zygote reachable, or one
that refuses to serve it (``tools.zygote.server``: a child that must join the launcher's process group, asked
from another session), it becomes the process itself (``python -u -m <module> [args]``), as without a
zygote. Either way its process gets the launcher's environment without ``<socket variable>``: that names the
zygote to the launcher, and is nothing of the process's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys

# The request's header: the payload's length (tools.zygote.server reads it).
HEADER = struct.Struct("!I")
RELAYED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def encode_request(cwd: str, niceness: int, argv: list[str], env: dict[str, str]) -> bytes:
    fields = [cwd, str(niceness), str(len(argv)), *argv, *(f"{k}={v}" for k, v in env.items())]
    return b"\0".join(os.fsencode(f) for f in fields)


def run_unserved(module: str, argv: list[str], env: dict[str, str]) -> None:
    """Become the process itself, as the plugin script runs it without a zygote."""
    python = sys.executable
    os.execve(python, [python, "-u", "-m", module, *argv], env)


def connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def serve_through(sock: socket.socket, argv: list[str], env: dict[str, str]) -> int | None:
    """Have the zygote fork its process with this process's streams; its exit status, as a wait status
    (negative: the signal it died of), or None if the zygote refused before forking it."""
    payload = encode_request(os.getcwd(), os.getpriority(os.PRIO_PROCESS, 0), argv, env)
    socket.send_fds(sock, [HEADER.pack(len(payload))], [0, 1, 2])
    sock.sendall(payload)

    def relay(signum: int, _frame: object) -> None:
        # The zygote gone, the wait below ends.
        with contextlib.suppress(OSError):
            sock.send(bytes([signum]))

    for signum in RELAYED_SIGNALS:
        signal.signal(signum, relay)
    received = b""
    while True:
        chunk = sock.recv(256)
        if not chunk:
            sys.stderr.write("zygote launcher: the zygote went away before its child ended\n")
            return 1
        received += chunk
        for line in received.split(b"\n")[:-1]:
            kind, _, value = line.decode().partition(" ")
            if kind == "exit":
                return int(value)
            if kind == "signal":
                return -int(value)
            if kind == "refused":
                sys.stderr.write(f"zygote launcher: the zygote refused ({value}): starting afresh\n")
                return None
        received = received[received.rfind(b"\n") + 1 :]


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: launcher.py <socket variable> <module> [args]")
    variable, module, args = argv[0], argv[1], argv[2:]
    env = dict(os.environ)
    path = env.pop(variable, None)
    sock = connect(path) if path else None
    status = serve_through(sock, args, env) if sock is not None else None
    if status is None:
        run_unserved(module, args, env)
        return
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        status = 128 - status
    os._exit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
