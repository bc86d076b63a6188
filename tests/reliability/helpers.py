"""What the reliability probes share: running the CLI in-process, hostile images, and a small
HTTP server that answers by path."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ls_cleanlab import cli

__all__ = ["Answer", "png_1bit", "run_cli", "serving", "traceback_free"]

#: (status, body, headers) for a path, or None for 404.
Answer = Callable[[str, dict[str, str]], tuple[int, bytes, dict[str, str]] | None]


def run_cli(*argv: Any) -> tuple[int, str, str]:
    """``ls-cleanlab`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def traceback_free(stderr: str) -> bool:
    """One ``error:`` and one ``fix:`` line, and no traceback."""
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    fixes = [line for line in lines if line.startswith("fix: ")]
    return len(errors) == 1 and len(fixes) == 1 and "Traceback" not in stderr


def png_1bit(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: a few KB even for a huge declared size (a pixel bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@contextmanager
def serving(answer: Answer) -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    """An HTTP server on a free local port answering GETs with ``answer(path, headers)``;
    yields its URL and the (path, headers) of every request."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            headers = dict(self.headers)
            seen.append((self.path, headers))
            found = answer(self.path, headers) or (404, b"not found", {})
            status, body, extra = found
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
