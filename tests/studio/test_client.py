"""StudioClient without a Label Studio: an unreachable server, the ``since`` of an incremental
fetch. Against a real one: ``test_client_studio.py``."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import pytest

from ls_cleanlab.errors import StudioRequestError, StudioUnreachableError
from ls_cleanlab.studio import StudioClient
from ls_cleanlab.studio.client import _since


def test_unreachable_studio_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with StudioClient(f"http://127.0.0.1:{port}", "key", retries=1) as made:
        with pytest.raises(StudioUnreachableError, match="could not reach Label Studio"):
            made.project(1)


@pytest.mark.parametrize(
    "since, sent",
    [
        ("2026-11-27T22:45:48Z", "2026-11-27T22:45:48.000000Z"),
        ("2025-01-01T00:00:00+02:00", "2024-12-31T22:00:00.000000Z"),
        (datetime(2025, 1, 1, 12), "2025-01-01T12:00:00.000000Z"),
    ],
    ids=["z", "offset", "naive-datetime"],
)
def test_since_is_sent_in_the_one_form_label_studio_parses(since: Any, sent: str) -> None:
    assert _since(since) == sent


def test_since_must_be_a_time() -> None:
    with pytest.raises(StudioRequestError, match="since must be an ISO 8601 time"):
        _since("yesterday")
