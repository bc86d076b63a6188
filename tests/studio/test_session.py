"""The HTTP layer without Label Studio: key kinds, bad arguments, and retries against a small
local server that fails on purpose (Label Studio itself is in tests/studio/)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ls_cleanlab.errors import StudioAuthError, StudioRequestError, StudioUnreachableError
from ls_cleanlab.studio.session import StudioSession, is_personal_token

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"


@pytest.mark.parametrize(
    "key, personal",
    [
        (JWT, True),
        ("0123456789abcdef0123456789abcdef01234567", False),
        ("a.b.c", False),
        ("e30.e30.sig", False),  # valid base64 JSON without "alg"
    ],
    ids=["jwt", "legacy", "three-parts-not-base64-json", "jwt-shape-without-alg"],
)
def test_token_kind(key: str, personal: bool) -> None:
    assert is_personal_token(key) is personal


@pytest.mark.parametrize(
    "url, key, error, match",
    [
        ("localhost:8080", "k", StudioRequestError, "must start with http"),
        ("http://localhost:8080", "", StudioAuthError, "no Label Studio API key"),
        ("http://localhost:8080", "  ", StudioAuthError, "LABEL_STUDIO_API_KEY"),
    ],
    ids=["no-scheme", "empty-key", "blank-key"],
)
def test_bad_url_or_key(url: str, key: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        StudioSession(url, key)


def test_the_key_never_shows() -> None:
    session = StudioSession("http://localhost:8080/", "secret-legacy-key")
    assert "secret" not in repr(session)
    assert session.url == "http://localhost:8080"
    assert (
        repr(StudioSession("http://h", JWT)) == "StudioSession('http://h', personal access token)"
    )


def test_auth_headers_for_a_legacy_key() -> None:
    session = StudioSession("http://localhost:8080", "legacy-key")
    assert session.auth_headers() == {"Authorization": "Token legacy-key"}
    assert session.auth_headers(refresh=True) == {"Authorization": "Token legacy-key"}


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then 200 with the request count."""

    failures = 2
    seen: list[str]

    def _reply(self) -> None:
        self.seen.append(f"{self.command} {self.headers.get('Authorization')}")
        if len(self.seen) <= self.failures:
            self.send_response(503)
            self.end_headers()
            return
        data = json.dumps({"count": len(self.seen)}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _reply
    do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Flaky,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_get_is_retried_after_5xx(flaky: tuple[str, list[str]]) -> None:
    url, seen = flaky
    session = StudioSession(url, "legacy-key", retries=2, backoff=0.01)
    assert session.json("GET", "/api/x") == {"count": 3}
    assert seen == ["GET Token legacy-key"] * 3


def test_get_gives_up_after_the_retries(flaky: tuple[str, list[str]]) -> None:
    url, seen = flaky
    session = StudioSession(url, "legacy-key", retries=1, backoff=0.01)
    with pytest.raises(StudioUnreachableError, match=r"503 \(retried 1 times\)"):
        session.json("GET", "/api/x")
    assert len(seen) == 2


def test_post_is_not_repeated_after_5xx(flaky: tuple[str, list[str]]) -> None:
    url, seen = flaky
    session = StudioSession(url, "legacy-key", retries=3, backoff=0.01)
    with pytest.raises(StudioUnreachableError, match="failed on POST /api/x with 503: "):
        session.json("POST", "/api/x", json=[1])
    assert len(seen) == 1
