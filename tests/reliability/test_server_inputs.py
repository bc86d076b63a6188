"""Bad requests to the ML backend, one probe per check, each answered with its status and the
``{"error", "detail"}`` body naming the problem; oversized bodies refused with 413 whatever
their framing, over real HTTP (uvicorn) too; concurrent training requests make one job."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi.testclient import TestClient

from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER
from tests.server.conftest import payload

LIMIT = 4096
SETUP = payload("setup")
PREDICT = payload("predict")
HUGE = "x" * (LIMIT + 1)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, register_webhooks=False, max_body_bytes=LIMIT,
                        max_predict_tasks=3)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client


Probe = tuple[str, str, Any, int, str]
#: name -> (method, path, JSON body or raw bytes, status, a piece of the error or detail)
PROBES: dict[str, Probe] = {
    "not-json": ("POST", "/setup", b"{not json", 400, "malformed JSON"),
    "setup-no-project": ("POST", "/setup", {k: v for k, v in SETUP.items() if k != "project"},
                         422, "project"),
    "setup-bad-project": ("POST", "/setup", {**SETUP, "project": "twelve"}, 422, "project"),
    "setup-config-not-xml": ("POST", "/setup", {**SETUP, "schema": "<View"}, 422,
                             "unsupported label config"),
    "setup-config-no-choices": ("POST", "/setup",
                                {**SETUP, "schema": '<View><Text name="t" value="$t"/></View>'},
                                422, "unsupported label config"),
    "setup-hostname-not-http": ("POST", "/setup", {**SETUP, "hostname": "ftp://x"}, 422,
                                "hostname"),
    "setup-token-too-long": ("POST", "/setup", {**SETUP, "access_token": "k" * 2001}, 422,
                             "access_token"),
    "predict-tasks-not-a-list": ("POST", "/predict", {**PREDICT, "tasks": {}}, 422, "tasks"),
    "predict-task-without-id": ("POST", "/predict", {**PREDICT, "tasks": [{"data": {}}]}, 422,
                                "needs an integer 'id'"),
    "predict-data-not-object": ("POST", "/predict", {**PREDICT, "tasks": [{"id": 1, "data": 3}]},
                                422, "data must be an object"),
    "predict-too-many-tasks": ("POST", "/predict",
                               {**PREDICT, "tasks": [{"id": i, "data": {}} for i in range(4)]},
                               413, "LS_CLEANLAB_MAX_PREDICT_TASKS"),
    "predict-empty-config": ("POST", "/predict", {**PREDICT, "label_config": ""}, 422,
                             "label_config"),
    "predict-bad-project": ("POST", "/predict", {**PREDICT, "project": "p.1"}, 422, "project"),
    "webhook-no-action": ("POST", "/webhook", {"project": {"id": 1}}, 422, "action"),
    "webhook-unsigned": ("POST", "/webhook", {"action": "ANNOTATION_CREATED",
                                              "project": {"id": 1}}, 401, "unsigned webhook"),
    "webhook-bad-project": ("POST", "/webhook", {"action": "START_TRAINING",
                                                 "project": {"id": "one"}}, 422, "project.id"),
    "jobs-project-zero": ("POST", "/jobs", {"project": 0}, 422, "project"),
    "jobs-unknown-kind": ("POST", "/jobs", {"project": 1, "kind": "explode"}, 422, "kind"),
    "jobs-id-not-a-number": ("GET", "/jobs/abc", None, 422, "job_id"),
    "jobs-unknown-id": ("GET", "/jobs/999", None, 404, "no job 999"),
    "jobs-bad-project-filter": ("GET", "/jobs?project=-3", None, 422, "project"),
    "unknown-path": ("GET", "/nowhere", None, 404, "Not Found"),
    "wrong-method": ("DELETE", "/health", None, 405, "Method Not Allowed"),
    "declared-too-large": ("POST", "/setup", {**SETUP, "schema": HUGE}, 413,
                           "LS_CLEANLAB_MAX_BODY_BYTES"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(PROBES))
def test_bad_request(name: str, api: TestClient) -> None:
    method, path, body, status, said = PROBES[name]
    if isinstance(body, bytes):
        answer = api.request(method, path, content=body,
                             headers={"content-type": "application/json"})  # fmt: skip
    else:
        answer = api.request(method, path, json=body)
    assert answer.status_code == status, answer.text
    found = answer.json()
    assert set(found) == {"error", "detail"}, found
    assert said in json.dumps(found), found
    assert "Traceback" not in answer.text


def test_basic_auth_refusals(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, register_webhooks=False, basic_auth_user="u",
                        basic_auth_pass="long-enough-pass")  # fmt: skip
    with TestClient(create_app(settings)) as api:
        for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}):
            answer = api.get("/health", headers=headers)
            assert answer.status_code == 401 and set(answer.json()) == {"error", "detail"}
        answer = api.post("/webhook", json={"action": "START_TRAINING", "project": {"id": 1}},
                          headers={SECRET_HEADER: "wrong"})  # fmt: skip
        assert answer.status_code == 401 and answer.json()["error"] == "unsigned webhook"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app behind uvicorn in a thread: real HTTP framing (chunked bodies, early answers)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("served"), register_webhooks=False,
                        max_body_bytes=LIMIT)  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("path", ["/setup", "/predict", "/webhook", "/jobs"])
def test_oversized_bodies_whatever_their_framing(served: str, path: str) -> None:
    headers = {"Content-Type": "application/json"}
    declared = requests.post(served + path, data=b"x" * (LIMIT + 1), headers=headers, timeout=30)
    chunked = requests.post(served + path, data=_chunks(LIMIT * 3), headers=headers, timeout=30)
    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        assert answer.json() == {
            "error": "request body too large",
            "detail": f"the limit is {LIMIT} bytes (LS_CLEANLAB_MAX_BODY_BYTES)",
        }
    # a chunked body under the limit is read whole
    small = requests.post(served + "/jobs", data=_chunks(20, 7), headers=headers, timeout=30)
    assert small.status_code == 400 and small.json()["error"] == "malformed JSON"


def test_a_body_that_never_ends_is_cut_off(served: str) -> None:
    """A client announcing 1 GB gets 413 at once, without sending it."""
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000000\r\n\r\n{")  # fmt: skip
        answer = b""
        while not answer.endswith(b"}") and (chunk := sock.recv(4096)):  # headers, then body
            answer += chunk
    text = answer.decode()
    assert text.startswith("HTTP/1.1 413") and "LS_CLEANLAB_MAX_BODY_BYTES" in text


def test_concurrent_training_requests_make_one_job(api: TestClient) -> None:
    """With the worker busy elsewhere, 40 concurrent "Start training" webhooks and ``POST
    /jobs`` for one project all get the same job (the real backend does the same while the job
    runs: tests/reliability/test_backend_studio.py)."""
    api.app.state.backend.jobs.stop()  # type: ignore[attr-defined]
    body = {"action": "START_TRAINING", "project": {"id": 7}}

    def start(i: int) -> int:
        if i % 2:
            return int(api.post("/webhook", json=body).json()["job"])
        return int(api.post("/jobs", json={"project": 7}).json()["id"])

    with ThreadPoolExecutor(16) as pool:
        ids = set(pool.map(start, range(40)))
    assert len(ids) == 1
    assert len(api.get("/jobs", params={"project": 7}).json()["jobs"]) == 1
