"""Fixtures for the bot's tests: a loopback HTTP server serving audio, and the links policy for it."""

from __future__ import annotations

import http.server
import io
import ipaddress
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import soundfile as sf

from bot.links import LinkPolicy
from tests.conftest import tone

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


def wav_bytes(freq: float = 440.0, seconds: float = 3.0, sr: int = 22050) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(freq, seconds, sr), sr, format="WAV")
    return buffer.getvalue()


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class AudioServer:
    """A loopback web server; ``routes`` maps a path to a handler, ``requests`` logs what was asked."""

    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{urllib.parse.quote(path)}"

    def file(self, path: str, body: bytes, content_type: str = "audio/wav", *, length: bool = True) -> str:
        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            if length:
                handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.routes[path] = send
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(302)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = send
        return self.url(path)

    def trickle(self, path: str, body: bytes, pause_s: float) -> str:
        """Declare the whole body, then send it a little at a time (a server too slow to wait for)."""

        def send(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "audio/wav")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for start in range(0, len(body), 4096):
                handler.wfile.write(body[start : start + 4096])
                handler.wfile.flush()
                time.sleep(pause_s)

        self.routes[path] = send
        return self.url(path)


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    server_state = AudioServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # close-delimited bodies, so a response may omit its length

        def do_GET(self) -> None:
            server_state.requests.append(urllib.parse.unquote(self.path))
            route = server_state.routes.get(urllib.parse.unquote(self.path.split("?", 1)[0]))
            if route is None:
                self.send_error(404)
                return
            try:
                route(self)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up on purpose (size or time cap)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()


@pytest.fixture
def link_policy(tmp_path: Path) -> LinkPolicy:
    """Loopback allowed (the test server lives there), nothing else internal; temp files in tmp_path."""
    temp_root = tmp_path / "link-temp"
    temp_root.mkdir()
    return LinkPolicy(max_bytes=2_000_000, max_duration_s=600, timeout_s=10,
                      allowed_internal_networks=LOOPBACK, temp_root=temp_root)
