"""The ``aws`` provider plugin the engine starts when a stand-in zygote serves (``tools.aws_standin.zygote``).

Run as ``python -I -S launcher.py <engine address> [flags]`` by ``tools/bin/pulumi-resource-aws`` (standard
library only, no site: it stays cheap). It connects to the zygote's socket (``FORENSICS_STANDIN_ZYGOTE``,
set by the service for the local target only), hands over its arguments, environment, working folder,
niceness and standard streams, and waits: the forked child prints the port on the engine's pipe and logs
where the engine reads. SIGINT, SIGTERM, SIGHUP and SIGQUIT to the launcher go on to the child; the child's
exit becomes the launcher's (the same code, or death by the same signal). If the launcher dies, even by
SIGKILL, the zygote sees its connection close and kills the child. With no zygote reachable it becomes the
stand-in itself (``python -u -m tools.aws_standin``), as without a zygote.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys

ZYGOTE_VARIABLE = "FORENSICS_STANDIN_ZYGOTE"
# The request's header: the payload's length (tools.aws_standin.zygote reads it).
HEADER = struct.Struct("!I")
RELAYED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def encode_request(cwd: str, niceness: int, argv: list[str], env: dict[str, str]) -> bytes:
    fields = [cwd, str(niceness), str(len(argv)), *argv, *(f"{k}={v}" for k, v in env.items())]
    return b"\0".join(os.fsencode(f) for f in fields)


def run_standin(argv: list[str]) -> None:
    """Become the stand-in itself, as the plugin script runs it without a zygote."""
    python = sys.executable
    os.execv(python, [python, "-u", "-m", "tools.aws_standin", *argv])


def connect(path: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def serve_through(sock: socket.socket, argv: list[str]) -> int:
    """Have the zygote fork the stand-in with this process's streams; its exit status, as a wait status
    (negative: the signal it died of)."""
    payload = encode_request(os.getcwd(), os.getpriority(os.PRIO_PROCESS, 0), argv, dict(os.environ))
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
            sys.stderr.write("aws stand-in: the zygote went away before the provider ended\n")
            return 1
        received += chunk
        for line in received.split(b"\n")[:-1]:
            kind, _, value = line.decode().partition(" ")
            if kind == "exit":
                return int(value)
            if kind == "signal":
                return -int(value)
        received = received[received.rfind(b"\n") + 1 :]


def main(argv: list[str]) -> None:
    path = os.environ.get(ZYGOTE_VARIABLE)
    sock = connect(path) if path else None
    if sock is None:
        run_standin(argv)
        return
    status = serve_through(sock, argv)
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        status = 128 - status
    os._exit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
