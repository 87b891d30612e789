"""The local AWS's keep-alive handler (tools/local_aws/keep_alive.py): a connection carries request after
request only when each body ended where its Content-Length said; anything else is answered and closed."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from tools.local_aws.aws import LocalAws
from tools.local_aws.keep_alive import KeepAliveRequestHandler, RequestBody


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Echoes the body it read; ``/unread`` answers without reading it."""
    if environ["PATH_INFO"] == "/unread":
        body = b"unread"
    else:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[BaseWSGIServer]:
    served = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveRequestHandler)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()


def raw_exchange(server: BaseWSGIServer, data: bytes) -> bytes:
    """Send ``data`` as is and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_one_connection_carries_requests_and_each_body_ends_at_its_length(server: BaseWSGIServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    answers = []
    for body in (b"first", b"", b"third body"):
        connection.request("POST", "/", body=body)
        response = connection.getresponse()
        answers.append((response.read(), response.getheader("Connection"), response.will_close))
    connection.close()
    assert answers == [(b"first", None, False), (b"", None, False), (b"third body", None, False)]


def test_pipelined_requests_are_not_swallowed_by_the_drain(server: BaseWSGIServer) -> None:
    # The second request is already on the socket while the first is answered: werkzeug's drain after the
    # response must not read it as the first one's leftover body.
    first = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    second = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nde"
    received = raw_exchange(server, first + second)
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert received.endswith(b"de")
    assert b"\r\n\r\nabc" in received


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /unread HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody",  # a body left unread
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # the client asks to close
        b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",  # HTTP/1.0 without keep-alive
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",  # chunked
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",  # a length that is no number
    ],
    ids=["unread-body", "connection-close", "http-1.0", "chunked-body", "bad-length"],
)
def test_a_request_the_handler_cannot_bound_is_answered_and_closed(
    server: BaseWSGIServer, request_bytes: bytes
) -> None:
    received = raw_exchange(server, request_bytes)  # returns only because the server closed the connection
    head = received.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith((b"http/1.1 ", b"http/1.0 "))  # answered (the bad length: the app's 500)
    assert b"connection: close" in head


def test_a_body_is_never_read_past_its_length() -> None:
    import io

    stream = io.BufferedReader(io.BytesIO(b"bodyNEXT REQUEST"))  # type: ignore[arg-type]
    body = RequestBody(stream, 4)
    buffer = bytearray(10)
    assert body.readinto(buffer) == 4
    assert bytes(buffer[:4]) == b"body"
    assert (body.read(), body.readline(), body.read(100), body.remaining) == (b"", b"", b"", 0)
    assert stream.read() == b"NEXT REQUEST"


def test_the_local_aws_keeps_a_clients_connection() -> None:
    import ssl

    with LocalAws() as aws:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", aws.port, timeout=10, context=ssl._create_unverified_context()
        )
        connection.request("GET", "/moto-api/data.json")
        first = connection.getresponse()
        first.read()
        local_port = connection.sock.getsockname()[1]
        connection.request("GET", "/moto-api/data.json")
        second = connection.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200)
        assert not second.will_close
        assert connection.sock.getsockname()[1] == local_port  # the same connection
        connection.close()
