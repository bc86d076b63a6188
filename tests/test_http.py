"""The parts of the HTTP layer that need no server (the rest runs in tests/studio/)."""

from __future__ import annotations

import pytest

from ls_cleanlab._http import StudioSession, is_personal_token
from ls_cleanlab.errors import StudioAuthError, StudioRequestError

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
