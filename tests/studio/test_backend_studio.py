"""The ML backend end to end: Label Studio 1.23.2 and ``ls-cleanlab serve`` as a
subprocess, connected through Label Studio's API; predictions, training, tabs and a refresh all
triggered through Label Studio itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from ls_cleanlab import StudioClient
from ls_cleanlab.pipeline import QUEUES
from ls_cleanlab.server.auth import SECRET_HEADER, WEBHOOK_ACTIONS
from ls_cleanlab.testing.admin import TEXT_MULTI, Admin
from ls_cleanlab.testing.label_studio import Studio

ROOT = Path(__file__).resolve().parents[2]
WORDS = {
    "sports": ["football", "goal", "match", "team", "league", "coach"],
    "politics": ["election", "senate", "vote", "minister", "policy", "party"],
    "tech": ["software", "chip", "startup", "cloud", "robot", "code"],
}
FILLER = ["the", "a", "today", "report", "news", "people", "new", "big", "week", "said"]


def texts(n: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Texts made of their classes' words and filler, with their true classes."""
    rng = np.random.default_rng(seed)
    made, labels = [], []
    for _ in range(n):
        classes = list(rng.choice(list(WORDS), size=int(rng.integers(1, 3)), replace=False))
        words = [w for c in classes for w in rng.choice(WORDS[c], size=5)] + list(
            rng.choice(FILLER, size=3)
        )
        rng.shuffle(words)
        made.append(" ".join(words))
        labels.append(sorted(classes))
    return made, labels


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def backend(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path_factory.mktemp("backend")
    env = {
        **os.environ,
        "LABEL_STUDIO_URL": studio.url,
        "LABEL_STUDIO_API_KEY": studio.personal_token,
        "LS_CLEANLAB_DATA_DIR": str(home / "data"),
        "LS_CLEANLAB_DEBOUNCE": "0.5",
        "LS_CLEANLAB_N_FOLDS": "3",
        "LOG_LEVEL": "INFO",
        "OPENBLAS_NUM_THREADS": "1",
    }
    log = (home / "backend.log").open("wb")
    command = [
        str(Path(sys.executable).parent / "ls-cleanlab"),  # the installed command
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return requests.get(f"{url}/health", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, 60, "the backend to start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        text = (home / "backend.log").read_text(errors="replace")
        assert studio.personal_token not in text, "the API key leaked into the log"


def _job_done(url: str, project: int, kind: str) -> dict[str, Any] | None:
    jobs = requests.get(f"{url}/jobs", params={"project": project}, timeout=5).json()["jobs"]
    done = [j for j in jobs if j["kind"] == kind and j["state"] in ("done", "failed")]
    return done[-1] if done else None


def _view_tasks(admin: Admin, project: int, view: int) -> list[dict[str, Any]]:
    query = {"project": project, "view": view, "fields": "all", "page_size": 1000}
    answer = admin.call("GET", "/api/tasks/", params=query)
    return list(answer["tasks"])


def _ours(task: dict[str, Any]) -> dict[str, Any] | None:
    found = [p for p in task.get("predictions", []) if p.get("model_version") == "ls-cleanlab"]
    return found[0] if found else None


def test_label_studio_drives_the_backend(
    admin: Admin, client: StudioClient, backend: str, studio: Studio
) -> None:
    made, truth = texts(88, seed=3)
    project = admin.project("backend e2e", TEXT_MULTI)
    ids = admin.import_tasks(project, [{"text": t} for t in made])
    wrong = {ids[0]: ["tech"] if "tech" not in truth[0] else ["sports"]}
    for task, labels in zip(ids[:80], truth[:80], strict=True):
        admin.annotate(task, wrong.get(task, labels), from_name="topics", to_name="text")

    # connect, as Settings -> Model does: Label Studio calls /health and /setup
    ml = client.ensure_ml_backend(project, backend)
    assert admin.call("GET", f"/api/ml/{ml}")["state"] == "CO"

    def signed() -> bool:
        hooks = admin.call("GET", "/api/webhooks/", params={"project": project})
        return any(h["url"] == f"{backend}/webhook" and SECRET_HEADER in (h.get("headers") or {})
                   and set(h["actions"]) == set(WEBHOOK_ACTIONS) for h in hooks)  # fmt: skip

    wait_for(signed, 20, "the backend to sign its webhook")

    # predictions before any training: empty results, stored under our model version
    action = f"/api/dm/actions?id=retrieve_tasks_predictions&project={project}"
    admin.call("POST", action, json={"selectedItems": {"all": False, "included": ids[80:82]}})
    before = admin.predictions(project)
    assert {p["model_version"] for p in before} == {"ls-cleanlab"}
    assert all(p["result"] == [] for p in before)

    # Start training, as the button does: a full audit job
    admin.call("POST", f"/api/ml/{ml}/train", json={})
    job = wait_for(lambda: _job_done(backend, project, "audit"), 120, "the audit job")
    assert job["state"] == "done", job
    views = {v["data"]["title"]: v["id"] for v in client.views(project)}
    assert {q.title for q in QUEUES} <= set(views)
    errors = _view_tasks(admin, project, views["Likely label errors"])
    assert errors, "the errors tab is empty"
    scores = [_ours(t)["score"] for t in errors]  # type: ignore[index]
    assert scores == sorted(scores, reverse=True)
    assert ids[0] in [t["id"] for t in errors]
    uncertain = _view_tasks(admin, project, views["Uncertain (unlabeled)"])
    assert {t["id"] for t in uncertain} == set(ids[80:])

    # new tasks: Label Studio asks /predict, which answers with the trained model
    new_texts, new_truth = texts(4, seed=9)
    new_ids = admin.import_tasks(project, [{"text": t} for t in new_texts])
    admin.call("POST", action, json={"selectedItems": {"all": False, "included": new_ids}})
    stored = {p["task"]: p for p in admin.predictions(project) if p["task"] in new_ids}
    assert set(stored) == set(new_ids)
    hits = 0
    for task, labels in zip(new_ids, new_truth, strict=True):
        prediction = stored[task]
        assert prediction["model_version"] == "ls-cleanlab"
        result = prediction["result"][0]
        assert set(result["meta"]["probabilities"]) == set(WORDS)
        assert 0 <= prediction["score"] <= 1
        hits += sorted(result["value"]["choices"]) == labels
    assert hits >= 3, stored

    # an annotation: the queue follows within seconds
    target = ids[81]
    wrong_label = ["politics"] if "politics" not in truth[81] else ["sports"]
    started = time.monotonic()
    admin.annotate(target, wrong_label, from_name="topics", to_name="text")

    def flagged() -> bool:
        task = admin.call("GET", f"/api/tasks/{target}/")
        ours = _ours(task)
        return bool(ours) and "lscl:error" in ours["result"][0]["meta"]["queues"]  # type: ignore[index]

    wait_for(flagged, 30, "the new annotation to reach the queue")
    elapsed = time.monotonic() - started
    refresh = wait_for(lambda: _job_done(backend, project, "refresh"), 30, "the refresh job")
    assert refresh["state"] == "done", refresh
    print(f"annotation -> queue in {elapsed:.1f} s; refresh {refresh['summary']}")
    assert elapsed < 15
