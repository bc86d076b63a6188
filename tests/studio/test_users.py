"""Annotators by name: ``"First Last <email>"`` from Label Studio's users, ids when unknown, and
one warning (not one per audit) when users cannot be read."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from ls_cleanlab.studio import StudioClient, annotator_name, display_name


def test_display_name_uses_what_exists() -> None:
    full = {"id": 4, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    assert display_name(full) == "Ann Lee <ann@example.com>"
    assert display_name({**full, "last_name": ""}) == "Ann <ann@example.com>"
    assert display_name({**full, "first_name": None, "last_name": None}) == "ann@example.com"
    assert display_name({"id": 4, "username": "ann", "email": ""}) == "ann"
    assert display_name({"id": 4}) == "4"


def test_annotator_name_falls_back_to_the_id() -> None:
    names = {4: "Ann Lee <ann@example.com>"}
    assert annotator_name(np.int64(4), names) == "Ann Lee <ann@example.com>"
    assert annotator_name(5, names) == "5" and annotator_name(4, None) == "4"
    assert annotator_name("team-b", names) == "team-b"


class _Forbidden(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"detail": "You do not have permission to perform this action."}'
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def forbidding() -> Iterator[str]:
    """A real HTTP server that refuses every request with 403, as a token without the right to
    list users is refused."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_unreadable_users_leave_ids_and_say_so_once(
    forbidding: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ls_cleanlab.studio.users"):
        with StudioClient(forbidding, "some-token", retries=0) as client:
            assert client.user_names() == {}
            assert client.user_names() == {}
    said = [r.getMessage() for r in caplog.records if r.name == "ls_cleanlab.studio.users"]
    assert len(said) == 1 and "shown by user id" in said[0] and forbidding in said[0]
    assert "some-token" not in said[0]
