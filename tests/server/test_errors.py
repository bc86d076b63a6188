"""Every kind of error answered as the mapping in ``ls_cleanlab/server/errors.py`` says, with the
JSON error body, from real failures: a closed port, a stand-in Label Studio that refuses the key
or answers HTML, models whose features cannot be made.

``/predict`` is the route that reaches Label Studio while Label Studio waits (media of image
tasks); the other calls to Label Studio's API run in jobs, which record the failure as the job's
reason. To check those errors' answers too, :func:`studio_route` adds a route to the app under
test that calls the API with the project's client, as a job does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from ls_cleanlab.features import DescriptorEmbedder, Extractor, Scaling
from ls_cleanlab.model import ModelStore, train_model
from ls_cleanlab.pipeline import Workspace
from ls_cleanlab.server.deps import BackendDep
from ls_cleanlab.server.errors import DOMAIN_ERRORS
from tests.server.conftest import payload

CLASSES = ("sports", "politics", "tech")
KEY = "stand-in-key-0123456789"
IMAGE_CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="topics" toName="image" '
    'choice="multiple">' + "".join(f'<Choice value="{c}"/>' for c in CLASSES) + "</Choices></View>"
)


def closed_port() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


class StandIn(BaseHTTPRequestHandler):
    """A stand-in Label Studio: 401 to everything, or (``/html``) a 200 page that is not JSON."""

    def do_GET(self) -> None:
        html = self.server.html  # type: ignore[attr-defined]
        body = b"<html>login</html>" if html else b'{"detail": "Invalid token."}'
        self.send_response(200 if html else 401)
        self.send_header("Content-Type", "text/html" if html else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[Callable[[bool], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(html: bool) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
        server.html = html  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def studio_route(api: TestClient) -> None:
    """``GET /test/studio``: the project's Label Studio client asks for project 1."""
    router = APIRouter()

    @router.get("/test/studio")
    def call(backend: BackendDep) -> dict[str, Any]:
        with backend.client(1) as client:
            return client.project(1)

    api.app.include_router(router)  # type: ignore[attr-defined]


def check(answer: Any, status: int, error: str, *in_detail: str) -> dict[str, Any]:
    body = answer.json()
    assert answer.status_code == status, answer.text
    assert set(body) == {"error", "detail"} and body["error"] == error, body
    for part in in_detail:
        assert part in str(body["detail"]), body
    assert "Traceback" not in answer.text and KEY not in answer.text
    return dict(body)


def save_model(api: TestClient, extractor: Extractor, width: int = 6) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, width))
    labels = (rng.random((40, 3)) < 0.5).astype(np.int8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    encoder = Scaling.fit(features, np.ones(40, dtype=bool))
    trained = train_model(encoder.apply(features, np.ones(40, dtype=bool)), labels,
                          class_names=CLASSES, encoder=encoder, extractor=extractor)  # fmt: skip
    settings = api.app.state.backend.settings  # type: ignore[attr-defined]
    ModelStore(Workspace(settings.data_dir).models_dir).save(1, "ls-cleanlab", trained)


def image_predict(n: int = 3) -> dict[str, Any]:
    body = payload("predict")
    body["label_config"] = IMAGE_CONFIG
    body["tasks"] = [{"id": i + 1, "data": {"image": f"/data/upload/1/{i}.png"}} for i in range(n)]
    return body


# -- Label Studio ---------------------------------------------------------------------------------


def test_predict_with_label_studio_unreachable_is_503(
    make_client: Callable[..., TestClient],
) -> None:
    url = closed_port()
    api = make_client(label_studio_url=url, label_studio_api_key=KEY)
    save_model(api, Extractor("image", DescriptorEmbedder.name))
    body = check(api.post("/predict", json=image_predict()), 503, "Label Studio unreachable", url)
    assert "running and reachable" in body["detail"]


def test_predict_with_the_key_refused_is_502(
    make_client: Callable[..., TestClient], stand_in: Callable[[bool], str]
) -> None:
    api = make_client(label_studio_url=stand_in(False), label_studio_api_key=KEY)
    save_model(api, Extractor("image", DescriptorEmbedder.name))
    answer = api.post("/predict", json=image_predict())
    check(answer, 502, "Label Studio refused the key", "HTTP 401", "LABEL_STUDIO_API_KEY")


def test_a_refused_setup_key_says_to_set_a_personal_token(
    api: TestClient, stand_in: Callable[[bool], str]
) -> None:
    setup = {**payload("setup"), "hostname": stand_in(False), "access_token": KEY}
    assert api.post("/setup", json=setup).status_code == 200
    save_model(api, Extractor("image", DescriptorEmbedder.name))
    answer = api.post("/predict", json=image_predict())
    check(answer, 502, "Label Studio refused the key", "legacy token", "personal access token")


def test_predict_that_reads_some_images_answers_200(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    """Only a request where nothing could be read fails: one readable image is enough."""
    from PIL import Image

    (tmp_path / "files").mkdir()
    Image.new("RGB", (32, 32), "red").save(tmp_path / "files" / "ok.png")
    api = make_client(label_studio_url=closed_port(), label_studio_api_key=KEY,
                      local_files_root=str(tmp_path / "files"))  # fmt: skip
    embedder = DescriptorEmbedder()
    width = embedder.embed(embedder.prepare(Image.new("RGB", (8, 8)))[None]).shape[1]
    save_model(api, Extractor("image", DescriptorEmbedder.name), width=width)
    body = image_predict(2)
    body["tasks"].append({"id": 9, "data": {"image": "/data/local-files/?d=ok.png"}})
    answer = api.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [bool(r["result"]) for r in results] == [False, False, True]


@pytest.mark.parametrize(
    ("settings", "status", "error", "detail"),
    [
        ({}, 503, "no Label Studio configured", "LABEL_STUDIO_URL"),
        ({"label_studio_url": "closed"}, 503, "Label Studio unreachable", "could not reach"),
        ({"label_studio_url": "refuses"}, 502, "Label Studio refused the key", "Invalid token"),
        ({"label_studio_url": "html"}, 502, "bad answer from Label Studio", "not JSON"),
    ],
    ids=["not-configured", "closed-port", "key-refused", "not-json"],
)
def test_label_studio_api_errors(
    make_client: Callable[..., TestClient],
    stand_in: Callable[[bool], str],
    settings: dict[str, Any],
    status: int,
    error: str,
    detail: str,
) -> None:
    where = settings.get("label_studio_url")
    if where is not None:
        url = closed_port() if where == "closed" else stand_in(where == "html")
        settings = {"label_studio_url": url, "label_studio_api_key": KEY}
    api = make_client(**settings)
    studio_route(api)
    check(api.get("/test/studio"), status, error, detail)


# -- the model and the input ----------------------------------------------------------------------


def test_an_extractor_that_cannot_run_here_is_409(api: TestClient) -> None:
    save_model(api, Extractor("image", "descriptors:lab-hog-v0"))
    answer = api.post("/predict", json=image_predict())
    check(answer, 409, "feature extractor unavailable", "descriptors:lab-hog-v0", "retrain")


def test_a_missing_embeddings_file_is_409(api: TestClient, tmp_path: Path) -> None:
    save_model(api, Extractor("file", str(tmp_path / "gone.npy")))
    check(api.post("/predict", json=payload("predict")), 409, "feature extractor unavailable",
          "gone.npy")  # fmt: skip


def test_an_embeddings_file_that_does_not_fit_is_422(api: TestClient, tmp_path: Path) -> None:
    np.save(tmp_path / "emb.npy", np.zeros((5, 6)))
    save_model(api, Extractor("file", str(tmp_path / "emb.npy")))
    check(api.post("/predict", json=payload("predict")), 422, "invalid option", "one row per task")


def test_tasks_without_the_embedding_field_are_422(api: TestClient) -> None:
    save_model(api, Extractor("field", "emb"))
    check(api.post("/predict", json=payload("predict")), 422, "invalid tasks", "data['emb']")


@pytest.mark.parametrize(
    ("path", "body", "error", "detail"),
    [
        ("/setup", {"project": "1.2", "schema": "<View></View>"}, "unsupported label config",
         "Choices"),
        ("/predict", {"tasks": [], "label_config": "<View"}, "unsupported label config", "XML"),
        ("/predict", {"tasks": [{"data": {}}], "label_config": IMAGE_CONFIG}, "invalid tasks",
         "tasks[0] needs an integer 'id'"),
        ("/predict", {"tasks": [{"id": 1, "data": []}], "label_config": IMAGE_CONFIG},
         "invalid tasks", "tasks[0].data"),
        ("/setup", {"project": "1.2", "schema": IMAGE_CONFIG, "hostname": "localhost:8080"},
         "invalid request", "hostname"),
    ],
    ids=["setup-config", "predict-config", "task-id", "task-data", "setup-hostname"],
)  # fmt: skip
def test_bad_input_is_422(
    api: TestClient, path: str, body: dict[str, Any], error: str, detail: str
) -> None:
    check(api.post(path, json=body), 422, error, detail)


# -- the backend's own refusals and surprises -----------------------------------------------------


def test_too_many_tasks_is_413(make_client: Callable[..., TestClient]) -> None:
    api = make_client(max_predict_tasks=2)
    body = image_predict(3)
    check(api.post("/predict", json=body), 413, "too many tasks", "LS_CLEANLAB_MAX_PREDICT_TASKS")


def test_unknown_paths_and_methods_answer_the_error_body(api: TestClient) -> None:
    check(api.get("/nowhere"), 404, "Not Found")
    answer = api.delete("/health")
    check(answer, 405, "Method Not Allowed")
    assert answer.headers["allow"] == "GET"


def test_an_unexpected_error_is_500_without_detail(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    api = make_client()
    api.app.state.backend.predictor.schema = _crash  # type: ignore[attr-defined]
    # the TestClient raises what reaches the server: nothing does (no traceback in its log)
    assert check(api.post("/setup", json=payload("setup")), 500, "internal error")["detail"] is None
    assert "RuntimeError" in caplog.text and "secret-in-message" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)


def _crash(label_config: str, tag: str | None = None) -> Any:
    raise RuntimeError("secret-in-message")


def test_every_domain_error_has_a_row() -> None:
    import ls_cleanlab.errors as errors

    kinds = {cls for _, cls in vars(errors).items()
             if isinstance(cls, type) and issubclass(cls, errors.LsCleanlabError)}  # fmt: skip
    mapped = {kind for kind, _, _ in DOMAIN_ERRORS}
    for kind in kinds:
        assert any(issubclass(kind, m) and m is not errors.LsCleanlabError for m in mapped) or (
            kind is errors.LsCleanlabError
        ), f"{kind.__name__} falls through to the generic 500"
