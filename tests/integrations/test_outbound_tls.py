"""Outbound ticket and chat clients verify the receiver's TLS certificate: one shared TLS context per
process (service/integrations/ticketing_client.py, ``verified_tls``) still refuses a certificate no trusted
CA signed, and sends nothing to it."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.errors import DeliveryError
from service.integrations.chat import HttpChatClient
from service.integrations.ticketing_client import GenericTicketingClient, JiraTicketingClient
from tests.support.http import serve_in_background
from tools.local_aws.tls import write_self_signed


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTPS server on 127.0.0.1 whose certificate signs itself; it records the path of every POST."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.path)
            self.send_response(201)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            return None

    files = write_self_signed(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve_in_background(server)
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


SENDS: dict[str, Callable[[str], object]] = {
    "chat": lambda url: HttpChatClient(timeout=5).post_message(f"{url}/hook", {"text": "hi"}),
    "generic ticketing": lambda url: GenericTicketingClient(f"{url}/tickets", timeout=5).post_comment(
        "SEC-1", "hi"
    ),
    "jira": lambda url: JiraTicketingClient(url, token="t", timeout=5).post_comment("SEC-1", "hi"),
}


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
def test_a_receiver_without_a_trusted_certificate_gets_nothing(
    self_signed_server: tuple[str, list[str]], send: Callable[[str], object]
) -> None:
    url, received = self_signed_server
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        send(url)
    assert received == []
