"""A real HTTP server on a loopback address, in a thread, for the tests of http.request and of
the outbound-address guard: the outside service at the edge of the world (STYLE 14). It
records every request, counts the connections it accepts, and answers from a script."""

import json
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``action``: ``answer``; ``drop`` reads the request and closes the
    connection without a word; ``hang`` answers only once the server is released (stopped);
    ``echo`` answers 200 (or ``status``) with the request as JSON; ``stream`` sends ``size``
    bytes with no Content-Length, until the client stops reading."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"
    size: int = 0

    def payload(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode(), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode(), headers


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "LocalServer"

    def verify_request(self, request: Any, client_address: Any) -> bool:
        with self.owner.lock:
            self.owner.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, a keep-alive client would wait for
    # the delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        with owner.lock:
            owner.requests.append(seen)
            reply = owner.next_reply(parts.path)
        if reply.action == "drop":
            self.close_connection = True
            return
        if reply.action == "hang":
            owner.released.wait(60)
        if reply.action == "stream":
            self._stream(reply)
            return
        if reply.action == "echo":
            data = {"headers": seen.headers, "query": seen.query, "body": body.decode()}
            reply = Reply(status=reply.status, body=data, headers=reply.headers)
        content, headers = reply.payload()
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    def _stream(self, reply: Reply) -> None:
        self.close_connection = True
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"x" * 65536
        owner = self.server.owner
        try:
            while owner.sent < reply.size:
                self.wfile.write(chunk)
                owner.sent += len(chunk)
        except OSError:
            pass  # the client stopped reading and closed: what the test wants to see

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class LocalServer:
    """``with LocalServer() as server: server.reply("/pay", Reply(503), Reply(200, {...}))``.
    Replies for a path are used in order; the last one repeats. Unscripted paths answer 200
    with ``{"ok": true}``."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.scheme = "https" if tls else "http"
        self.lock = threading.Lock()
        self.requests: list[Seen] = []
        self.connections = 0
        self.sent = 0
        self.released = threading.Event()
        self._script: dict[str, deque[Reply]] = {}
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def reply(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self._script[path] = deque(replies)

    def next_reply(self, path: str) -> Reply:
        queue = self._script.get(path)
        if not queue:
            return Reply(200, {"ok": True})
        return queue.popleft() if len(queue) > 1 else queue[0]

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def start(self) -> "LocalServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ConnectSpy:
    """Records every address a socket in this process connects to: the proof that a refused
    address saw no packet from us, where no test server can listen (10.0.0.1)."""

    def __init__(self, monkeypatch: Any) -> None:
        self.addresses: list[str] = []
        real = socket.socket.connect
        spy = self

        def connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple):
                spy.addresses.append(str(address[0]))
            return real(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
