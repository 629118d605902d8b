"""Loopback web servers on any 127.x address for the link tests, and the routes an attacker would serve."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.support.bot_fixtures import AudioServer


@dataclass
class HostServer(AudioServer):
    """An AudioServer on ``host``; 127.0.0.2 stands in for an internal address (Linux routes 127/8 to loopback)."""

    host: str = "127.0.0.1"
    hung_up: dict[str, threading.Event] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{urllib.parse.quote(path)}"

    def text(self, path: str, body: str, content_type: str) -> str:
        return self.file(path, body.encode(), content_type)

    def status(self, path: str, code: int) -> str:
        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(code)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = send
        return self.url(path)

    def drip(self, path: str, pause_s: float, content_type: str = "text/html", limit_s: float = 60.0) -> str:
        """A page that sends one byte every ``pause_s`` (for ``limit_s``), with no declared length;
        ``hung_up[path]`` is set when the client drops the connection before the end."""
        hung_up = self.hung_up[path] = threading.Event()

        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.end_headers()
            started = time.monotonic()
            try:
                while time.monotonic() - started < limit_s:
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                    time.sleep(pause_s)
            except (BrokenPipeError, ConnectionResetError):
                hung_up.set()

        self.routes[path] = send
        return self.url(path)

    def endless(self, path: str, stop_bytes: int, content_type: str = "text/html") -> str:
        """A page that never ends (it stops after ``stop_bytes`` so a failing test still ends)."""
        chunk = b"<p>" + b"la " * 20_000 + b"</p>\n"

        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.end_headers()
            handler.wfile.write(b"<html><body>")
            for _ in range(stop_bytes // len(chunk)):
                handler.wfile.write(chunk)

        self.routes[path] = send
        return self.url(path)

    def slow_redirects(self, path: str, hops: int, pause_s: float, final: str) -> str:
        """``path`` redirects through ``hops`` pages, each waiting ``pause_s`` before answering, to ``final``."""
        for hop in range(hops):
            here = path if hop == 0 else f"{path}/{hop}"
            target = self.url(f"{path}/{hop + 1}") if hop + 1 < hops else final

            def send(handler: http.server.BaseHTTPRequestHandler, target: str = target) -> None:
                time.sleep(pause_s)
                handler.send_response(302)
                handler.send_header("Location", target)
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            self.routes[here] = send
        return self.url(path)


@contextmanager
def serve(host: str) -> Iterator[HostServer]:
    state = HostServer(host=host)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            state.requests.append(urllib.parse.unquote(self.path))
            route = state.routes.get(urllib.parse.unquote(self.path.split("?", 1)[0]))
            if route is None:
                self.send_error(404)
                return
            try:
                route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up on purpose (size or time cap)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def public() -> Iterator[HostServer]:
    """A server on 127.0.0.1, the one address ``link_policy`` allows."""
    with serve("127.0.0.1") as server:
        yield server


@pytest.fixture
def internal() -> Iterator[HostServer]:
    """A server on 127.0.0.2, standing in for an internal address."""
    with serve("127.0.0.2") as server:
        yield server
