"""A forwarding HTTP proxy for the tests that cut Label Studio off mid-request: it forwards every
request to the real server, and on the first one that ``match`` es it either forwards that
request, calls ``on_cut`` (which kills the real server) after ``delay`` seconds, drops the
connection without an answer and stops listening, as a dead server would; or, with
``refuse``, answers it with that status itself (Label Studio refusing one request) and goes on."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Cut", "cutting_proxy"]

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class Cut:
    """What the proxy saw: every request line, and whether it cut."""

    def __init__(self, match: Callable[[str, str], bool], on_cut: Callable[[], None] | None,
                 delay: float, refuse: int | None) -> None:  # fmt: skip
        self.match = match
        self.on_cut = on_cut
        self.delay = delay
        self.refuse = refuse
        self.seen: list[str] = []
        self.cut = threading.Event()
        self.server: ThreadingHTTPServer | None = None


def _handler(upstream: str, cut: Cut) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            method, path = self.command, self.path
            if cut.cut.is_set():  # a request on a connection opened before the cut
                self.close_connection = True
                return
            cut.seen.append(f"{method} {path}")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            if cut.refuse is not None and cut.match(method, path):
                detail = b'{"detail": "refused by the test proxy"}'
                self.send_response(cut.refuse)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(detail)))
                self.end_headers()
                self.wfile.write(detail)
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=600)
            connection.request(method, path, body=body, headers=headers)
            if cut.on_cut is not None and cut.match(method, path):
                cut.cut.set()
                time.sleep(cut.delay)  # the server is working on it
                cut.on_cut()
                connection.close()
                self.close_connection = True
                threading.Thread(target=_stop, args=(cut,), daemon=True).start()
                return
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

    return Forward


def _stop(cut: Cut) -> None:
    if cut.server is not None:
        cut.server.shutdown()
        cut.server.server_close()  # new connections are refused from now on


@contextmanager
def cutting_proxy(
    upstream: str, match: Callable[[str, str], bool], on_cut: Callable[[], None] | None = None,
    delay: float = 0.5, refuse: int | None = None,
) -> Iterator[tuple[str, Cut]]:  # fmt: skip
    """A proxy to ``upstream`` on a free local port, as ``(url, cut)``, until the block ends."""
    cut = Cut(match, on_cut, delay, refuse)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, cut))
    server.daemon_threads = True
    cut.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", cut
    finally:
        if not cut.cut.is_set():
            server.shutdown()
            server.server_close()
