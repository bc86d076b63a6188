"""The ML backend protocol with the payloads Label Studio really sends, bad input, auth."""

from __future__ import annotations

import base64
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ls_cleanlab.features import Extractor, field_embeddings, text_features
from ls_cleanlab.model import ModelStore, train_model
from ls_cleanlab.pipeline import Workspace
from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER
from ls_cleanlab.server.deps import get_settings
from ls_cleanlab.server.jobs import JobRunner
from tests.server.conftest import payload

EVENTS = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "TASKS_CREATED"]


def signed(api: TestClient) -> dict[str, str]:
    return {SECRET_HEADER: api.app.state.backend.secret}  # type: ignore[attr-defined]


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_health_setup_versions_answer_label_studio(api: TestClient) -> None:
    assert api.get("/health").json()["status"] == "UP"
    start = time.perf_counter()
    first = api.post("/setup", json=payload("setup"))
    assert time.perf_counter() - start < 3
    assert first.status_code == 200 and first.json() == {"model_version": "ls-cleanlab"}
    assert api.post("/setup", json=payload("setup")).json() == first.json()  # idempotent
    assert api.get("/versions").json() == {"versions": ["ls-cleanlab"]}


def test_routes_take_their_settings_from_the_dependency(api: TestClient, tmp_path: Any) -> None:
    other = Settings(data_dir=tmp_path / "other", model_version="other-v2")
    api.app.dependency_overrides[get_settings] = lambda: other  # type: ignore[attr-defined]
    assert api.get("/health").json()["model_version"] == "other-v2"
    assert api.get("/versions").json() == {"versions": ["other-v2"]}
    assert api.post("/setup", json=payload("setup")).json() == {"model_version": "other-v2"}
    # (the fixture clears the overrides)


def test_predict_without_a_model_gives_empty_results_in_order(api: TestClient) -> None:
    body = payload("predict")
    answer = api.post("/predict", json=body)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert len(results) == len(body["tasks"])
    assert all(r == {"result": [], "score": 0.0, "model_version": "ls-cleanlab"} for r in results)
    body["params"]["context"] = {"result": [], "user": "me"}  # interactive context accepted
    assert api.post("/predict", json=body).status_code == 200


def _train_text_model(api: TestClient, project: int, texts: list[str], labels: np.ndarray) -> None:
    settings: Settings = api.app.state.backend.settings  # type: ignore[attr-defined]
    feats = text_features(texts)
    trained = train_model(
        feats.features, labels, class_names=("sports", "politics", "tech"), encoder=feats.encoder
    )
    ModelStore(settings.data_dir / "models").save(project, "ls-cleanlab", trained)


def test_predict_with_a_model_scores_every_choice(api: TestClient) -> None:
    words = {0: "football goal match team", 1: "election vote senate party", 2: "chip code cloud"}
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 3)) < 0.4).astype(np.int8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    texts = [" ".join(words[k] for k in np.flatnonzero(row)) + " news" for row in labels]
    _train_text_model(api, 1, texts, labels)
    body = payload("predict")
    base = body["tasks"][0]
    given = {7: "football goal chip code", 8: "", 9: "senate vote party"}
    body["tasks"] = [{**base, "id": i, "data": {"text": text}} for i, text in given.items()]
    results = api.post("/predict", json=body).json()["results"]
    assert len(results) == 3
    first, empty, third = results
    assert sorted(first["result"][0]["value"]["choices"]) == ["sports", "tech"]
    assert third["result"][0]["value"]["choices"] == ["politics"]
    assert empty["result"] == []  # no text: no prediction, never an error
    for made in (first, third):
        result = made["result"][0]
        assert (result["from_name"], result["to_name"], result["type"]) == (
            "topics",
            "text",
            "choices",
        )
        probs = result["meta"]["probabilities"]
        assert set(probs) == {"sports", "politics", "tech"}
        assert all(0 <= p <= 1 for p in probs.values())
        assert 0 <= made["score"] <= 1 and 0 <= result["score"] <= 1
        assert made["model_version"] == "ls-cleanlab"


@pytest.mark.parametrize("event", EVENTS)
def test_signed_events_are_queued_fast(api: TestClient, event: str) -> None:
    api.post("/setup", json=payload("setup"))
    start = time.perf_counter()
    answer = api.post("/webhook", json=payload(f"webhook-{event}"), headers=signed(api))
    assert time.perf_counter() - start < 0.1
    assert answer.status_code == 200 and answer.json()["status"] == "queued"


@pytest.mark.parametrize("event", EVENTS)
def test_unsigned_events_are_refused(api: TestClient, event: str) -> None:
    api.post("/setup", json=payload("setup"))
    answer = api.post("/webhook", json=payload(f"webhook-{event}"))
    assert answer.status_code == 401 and SECRET_HEADER in answer.json()["detail"]
    wrong = api.post("/webhook", json=payload(f"webhook-{event}"), headers={SECRET_HEADER: "x"})
    assert wrong.status_code == 401


def test_start_training_answers_with_a_job(api: TestClient) -> None:
    answer = api.post("/webhook", json=payload("webhook-START_TRAINING"))
    assert answer.status_code == 200
    job_id = int(answer.json()["job"])
    deadline = time.monotonic() + 10
    while api.get(f"/jobs/{job_id}").json()["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job = api.get(f"/jobs/{job_id}").json()
    # no Label Studio configured: the job fails with a reason that says what to do
    assert job["state"] == "failed" and "LABEL_STUDIO_URL" in job["reason"]
    again = api.post("/webhook", json=payload("webhook-START_TRAINING")).json()
    assert int(again["job"]) != job_id  # a finished job does not absorb a new one
    metrics = api.get("/metrics").text
    assert 'ls_cleanlab_jobs{kind="audit",state="failed"} ' in metrics
    assert "ls_cleanlab_queue_size" in metrics


BAD = [
    ("malformed json", "/predict", b'{"tasks": [', 400),
    ("not an object", "/setup", b"[1, 2]", 422),
    ("missing schema", "/setup", b'{"project": "1.2"}', 422),
    ("bad project id", "/setup", b'{"project": "../etc", "schema": "<View/>"}', 422),
    ("config without choices", "/setup", b'{"project": "1.2", "schema": "<View></View>"}', 422),
    ("missing tasks", "/predict", b'{"label_config": "<View/>"}', 422),
    ("task without id", "/predict", b'{"tasks": [{"data": {}}], "label_config": "<View/>"}', 422),
    ("webhook without action", "/webhook", b'{"project": {"id": 1}}', 422),
    ("job for project 0", "/jobs", b'{"project": 0}', 422),
]


@pytest.mark.parametrize(("path", "body", "status"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_gets_a_clear_4xx(api: TestClient, path: str, body: bytes, status: int) -> None:
    answer = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] and "Traceback" not in answer.text
    assert api.get("/health").status_code == 200


def test_unknown_project_and_job(api: TestClient) -> None:
    event = payload("webhook-ANNOTATION_CREATED")
    event["project"]["id"] = 999
    answer = api.post("/webhook", json=event, headers=signed(api))
    assert answer.status_code == 404 and "999" in answer.json()["detail"]
    assert api.get("/jobs/12345").status_code == 404


def test_oversized_body_is_refused(make_client: Callable[..., TestClient]) -> None:
    api = make_client(max_body_bytes=2048)
    body = payload("predict")
    body["tasks"][0]["data"]["text"] = "x" * 5000
    answer = api.post("/predict", json=body)
    assert answer.status_code == 413 and "LS_CLEANLAB_MAX_BODY_BYTES" in answer.json()["detail"]
    assert api.get("/health").status_code == 200


def test_basic_auth(make_client: Callable[..., TestClient]) -> None:
    api = make_client(basic_auth_user="studio", basic_auth_pass="correct-horse")
    good, bad = basic("studio", "correct-horse"), basic("studio", "wrong-password")
    for path in ("/health", "/versions", "/metrics"):
        assert api.get(path).status_code == 401
        assert api.get(path, headers=bad).status_code == 401
        assert api.get(path, headers=good).status_code == 200
    assert api.post("/setup", json=payload("setup"), headers=bad).status_code == 401
    assert api.post("/setup", json=payload("setup"), headers=good).status_code == 200
    garbage = {"Authorization": "Basic !!!"}
    assert api.get("/health", headers=garbage).status_code == 401
    # START_TRAINING comes with basic auth; without it (and unsigned) it is refused
    training = payload("webhook-START_TRAINING")
    assert api.post("/webhook", json=training).status_code == 401
    assert api.post("/webhook", json=training, headers=good).status_code == 200
    # project webhooks come without basic auth but signed
    event = payload("webhook-ANNOTATION_CREATED")
    assert api.post("/webhook", json=event, headers=signed(api)).status_code == 200


def test_the_report_is_served_behind_the_same_auth(make_client: Callable[..., TestClient]) -> None:
    api = make_client(basic_auth_user="studio", basic_auth_pass="correct-horse")
    good = basic("studio", "correct-horse")
    assert api.get("/report/5").status_code == 401
    missing = api.get("/report/5", headers=good)
    assert missing.status_code == 404 and "start training" in missing.json()["detail"]
    path = api.app.state.backend.workspace.report(5)  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<html><body>the report</body></html>", encoding="utf-8")
    found = api.get("/report/5", headers=good)
    assert found.status_code == 200 and found.text.endswith("the report</body></html>")
    assert found.headers["content-type"].startswith("text/html")
    assert api.get("/report/0", headers=good).status_code == 422


def test_settings_refuse_unsafe_values(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="BASIC_AUTH_PASS"):
        Settings(data_dir=tmp_path, basic_auth_user="u")
    with pytest.raises(ValueError, match="at least 8"):
        Settings(data_dir=tmp_path, basic_auth_user="u", basic_auth_pass="short")
    with pytest.raises(ValueError, match="http"):
        Settings(data_dir=tmp_path, label_studio_url="ftp://x")
    made = Settings(data_dir=tmp_path, label_studio_api_key="secret-key-123",
                    basic_auth_user="u", basic_auth_pass="password-1")  # fmt: skip
    assert "secret-key-123" not in repr(made) and "password-1" not in repr(made)


def test_settings_from_the_environment(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://studio:8080/")
    monkeypatch.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LS_CLEANLAB_ALLOWED_HOSTS", "a.com, *.b.org")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    made = Settings()
    assert made.label_studio_url == "http://studio:8080" and made.hosts == ("a.com", "*.b.org")
    assert made.log_level == "DEBUG" and made.data_dir == tmp_path
    assert made.secret() == made.secret() and len(made.secret()) > 30


def test_restarts_resume_interrupted_jobs_a_few_times_then_fail_them(tmp_path: Any) -> None:
    import sqlite3

    from ls_cleanlab.server.jobstore import INTERRUPTED, MAX_RESUMES, Store

    store = Store(tmp_path / "s.sqlite")
    running = store.add_job(1, "audit")
    store.start(running.id)
    queued = store.add_job(2, "audit")
    store.close()
    for restart in range(1, MAX_RESUMES + 1):
        again = Store(tmp_path / "s.sqlite")
        assert again.recover() == ([running.id], [])
        found = again.job(running.id)
        assert found is not None and (found.state, found.resumed) == ("queued", restart)
        again.start(running.id)  # the worker picks it up, and the backend dies again
        again.close()
    last = Store(tmp_path / "s.sqlite")
    assert last.recover() == ([], [running.id])
    failed = last.job(running.id)
    assert failed is not None and failed.state == "failed" and failed.reason == INTERRUPTED
    assert [j.id for j in last.jobs(state="queued")] == [queued.id]
    last.close()
    # a job table from before jobs were resumed gains the column
    with sqlite3.connect(tmp_path / "old.sqlite") as db:
        db.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, project INTEGER NOT NULL, "
            "kind TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, stage TEXT, done INTEGER NOT "
            "NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, summary TEXT, created_at REAL NOT "
            "NULL, started_at REAL, finished_at REAL)"
        )
        db.execute("INSERT INTO jobs (project, kind, state, created_at) VALUES (3, 'audit', "
                   "'running', 0)")  # fmt: skip
    db.close()
    old = Store(tmp_path / "old.sqlite")
    assert old.recover() == ([1], []) and old.jobs()[0].resumed == 1


def test_one_audit_per_project_at_a_time(tmp_path: Any) -> None:
    from ls_cleanlab.server.jobstore import Store

    settings = Settings(data_dir=tmp_path)
    store = Store(tmp_path / "s.sqlite")
    runner = JobRunner(settings, store, None, lambda p: None)  # type: ignore[arg-type]
    first = runner.submit(5, "audit")
    assert runner.submit(5, "audit").id == first.id  # queued: absorbed
    store.start(first.id)
    assert runner.submit(5, "audit").id == first.id  # running: absorbed too
    assert runner.submit(6, "audit").id != first.id
    assert runner.submit(5, "refresh").id != first.id


def test_predict_images_with_the_audits_model(
    make_client: Callable[..., TestClient], tmp_path: Any
) -> None:
    """An image project's model, trained by the pipeline, predicts new images through /predict:
    the features of the new tasks are encoded as the training set's were."""
    from ls_cleanlab.media import MediaFetcher
    from ls_cleanlab.pipeline import audit_tasks
    from ls_cleanlab.pipeline.workspace import Workspace
    from ls_cleanlab.studio import parse_label_config
    from ls_cleanlab.testing.synthetic_images import CLASSES, LABEL_CONFIG, annotation, make_images

    media = tmp_path / "media"
    media.mkdir()
    images, truth = make_images(140, seed=3)
    for i, image in enumerate(images):
        image.save(media / f"{i}.png")
    tasks = []
    for i in range(100):
        tasks.append({"id": i + 1, "data": {"image": f"/data/local-files/?d={i}.png"},
                      "annotations": [annotation(1, truth[i])]})  # fmt: skip
    api = make_client(local_files_root=str(media))
    settings: Settings = api.app.state.backend.settings  # type: ignore[attr-defined]
    with Workspace(settings.data_dir).feature_cache() as cache:
        audit = audit_tasks(tasks, parse_label_config(LABEL_CONFIG), cache=cache, project=1,
                            fetcher=MediaFetcher(local_files_root=media))  # fmt: skip
    assert audit.trained is not None
    ModelStore(settings.data_dir / "models").save(1, "ls-cleanlab", audit.trained)

    body = payload("predict")
    body["label_config"] = LABEL_CONFIG
    new = [
        {"id": 200 + i, "data": {"image": f"/data/local-files/?d={i}.png"}} for i in range(100, 140)
    ]
    body["tasks"] = [*new, {"id": 999, "data": {"image": "/data/local-files/?d=missing.png"}}]
    results = api.post("/predict", json=body).json()["results"]
    assert len(results) == 41 and results[-1]["result"] == []  # a missing image: empty, no error
    chosen = np.array([[c in r["result"][0]["value"]["choices"] for c in CLASSES]
                       for r in results[:-1]])  # fmt: skip
    assert (chosen == truth[100:140].astype(bool)).mean() > 0.9
    # the embedder the model names is built once and kept between requests
    predictor = api.app.state.backend.predictor  # type: ignore[attr-defined]
    schema = parse_label_config(LABEL_CONFIG)
    kept = predictor.embedder(audit.trained, schema)
    assert kept is predictor.embedder(audit.trained, schema)
    assert kept.name == audit.trained.extractor.name


def test_predict_uses_the_extractor_the_model_was_trained_with(api: TestClient) -> None:
    """A model trained on embeddings from a task data field predicts new tasks from that field
    (it used to encode them as text, or as images with the built-in descriptors)."""
    rng = np.random.default_rng(1)
    labels = (rng.random((60, 3)) < 0.4).astype(np.int8)
    labels[labels.sum(axis=1) == 0, 0] = 1
    vectors = labels * 3.0 + rng.normal(0, 0.2, labels.shape)
    data = [{"text": "same words for every task", "emb": v.tolist()} for v in vectors]
    feats = field_embeddings(data, "emb")
    trained = train_model(
        feats.features, labels, class_names=("sports", "politics", "tech"),
        encoder=feats.encoder, extractor=Extractor("field", "emb"),
    )  # fmt: skip
    settings: Settings = api.app.state.backend.settings  # type: ignore[attr-defined]
    ModelStore(Workspace(settings.data_dir).models_dir).save(1, "ls-cleanlab", trained)
    body = payload("predict")
    base = body["tasks"][0]
    wanted = {11: [1, 0, 1], 12: [0, 1, 0]}
    body["tasks"] = [
        {
            **base,
            "id": i,
            "data": {"text": "same words for every task", "emb": [3.0 * x for x in w]},
        }
        for i, w in wanted.items()
    ]
    results = api.post("/predict", json=body).json()["results"]
    assert sorted(results[0]["result"][0]["value"]["choices"]) == ["sports", "tech"]
    assert results[1]["result"][0]["value"]["choices"] == ["politics"]


def test_predict_refuses_a_model_whose_embedder_is_not_here(api: TestClient) -> None:
    rng = np.random.default_rng(2)
    labels = (rng.random((40, 3)) < 0.5).astype(np.int8)
    trained = train_model(
        rng.normal(size=(40, 5)), labels, class_names=("sports", "politics", "tech"),
        extractor=Extractor("image", "descriptors:lab-hog-v0"),
    )  # fmt: skip
    settings: Settings = api.app.state.backend.settings  # type: ignore[attr-defined]
    ModelStore(Workspace(settings.data_dir).models_dir).save(1, "ls-cleanlab", trained)
    answer = api.post("/predict", json=payload("predict"))
    assert answer.status_code == 409
    assert "descriptors:lab-hog-v0" in answer.json()["detail"]


def test_pydantics_false_alarm_on_route_parameters_stays_out_of_the_log(tmp_path: Path) -> None:
    """FastAPI builds each route's parameters inside ``warnings.catch_warnings()`` to hide
    pydantic's "UnsupportedFieldAttributeWarning" on their aliases (a false positive,
    pydantic#12356). That context swaps the process-wide filters, so an audit thread doing the
    same (Pillow, scikit-learn) lost FastAPI's filter and the backend logged the warning at a
    request during a box audit. The app ignores that warning from pydantic for good."""
    warning = pytest.importorskip("pydantic.warnings").__dict__.get(
        "UnsupportedFieldAttributeWarning"
    )
    if warning is None:
        pytest.skip("pydantic < 2.12 does not warn")
    from pydantic import Field, TypeAdapter

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_app(Settings(data_dir=tmp_path / "data", register_webhooks=False))
        TypeAdapter(Annotated[int, Field(alias="project")])  # as FastAPI builds a parameter
        warnings.warn("ours still shows", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["ours still shows"]
