"""The ML backend on a bad day, against a real Label Studio 1.23.2: training requested many times
at once makes one job; the backend killed (SIGKILL) in the middle of that job and started again
resumes it from the folds it had finished, and pushes a whole queue; a push Label Studio refuses
fails the job at stage ``push``; and no key, password or secret ever shows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER as SECRET
from ls_cleanlab.testing.admin import TEXT_MULTI, Admin
from ls_cleanlab.testing.label_studio import Studio
from tests.reliability.helpers import Backend, backend_env, wait_for
from tests.reliability.proxy import cutting_proxy
from tests.reliability.texts import text_project

pytestmark = pytest.mark.studio

TASKS = 800
FOLDS = 10


@pytest.fixture(scope="module")
def project(admin: Admin) -> dict[str, Any]:
    return text_project(admin, "reliability: backend", TASKS, seed=1)


@pytest.fixture(scope="module")
def backend(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    home = tmp_path_factory.mktemp("backend")
    env = backend_env(home / "data", LABEL_STUDIO_URL=studio.url,
                      LABEL_STUDIO_API_KEY=studio.personal_token,
                      LS_CLEANLAB_N_FOLDS=str(FOLDS))  # fmt: skip
    made = Backend(env, home / "backend.log").start()
    yield made
    made.stop()
    log = made.text()
    assert "Traceback" not in log and studio.personal_token not in log


def training(url: str, project: int) -> requests.Response:
    body = {"action": "START_TRAINING", "project": {"id": project}}
    return requests.post(f"{url}/webhook", json=body, timeout=30)


def jobs_of(url: str, project: int) -> list[dict[str, Any]]:
    answer = requests.get(f"{url}/jobs", params={"project": project}, timeout=10)
    return list(answer.json()["jobs"])


def test_concurrent_training_requests_make_one_job(
    backend: Backend, project: dict[str, Any]
) -> None:
    """16 "Start training" webhooks and 16 ``POST /jobs`` at once: one audit job."""

    def start(i: int) -> int:
        if i % 2:
            return int(training(backend.url, project["id"]).json()["job"])
        body = {"project": project["id"], "kind": "audit"}
        return int(requests.post(f"{backend.url}/jobs", json=body, timeout=30).json()["id"])

    with ThreadPoolExecutor(32) as pool:
        ids = set(pool.map(start, range(32)))
    assert len(ids) == 1
    assert [j["id"] for j in jobs_of(backend.url, project["id"])] == list(ids)


def test_a_killed_backend_resumes_the_job_from_its_folds(
    backend: Backend, project: dict[str, Any], admin: Admin
) -> None:
    """SIGKILL once some folds are done; after the restart the job resumes (not failed), reuses
    exactly the folds on disk, pushes a prediction for every task and counts what it left out."""
    (job,) = [j for j in jobs_of(backend.url, project["id"]) if j["state"] != "failed"] or [
        training(backend.url, project["id"]).json()
    ]  # the job of the test above, or a new one when that test did not run
    job_id = int(job.get("id") or job["job"])
    folds = Path(backend.env["LS_CLEANLAB_DATA_DIR"]) / "projects" / str(project["id"]) / "folds"
    wait_for(lambda: folds.is_dir() and any(folds.glob("*.npy")), 240, "a finished fold", 0.02)
    backend.kill()
    kept = len(list(folds.glob("*.npy")))
    assert 1 <= kept < FOLDS
    database = Path(backend.env["LS_CLEANLAB_DATA_DIR"]) / "backend.sqlite"
    with sqlite3.connect(database) as db:
        (state,) = db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert state == "running"  # as the crash left it

    backend.start()

    def finished() -> dict[str, Any] | None:
        found = requests.get(f"{backend.url}/jobs/{job_id}", timeout=10).json()
        return found if found["state"] in ("done", "failed") else None

    done = wait_for(finished, 300, "the resumed job", 0.5)
    assert done["state"] == "done", done["reason"]
    assert done["resumed"] == 1 and done["stage"] == "save"
    summary = done["summary"]
    assert summary["folds_reused"] == kept and summary["tasks"] == TASKS
    assert summary["skipped_reasons"] == {"cancelled_annotation": 1}
    assert not folds.exists()  # the audit is whole: its folds are gone
    versions = admin.call("GET", f"/api/projects/{project['id']}/model-versions/")
    (version,) = versions  # one run of ours: the resumed job's, one prediction per task
    assert version.startswith("ls-cleanlab-") and versions[version] == TASKS
    assert "it resumes" in backend.text()


def test_a_refused_push_fails_the_job_at_stage_push(
    studio: Studio, admin: Admin, tmp_path: Path
) -> None:
    small = text_project(admin, "reliability: refused push", 40, seed=2)
    refuse = lambda method, path: method == "POST" and "import/predictions" in path  # noqa: E731
    with cutting_proxy(studio.url, refuse, refuse=400) as (url, _):
        settings = Settings(data_dir=tmp_path, register_webhooks=False, label_studio_url=url,
                            label_studio_api_key=studio.personal_token, n_folds=2)  # fmt: skip
        with TestClient(create_app(settings)) as api:
            job = api.post("/jobs", json={"project": small["id"]}).json()

            def failed() -> dict[str, Any] | None:
                found = api.get(f"/jobs/{job['id']}").json()
                return found if found["state"] in ("done", "failed") else None

            done = wait_for(failed, 180, "the job", 0.25)
    assert done["state"] == "failed" and done["stage"] == "push", done
    assert "StudioRequestError" in done["reason"] and "import/predictions" in done["reason"]
    versions = admin.call("GET", f"/api/projects/{small['id']}/model-versions/")
    assert versions.get("ls-cleanlab", 0) == 0  # nothing half pushed


MARKERS = {
    "LABEL_STUDIO_API_KEY": "MARKER-key-5d1e0b",
    "BASIC_AUTH_PASS": "MARKER-pass-93c2aa",
    "LS_CLEANLAB_WEBHOOK_SECRET": "MARKER-secret-0f44e1",
}


def test_secrets_never_echoed_by_a_live_backend(
    studio: Studio, admin: Admin, tmp_path: Path
) -> None:
    """Every secret set to a marker; the backend is then refused by Label Studio (the key is
    wrong), refuses callers, fails a job and rejects bad payloads carrying markers: no marker in
    any answer, job row, log line or file of the data dir."""
    small = text_project(admin, "reliability: secrets", 12, seed=3)
    env = backend_env(tmp_path / "data", LABEL_STUDIO_URL=studio.url, BASIC_AUTH_USER="ops",
                      LOG_LEVEL="DEBUG", **MARKERS)  # fmt: skip
    good = ("ops", MARKERS["BASIC_AUTH_PASS"])
    backend = Backend(env, tmp_path / "backend.log").start(auth=good)
    url = backend.url
    try:
        answers = [
            requests.get(f"{url}/health", timeout=10),
            requests.get(f"{url}/jobs", auth=("ops", MARKERS["BASIC_AUTH_PASS"] + "x"), timeout=10),
            requests.post(f"{url}/webhook", json={"action": "ANNOTATION_CREATED",
                          "project": {"id": small["id"]}},
                          headers={SECRET: MARKERS["LS_CLEANLAB_WEBHOOK_SECRET"] + "x"},
                          timeout=10),
            requests.post(f"{url}/setup", auth=good, timeout=10,
                          json={"project": "bad", "schema": "<View/>",
                                "access_token": MARKERS["LABEL_STUDIO_API_KEY"]}),
            requests.post(f"{url}/setup", auth=good, timeout=10,
                          json={"project": "1.2", "schema": "<View/>",
                                "hostname": MARKERS["BASIC_AUTH_PASS"]}),
            requests.post(f"{url}/predict", auth=good, timeout=30,
                          json={"tasks": [{"id": small["ids"][0], "data": {"text": "x"}}],
                                "project": f"{small['id']}.1", "label_config": TEXT_MULTI}),
        ]  # fmt: skip
        assert [a.status_code for a in answers] == [401, 401, 401, 422, 422, 200]
        job = requests.post(f"{url}/jobs", json={"project": small["id"]}, auth=good,
                            timeout=10).json()  # fmt: skip

        def finished() -> dict[str, Any] | None:
            found = requests.get(f"{url}/jobs/{job['id']}", auth=good, timeout=10).json()
            return found if found["state"] in ("done", "failed") else None

        failed = wait_for(finished, 120, "the job", 0.25)
        assert failed["state"] == "failed" and failed["stage"] == "fetch"
        assert "Label Studio refused the API key" in failed["reason"]
        paths = ("/jobs", f"/jobs/{job['id']}", "/metrics", "/openapi.json")
        answers += [requests.get(f"{url}{p}", auth=good, timeout=10) for p in paths]
    finally:
        backend.stop()
    texts = [a.text for a in answers] + [backend.text()]
    texts += [p.read_bytes().decode("latin-1") for p in (tmp_path / "data").rglob("*")
              if p.is_file()]  # fmt: skip
    for marker in MARKERS.values():
        assert not [t for t in texts if marker in t], marker
    assert "Traceback" not in backend.text()
