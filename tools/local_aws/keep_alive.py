"""HTTP keep-alive for the local AWS's listeners: one TLS connection carries a client's requests, as AWS's do.

Werkzeug's development server, which moto's server runs on, answers every request with ``Connection: close``:
its handler cannot tell where a request's body ends, so it reads whatever the socket holds after the response
and could swallow the next request. Every AWS call then paid a new TCP connection, TLS handshake and server
thread (boto3, the stand-in provider and the Pulumi CLI all keep connections alive; the server refused). A
gated ``up`` makes about 240 requests; the handshakes and connection set-ups were about a third of the local
AWS's CPU, and a share of each client's.

``KeepAliveRequestHandler`` bounds the request's body by its ``Content-Length``, so neither the application
nor werkzeug's drain after the response can read past it, and keeps the connection open only when that body
was read to its end and the client asked for nothing else; otherwise (a chunked body, a body left unread, an
HTTP/1.0 client, ``Connection: close``, a malformed request) it answers and closes exactly as werkzeug does.
An idle connection is closed after ``IDLE_SECONDS`` (AWS closes idle connections too; clients open a new one).
The handler writes no access-log line per request (``log_request``): nothing reads the server's output.
"""

from __future__ import annotations

import io
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler

# How long a kept-alive connection may wait for its next request (S3 closes idle connections after ~20 s).
IDLE_SECONDS = 30.0


class RequestBody:
    """The request's body on the connection's stream: at most ``length`` bytes are ever read from it."""

    def __init__(self, stream: io.BufferedIOBase, length: int) -> None:
        self._stream = stream
        self.remaining = length

    def _allowed(self, size: int | None) -> int:
        return self.remaining if size is None or size < 0 else min(size, self.remaining)

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(self._allowed(size)) if self.remaining else b""
        self.remaining -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline(self._allowed(size)) if self.remaining else b""
        self.remaining -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._allowed(len(buffer))]
        count = self._stream.readinto(view) if len(view) else 0
        self.remaining -= count or 0
        return count or 0


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, keeping the connection open between requests whose bodies were read whole."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # socketserver sets it on the connection: an idle one is closed after it

    def setup(self) -> None:
        super().setup()
        self._connection_stream = self.rfile
        self._body: RequestBody | None = None

    def handle_one_request(self) -> None:
        # Each request line is read from the connection itself; the last request's body bound is dropped.
        self.rfile = self._connection_stream
        self._body = None
        super().handle_one_request()

    def make_environ(self) -> dict[str, Any]:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length >= 0:
                # wsgi.input is made from self.rfile: the application reads the body through the bound too.
                self._body = RequestBody(self._connection_stream, length)
                self.rfile = self._body  # type: ignore[assignment]
        return super().make_environ()

    def send_header(self, keyword: str, value: str) -> None:
        # Werkzeug sends "Connection: close" with every response; it is left out (and the connection kept)
        # only when the next byte on the connection is the next request's.
        if keyword.lower() == "connection" and value.lower() == "close" and self._reusable():
            return
        super().send_header(keyword, value)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log line per request: LocalAws sends the server's output to /dev/null, and making the
        line (request line, colours, date, the logging lock) was ~8% of the server's profile samples while
        it served an engine test. Errors are still logged (``log_error``)."""

    def _reusable(self) -> bool:
        return self._body is not None and self._body.remaining == 0 and not self.close_connection


def install() -> None:
    """Serve moto's listener with ``KeepAliveRequestHandler`` (``moto.server.main`` passes the handler it
    names to werkzeug)."""
    import moto.server

    moto.server.MotoRequestHandler = KeepAliveRequestHandler  # type: ignore[attr-defined]
