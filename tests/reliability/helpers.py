"""What the reliability probes share: running the CLI in-process, hostile images, and a small
HTTP server that answers by path."""

from __future__ import annotations

import io
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ls_cleanlab import cli

__all__ = [
    "Answer",
    "Backend",
    "backend_env",
    "free_port",
    "png_1bit",
    "run_cli",
    "serving",
    "traceback_free",
    "wait_for",
]

ROOT = Path(__file__).resolve().parents[2]

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """``check()``'s first truthy answer, polled every ``every`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def backend_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A backend process's environment: none of ours from this one, then ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LABEL_STUDIO", "LS_CLEAN", "BASIC_AUTH"))}  # fmt: skip
    return {**env, "LS_CLEANLAB_DATA_DIR": str(data_dir), "LS_CLEANLAB_REGISTER_WEBHOOKS": "false",
            "LOG_LEVEL": "INFO", "OPENBLAS_NUM_THREADS": "1", **extra}  # fmt: skip


class Backend:
    """``ls-cleanlab serve`` as a process on one port and data dir, started, killed (SIGKILL, as
    a crash or an OOM kill would) and started again; its output goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.env = env
        self.log = log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, auth: tuple[str, str] | None = None) -> Backend:
        import requests

        command = [str(Path(sys.executable).parent / "ls-cleanlab"), "serve", "--host",
                   "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT)  # fmt: skip

        def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, self.text()[-3000:]
            try:
                return requests.get(f"{self.url}/health", timeout=1, auth=auth).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, 90, "the backend to start", every=0.25)
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
