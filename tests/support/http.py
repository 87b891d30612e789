"""A real HTTP server on 127.0.0.1 standing in for a ticketing system or a Slack response_url."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# How often a server's loop looks for a stop request: shutdown() waits for that look, so stopping a server
# takes up to this long (the library's default of 0.5 s made every test with one of these servers wait).
POLL_SECONDS = 0.02


def serve_in_background(server: ThreadingHTTPServer) -> None:
    """Runs ``server`` on a daemon thread until ``server.shutdown()``."""
    threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class RecordingServer:
    """A real HTTP server on 127.0.0.1 (free port) that records every POST and fails the first N with 503."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> RecordingServer:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"raw": raw.decode("latin-1")}
                with recorder._lock:
                    failing = recorder.fail_first > 0
                    if failing:
                        recorder.fail_first -= 1
                    status = 503 if failing else 201
                    recorder.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, status)
                    )
                payload = b'{"error":"down"}' if failing else b'{"ok":true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                # The outbox looks a comment up before re-posting it (Jira's comment list): it keeps none.
                payload = b'{"startAt":0,"maxResults":100,"total":0,"comments":[]}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_background(self._server)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def delivered(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status < 300]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.delivered()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"not received in time; got {[r.body for r in got]}")
            time.sleep(0.05)


@dataclass
class JiraStandIn:
    """A real HTTP server on 127.0.0.1 that answers like Jira's comment API and, like Jira, ignores
    ``Idempotency-Key``: every POST that reaches it is a new comment. ``down`` answers 503 without storing;
    ``lose_responses`` stores that many comments and then drops the connection without an answer (the
    sender cannot know it arrived). GET .../comment?expand=properties pages through a ticket's comments."""

    down: bool = False
    lose_responses: int = 0
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posts: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 10000

    def start(self) -> JiraStandIn:
        jira = self

        class Handler(BaseHTTPRequestHandler):
            def _ticket(self) -> str | None:
                parts = self.path.split("?")[0].split("/")
                if len(parts) == 7 and parts[1:5] == ["rest", "api", "2", "issue"] and parts[6] == "comment":
                    return parts[5]
                return None

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ticket = self._ticket()
                if ticket is None:
                    return self._answer(404, {"errorMessages": ["no such resource"]})
                with jira._lock:
                    jira.posts += 1
                    if jira.down:
                        return self._answer(503, {"errorMessages": ["down for maintenance"]})
                    body = json.loads(raw)
                    jira._next_id += 1
                    comment = {
                        "id": str(jira._next_id),
                        "body": body["body"],
                        "properties": body.get("properties", []),
                    }
                    jira.comments.setdefault(ticket, []).append(comment)
                    lose = jira.lose_responses > 0
                    if lose:
                        jira.lose_responses -= 1
                if lose:
                    self.close_connection = True  # stored, but the sender never hears of it
                    return None
                return self._answer(201, {"id": comment["id"], "body": comment["body"]})

            def do_GET(self) -> None:
                from urllib.parse import parse_qs

                ticket = self._ticket()
                if ticket is None:
                    return self._answer(404, {"errorMessages": ["no such resource"]})
                query = parse_qs(self.path.partition("?")[2])
                with jira._lock:
                    if jira.down:
                        return self._answer(503, {"errorMessages": ["down for maintenance"]})
                    everything = list(jira.comments.get(ticket, []))
                if query.get("orderBy", [""])[0] == "-created":
                    everything.reverse()
                start = int(query.get("startAt", ["0"])[0])
                size = int(query.get("maxResults", ["50"])[0])
                with_properties = "properties" in query.get("expand", [""])[0]
                page = [
                    {k: v for k, v in c.items() if with_properties or k != "properties"}
                    for c in everything[start : start + size]
                ]
                return self._answer(
                    200, {"startAt": start, "maxResults": size, "total": len(everything), "comments": page}
                )

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve_in_background(self._server)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def texts(self, ticket: str) -> list[str]:
        with self._lock:
            return [c["body"] for c in self.comments.get(ticket, [])]
