"""The Label Studio URL and key ``/setup`` brings: kept in the data dir with mode 0600, read back
after a restart (a webhook refresh then reaches Label Studio instead of failing for want of a
key), and never shown in a response, a log line or a job row."""

from __future__ import annotations

import io
import logging
import os
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import ls_cleanlab.pipeline.workspace as workspace_module
from ls_cleanlab.pipeline import Workspace
from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER
from ls_cleanlab.server.credentials import Credentials
from ls_cleanlab.server.errors import StudioNotConfiguredError
from tests.server.conftest import payload

TOKEN = "setup-token-d41d8cd98f00b204e9800998ecf8427e"
PROJECT = 1  # the project of the captured payloads


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def setup_body(hostname: str | None, token: str | None = TOKEN) -> dict[str, Any]:
    return {**payload("setup"), "hostname": hostname, "access_token": token}


def credentials_file(api: TestClient) -> Path:
    backend = api.app.state.backend  # type: ignore[attr-defined]
    return Path(Workspace(backend.settings.data_dir).credentials(PROJECT))


def wait_for_job(api: TestClient, kind: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        jobs = api.get("/jobs", params={"project": PROJECT}).json()["jobs"]
        done = [j for j in jobs if j["kind"] == kind and j["state"] in ("done", "failed")]
        if done:
            return dict(done[-1])
        time.sleep(0.05)
    raise AssertionError(f"no {kind} job finished")


def test_setup_keeps_them_in_a_private_file(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: dict[str, int] = {}
    replace = os.replace

    def watched(src: Any, dst: Any) -> None:
        modes[Path(dst).name] = stat.S_IMODE(os.stat(src).st_mode)  # before it gets its name
        replace(src, dst)

    monkeypatch.setattr(workspace_module.os, "replace", watched)
    url = closed_port()
    assert api.post("/setup", json=setup_body(url)).status_code == 200
    path = credentials_file(api)
    assert modes["credentials.json"] == 0o600  # private from birth, not chmod-ed later
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TOKEN in path.read_text() and url in path.read_text()
    before = path.stat().st_mtime_ns
    api.post("/setup", json=setup_body(url))  # Label Studio calls /setup again and again
    assert path.stat().st_mtime_ns == before, "unchanged credentials are not written again"
    api.post("/setup", json=setup_body(None, None))
    assert not path.exists(), "a /setup without credentials forgets them"


def test_a_restarted_backend_refreshes_with_them(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    url = closed_port()
    settings = Settings(data_dir=tmp_path / "data", register_webhooks=False)
    with TestClient(create_app(settings)) as first:
        assert first.post("/setup", json=setup_body(url)).status_code == 200
    # the backend stopped: what it had in memory is gone. An audit had run (its state is what
    # a refresh starts from):
    state = io.BytesIO()
    np.savez(state, task_ids=np.array([1, 2]), probs=np.full((2, 3), 0.5))
    workspace_module.write_atomic(
        Workspace(settings.data_dir).audit_state(PROJECT), state.getvalue()
    )

    again = make_client(debounce_seconds=0.0)
    backend = again.app.state.backend  # type: ignore[attr-defined]
    assert not backend.credentials._known, "nothing is loaded before it is needed"
    secret = {SECRET_HEADER: backend.secret}
    answer = again.post("/webhook", json=payload("webhook-ANNOTATION_CREATED"), headers=secret)
    assert answer.json()["status"] == "queued"
    job = wait_for_job(again, "refresh")
    # it reached for Label Studio at the URL /setup brought (closed here), with its key
    assert job["state"] == "failed" and f"could not reach Label Studio at {url}" in job["reason"]
    found = backend.access(PROJECT)
    assert (found.url, found.key.get_secret_value(), found.from_setup) == (url, TOKEN, True)


def test_without_setup_or_environment_the_refresh_says_what_to_set(
    make_client: Callable[..., TestClient],
) -> None:
    api = make_client(debounce_seconds=0.0)
    backend = api.app.state.backend  # type: ignore[attr-defined]
    backend.store.set_up(PROJECT, "1.2", None, "ls-cleanlab")
    api.post("/webhook", json=payload("webhook-ANNOTATION_CREATED"),
             headers={SECRET_HEADER: backend.secret})  # fmt: skip
    assert "LABEL_STUDIO_API_KEY" in wait_for_job(api, "refresh")["reason"]
    with pytest.raises(StudioNotConfiguredError, match="LABEL_STUDIO_URL"):
        backend.access(PROJECT)


def test_the_environment_wins(make_client: Callable[..., TestClient]) -> None:
    api = make_client(label_studio_url="http://studio:8080", label_studio_api_key="env-key-1")
    api.post("/setup", json=setup_body("http://other:8080"))
    found = api.app.state.backend.access(PROJECT)  # type: ignore[attr-defined]
    shown = (found.url, found.key.get_secret_value(), found.from_setup)
    assert shown == ("http://studio:8080", "env-key-1", False)


def test_a_file_it_did_not_write_is_ignored(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    path = credentials_file(api)
    path.parent.mkdir(parents=True)
    path.write_text('{"hostname": ["not", "a", "url"], "access_token": "leaked-token"}')
    with pytest.raises(StudioNotConfiguredError):
        api.app.state.backend.access(PROJECT)  # type: ignore[attr-defined]
    assert "ignoring" in caplog.text and "leaked-token" not in caplog.text


def test_the_token_never_shows(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = make_client(debounce_seconds=0.0)
    backend = api.app.state.backend  # type: ignore[attr-defined]
    secret = {SECRET_HEADER: backend.secret}
    answers = [
        api.post("/setup", json=setup_body(closed_port())),
        api.post("/predict", json=payload("predict")),
        api.post("/webhook", json=payload("webhook-ANNOTATION_CREATED"), headers=secret),
        api.post("/webhook", json=payload("webhook-START_TRAINING")),
    ]
    wait_for_job(api, "refresh")
    wait_for_job(api, "audit")
    answers += [api.get(p) for p in ("/jobs", "/jobs/1", "/metrics", "/openapi.json", "/health")]
    assert all(a.status_code < 300 for a in answers), [a.text for a in answers]
    for answer in answers:
        assert TOKEN not in answer.text
    assert TOKEN not in caplog.text
    assert "Label Studio" in caplog.text  # the jobs did log their failures
    database = b"".join(p.read_bytes() for p in backend.settings.data_dir.glob("backend.sqlite*"))
    assert TOKEN.encode() not in database
    assert TOKEN not in repr(Credentials("http://x", SecretStr(TOKEN))) and TOKEN not in repr(
        backend.access(PROJECT)
    )
