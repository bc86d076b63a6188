"""An in-process backend (FastAPI ``TestClient``) on a fresh data dir, and the payloads a real
Label Studio 1.23.2 sent (``payloads/``, captured by ``capture_payloads.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ls_cleanlab.server import Settings, create_app

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict[str, Any]:
    """The body Label Studio sent (``setup``, ``predict``, ``webhook-ANNOTATION_CREATED`` ...)."""
    return dict(json.loads((PAYLOADS / f"{name}.json").read_text())["body"] or {})


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    made: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        values = {"data_dir": tmp_path / "data", "register_webhooks": False, **settings}
        client = TestClient(create_app(Settings(**values)))
        client.__enter__()
        made.append(client)
        return client

    yield make
    for client in made:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
