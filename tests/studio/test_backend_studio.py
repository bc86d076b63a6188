"""The ML backend end to end: Label Studio 1.23.2 and ``ls-cleanlab serve`` as a
subprocess, connected through Label Studio's API; predictions, training, tabs and a refresh all
triggered through Label Studio itself."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from ls_cleanlab import StudioClient
from ls_cleanlab.errors import StudioRequestError
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backend_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a backend process: no Label Studio settings but ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "LS_CLEAN"))}
    return {
        **env,
        "LS_CLEANLAB_DATA_DIR": str(data_dir),
        "LS_CLEANLAB_DEBOUNCE": "0.5",
        "LS_CLEANLAB_N_FOLDS": "3",
        "LOG_LEVEL": "INFO",
        "OPENBLAS_NUM_THREADS": "1",
        **extra,
    }


@contextmanager
def running_backend(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``ls-cleanlab serve`` (the installed command) on ``port`` until the block ends; its output
    is appended to ``log``."""
    command = [
        str(Path(sys.executable).parent / "ls-cleanlab"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:

        def healthy() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                return requests.get(f"{url}/health", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, 60, "the backend to start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def backend(studio: Studio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("backend")
    env = backend_env(home / "data", LABEL_STUDIO_URL=studio.url,
                      LABEL_STUDIO_API_KEY=studio.personal_token)  # fmt: skip
    log = home / "backend.log"
    with running_backend(env, free_port(), log) as url:
        yield url
    text = log.read_text(errors="replace")
    assert studio.personal_token not in text, "the API key leaked into the log"


def _job_done(url: str, project: int, kind: str) -> dict[str, Any] | None:
    jobs = requests.get(f"{url}/jobs", params={"project": project}, timeout=5).json()["jobs"]
    done = [j for j in jobs if j["kind"] == kind and j["state"] in ("done", "failed")]
    return done[-1] if done else None


def _view_tasks(admin: Admin, project: int, view: int) -> list[dict[str, Any]]:
    query = {"project": project, "view": view, "fields": "all", "page_size": 1000}
    answer = admin.call("GET", "/api/tasks/", params=query)
    return list(answer["tasks"])


def _ours(task: dict[str, Any], admin: Admin) -> dict[str, Any] | None:
    """Our prediction of the project's current run (its version is the project's)."""
    version = admin.call("GET", f"/api/projects/{task['project']}/")["model_version"]
    found = [p for p in task.get("predictions", []) if p.get("model_version") == version]
    return found[0] if found else None


def _queues(prediction: dict[str, Any]) -> list[str]:
    """The tabs' markers the prediction carries, without their run tags."""
    return [q.split("#")[0] for q in prediction["result"][0]["meta"]["queues"]]


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
    # the slip leads the review order. It need not be in "Likely label errors": the annotator
    # is right on 79 of 80 tasks and the model is trained on 80 short texts, so the calibrated
    # audit finds the slip a few percent likely to be wrong, not more likely wrong than right
    current = admin.call("GET", f"/api/projects/{project}/")["model_version"]
    audited = [p for p in admin.predictions(project)
               if p["model_version"] == current and p["task"] in ids[:80]]  # fmt: skip
    assert max(audited, key=lambda p: p["score"])["task"] == ids[0]
    errors = _view_tasks(admin, project, views["Likely label errors"])
    scores = [_ours(t, admin)["score"] for t in errors]  # type: ignore[index]
    assert scores == sorted(scores, reverse=True)
    assert set(job["summary"]["expected"]) == {"errors", "missing"}  # shown beside the tabs
    uncertain = _view_tasks(admin, project, views["Uncertain (unlabeled)"])
    assert {t["id"] for t in uncertain} == set(ids[80:])

    # the audit is a run of its own; /setup answers its version, the one /predict reports
    version = admin.call("GET", f"/api/projects/{project}/")["model_version"]
    assert version.startswith("ls-cleanlab-") and version != "ls-cleanlab"

    # new tasks: Label Studio asks /setup then /predict, which answers with the trained model
    new_texts, new_truth = texts(4, seed=9)
    new_ids = admin.import_tasks(project, [{"text": t} for t in new_texts])
    admin.call("POST", action, json={"selectedItems": {"all": False, "included": new_ids}})
    stored = {p["task"]: p for p in admin.predictions(project) if p["task"] in new_ids}
    assert set(stored) == set(new_ids)
    hits = 0
    for task, labels in zip(new_ids, new_truth, strict=True):
        prediction = stored[task]
        assert prediction["model_version"] == version  # /setup's, so Label Studio skips it
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

    def refreshed() -> bool:  # audited as a labelled task now: out of the unlabelled tab
        ours = _ours(admin.call("GET", f"/api/tasks/{target}/"), admin)
        return bool(ours) and "lscl:uncertain" not in _queues(ours)

    wait_for(refreshed, 30, "the new annotation to reach the queues")
    elapsed = time.monotonic() - started
    refresh = wait_for(lambda: _job_done(backend, project, "refresh"), 30, "the refresh job")
    assert refresh["state"] == "done", refresh
    print(f"annotation -> queue in {elapsed:.1f} s; refresh {refresh['summary']}")
    assert elapsed < 15

    # the report of the last audit is served, its link in the audit job's summary
    assert job["summary"]["report"] == f"/report/{project}"
    page = requests.get(f"{backend}{job['summary']['report']}", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"<title>ls-cleanlab audit: project {project}</title>" in page.text

    # a ground-truth annotation settles a task in a tab: through the webhook it leaves every tab
    def tabs_of(task: int) -> list[str]:
        ours = _ours(admin.call("GET", f"/api/tasks/{task}/"), admin)
        return list(ours["result"][0]["meta"]["queues"]) if ours else []

    settled_task = next(t for t in ids[:80] if tabs_of(t))
    labels = truth[ids.index(settled_task)]
    admin.annotate(settled_task, labels, from_name="topics", to_name="text", ground_truth=True)
    wait_for(lambda: not tabs_of(settled_task), 30, "the reviewed task to leave every tab")


def _setup_at(data_dir: Path, project: int) -> float:
    """When the backend last recorded a /setup of ``project`` (read-only, beside the server)."""
    with closing(sqlite3.connect(f"file:{data_dir / 'backend.sqlite'}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT setup_at FROM projects WHERE project = ?", (project,)).fetchone()
    return float(row[0])


def test_setup_credentials_survive_a_restart(
    admin: Admin, client: StudioClient, studio: Studio, tmp_path: Path
) -> None:
    """Connected the way Label Studio does it, with no key in the backend's environment: the
    URL and key come from /setup. After a restart of the backend an annotation still reaches
    its tab: the refresh ran with the credentials kept in the data dir."""
    made, truth = texts(70, seed=5)
    project = admin.project("backend restart", TEXT_MULTI)
    ids = admin.import_tasks(project, [{"text": t} for t in made])
    for task, labels in zip(ids[:62], truth[:62], strict=True):
        admin.annotate(task, labels, from_name="topics", to_name="text")
    data, log, port = tmp_path / "data", tmp_path / "backend.log", free_port()
    env = backend_env(data)  # no LABEL_STUDIO_URL, no LABEL_STUDIO_API_KEY

    with running_backend(env, port, log) as url:
        ml = client.ensure_ml_backend(project, url)  # Label Studio calls /setup
        assert admin.call("GET", f"/api/ml/{ml}")["state"] == "CO"
        admin.call("POST", f"/api/ml/{ml}/train", json={})
        job = wait_for(lambda: _job_done(url, project, "audit"), 120, "the audit job")
        assert job["state"] == "done", job
        last_job = max(j["id"] for j in requests.get(f"{url}/jobs", timeout=5).json()["jobs"])
    kept = data / "projects" / str(project) / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    setup_at = _setup_at(data, project)

    with running_backend(env, port, log) as url:  # the same backend, restarted
        target = ids[63]
        wrong = ["politics"] if "politics" not in truth[63] else ["sports"]
        admin.annotate(target, wrong, from_name="topics", to_name="text")

        def moved() -> bool:  # audited as a labelled task: out of the unlabelled tab
            ours = _ours(admin.call("GET", f"/api/tasks/{target}/"), admin)
            return bool(ours) and "lscl:uncertain" not in _queues(ours)

        wait_for(moved, 45, "the annotation to reach the queues after the restart")

        def refreshed() -> list[dict[str, Any]] | None:
            # the push shows in the tabs before the job's save stage ends and marks it done
            found = requests.get(f"{url}/jobs", params={"project": project}, timeout=5).json()
            jobs = found["jobs"]
            mine = [j for j in jobs if j["kind"] == "refresh" and j["id"] > last_job]
            return jobs if mine and mine[0]["state"] in ("done", "failed") else None

        jobs = wait_for(refreshed, 30, "the refresh job to finish")
        refreshes = [j for j in jobs if j["kind"] == "refresh" and j["id"] > last_job]
        assert refreshes[0]["state"] == "done", jobs
        assert studio.legacy_token not in json.dumps(jobs)
    views = {v["data"]["title"]: v["id"] for v in client.views(project)}
    unlabelled = {t["id"] for t in _view_tasks(admin, project, views["Uncertain (unlabeled)"])}
    assert target not in unlabelled and ids[64] in unlabelled  # the tabs follow the refresh
    # No /setup reached the restarted backend before the refresh started (Label Studio sends one
    # after the refresh's push), so the refresh used the credentials read back from the data dir.
    again = _setup_at(data, project)
    assert again == setup_at or again > refreshes[0]["started_at"], (again, refreshes)
    assert studio.legacy_token not in log.read_text(errors="replace")


#: Topics (multi-label, the tag audited by default) and a sentiment tag on each text.
TOPICS_AND_SENTIMENT = TEXT_MULTI.replace(
    "</View>",
    '<Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="upbeat"/><Choice value="gloomy"/></Choices></View>',
)


def test_the_ml_backend_form_chooses_the_tag_to_audit(
    admin: Admin, client: StudioClient, backend: str
) -> None:
    """A config with two Choices tags, the backend connected with extra params
    ``{"tag": "sentiment"}`` as typed into Label Studio's form: the audit, its tabs and the
    predictions are the sentiment tag's; a tag the config lacks is refused at connection; once
    the tag changes, refreshes wait for a full audit."""
    mood = {"upbeat": "win great happy", "gloomy": "loss sad awful"}
    rng = np.random.default_rng(4)
    truth = [str(rng.choice(list(mood))) for _ in range(44)]
    made = [f"{mood[m]} {w}" for m, w in zip(truth, texts(44, seed=6)[0], strict=True)]
    project = admin.project("backend two tags", TOPICS_AND_SENTIMENT)
    ids = admin.import_tasks(project, [{"text": t} for t in made])
    for task, label in zip(ids[:40], truth[:40], strict=True):
        admin.annotate(task, [label], from_name="sentiment", to_name="text")

    # Label Studio refuses the connection, pointing to the backend's log for the reason
    with pytest.raises(StudioRequestError, match=r"422 Client Error.*/setup"):
        client.ensure_ml_backend(project, backend, extra_params='{"tag": "mood"}')
    ml = client.ensure_ml_backend(project, backend, extra_params='{"tag": "sentiment"}')
    assert admin.call("GET", f"/api/ml/{ml}")["state"] == "CO"
    admin.call("POST", f"/api/ml/{ml}/train", json={})
    job = wait_for(lambda: _job_done(backend, project, "audit"), 120, "the audit job")
    assert job["state"] == "done", job
    assert job["summary"]["tag"] == "sentiment"
    assert job["summary"]["not_audited"] == ["Choices 'topics'"]
    version = admin.call("GET", f"/api/projects/{project}/")["model_version"]
    ours = [p for p in admin.predictions(project) if p["model_version"] == version]
    assert {p["task"] for p in ours} == set(ids)
    assert {r["from_name"] for p in ours for r in p["result"]} == {"sentiment"}
    unlabelled = [p for p in ours if p["task"] in ids[40:]]
    right = sum(p["result"][0]["value"]["choices"] == [truth[ids.index(p["task"])]]
                for p in unlabelled)  # fmt: skip
    assert right >= 3, unlabelled

    # extra params cleared: the default tag (topics) from now on; the sentiment audit's state
    # cannot be refreshed under it, and the refresh job says so instead of failing
    client.ensure_ml_backend(project, backend, extra_params=None)
    admin.annotate(ids[41], [truth[41]], from_name="sentiment", to_name="text")
    refresh = wait_for(lambda: _job_done(backend, project, "refresh"), 30, "the refresh job")
    assert refresh["state"] == "done", refresh
    assert "'sentiment'" in refresh["summary"]["skipped"], refresh
    assert "start training" in refresh["summary"]["skipped"], refresh
