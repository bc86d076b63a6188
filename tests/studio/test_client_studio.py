"""StudioClient, read_tasks and the prediction JSON against a real Label Studio."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import StudioClient, parse_label_config, read_tasks
from ls_cleanlab.errors import (
    InvalidOptionError,
    InvalidTasksError,
    StudioAuthError,
    StudioRequestError,
)
from ls_cleanlab.studio import predictions_json
from ls_cleanlab.testing.admin import IMAGE_MULTI, SINGLE, TEXT_MULTI, Admin
from ls_cleanlab.testing.label_studio import Studio

pytestmark = pytest.mark.studio

CLASSES = ("Cat", "dog", "Bird")


@dataclass(frozen=True)
class Annotated:
    """A project with 6 tasks annotated by three users with overlap, and what it should read."""

    project: int
    task_ids: list[int]
    users: list[int]
    expected: list[tuple[int, int, tuple[str, ...], float]]  # task index, user, labels, lead


@pytest.fixture(scope="session")
def annotated(admin: Admin) -> Annotated:
    project = admin.project("three annotators", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(6)])
    users = [admin.user(f"annotator{k}@example.com") for k in range(3)]
    plan = [
        (0, 0, ["Cat"], 2.0),
        (0, 1, ["Cat", "dog"], 3.5),
        (0, 2, ["Cat"], 1.25),
        (1, 0, ["Bird"], 4.0),
        (1, 1, ["Bird"], 5.0),
        (2, 1, [], 6.0),  # an empty label set: valid in multi-label
        (2, 2, ["dog", "Bird"], 7.0),
        (3, 0, ["dog"], 8.0),
        (4, 2, ["Cat", "dog", "Bird"], 9.0),
    ]
    # annotator 0 annotates task 1 a first time (older, replaced by the one in the plan)
    admin.annotate(ids[1], ["Cat"], completed_by=users[0], lead_time=1.0)
    for task, user, labels, lead in plan:
        admin.annotate(ids[task], labels, completed_by=users[user], lead_time=lead)
    admin.annotate(ids[3], [], completed_by=users[2], lead_time=0.5, was_cancelled=True)
    expected = [(t, users[u], tuple(labels), lead) for t, u, labels, lead in plan]
    return Annotated(project, ids, users, expected)


# -- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["legacy", "personal"])
def test_both_kinds_of_key_work(studio: Studio, annotated: Annotated, kind: str) -> None:
    key = studio.legacy_token if kind == "legacy" else studio.personal_token
    with StudioClient(studio.url, key) as made:
        assert made.session.personal is (kind == "personal")
        assert made.project(annotated.project)["title"] == "three annotators"


@pytest.mark.parametrize(
    "key, match",
    [
        ("not-the-token", "key is wrong"),
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
            "personal access token",
        ),
    ],
    ids=["legacy", "personal"],
)
def test_a_wrong_key_says_what_to_do(studio: Studio, key: str, match: str) -> None:
    with StudioClient(studio.url, key) as made, pytest.raises(StudioAuthError, match=match):
        made.project(1)


def test_disabled_legacy_tokens_are_explained(studio: Studio, admin: Admin) -> None:
    with StudioClient(studio.url, studio.personal_token) as owner:
        switch = "/api/jwt/settings"
        owner.session.json(
            "POST", switch, json={"legacy_api_tokens_enabled": False, "api_tokens_enabled": True}
        )
        try:
            with StudioClient(studio.url, studio.legacy_token) as legacy:
                with pytest.raises(StudioAuthError, match="legacy tokens are disabled"):
                    legacy.project(1)
        finally:
            owner.session.json(
                "POST", switch, json={"legacy_api_tokens_enabled": True, "api_tokens_enabled": True}
            )


def test_a_missing_project_is_a_request_error(client: StudioClient) -> None:
    with pytest.raises(StudioRequestError, match="404") as caught:
        client.project(999_999)
    assert caught.value.status == 404


# -- label configs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, expected",
    [
        (IMAGE_MULTI, ("tags", "image", "Image", "image", CLASSES, True)),
        (TEXT_MULTI, ("topics", "text", "Text", "text", ("sports", "politics", "tech"), True)),
        (
            SINGLE,
            ("sentiment", "review", "Text", "review", ("positive", "negative", "neutral"), False),
        ),
    ],
    ids=["image-multi", "text-multi", "single"],
)
def test_label_schema_of_real_projects(
    admin: Admin, client: StudioClient, config: str, expected: tuple[Any, ...]
) -> None:
    project = admin.project("config check", config)
    schema = client.label_schema(project)
    got = (schema.from_name, schema.to_name, schema.object_tag, schema.data_key, schema.classes)
    assert (*got, schema.multi_label) == expected


# -- fetching ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["export", "list"])
def test_fetch_round_trips_exactly(client: StudioClient, annotated: Annotated, method: str) -> None:
    progress: list[tuple[int, int]] = []
    fetched = client.fetch_tasks(
        annotated.project, method=method, progress=lambda *a: progress.append(a)
    )  # type: ignore[arg-type]
    assert fetched.method == method
    assert progress[-1] == (6, 6)
    table = read_tasks(fetched.tasks, client.label_schema(annotated.project))
    assert table.task_ids.tolist() == annotated.task_ids
    assert [d["image"] for d in table.data] == [f"https://example.com/{i}.png" for i in range(6)]
    ann = table.annotations
    got = sorted(
        (int(t), int(a), tuple(CLASSES[k] for k in np.flatnonzero(row)), float(lead))
        for t, a, row, lead in zip(ann.task, ann.annotator, ann.labels, ann.lead_time, strict=True)
    )
    assert got == sorted(annotated.expected)
    assert table.report.skipped == 1
    assert table.report.duplicates_dropped == 1
    assert table.report.unknown_choices == {}
    assert ann.ground_truth is not None and not ann.ground_truth.any()
    assert ann.created_at is not None and np.isfinite(ann.created_at).all()


def test_both_fetch_methods_give_the_same_annotations(
    client: StudioClient, annotated: Annotated
) -> None:
    schema = client.label_schema(annotated.project)
    a = read_tasks(client.fetch_tasks(annotated.project, method="export").tasks, schema)
    b = read_tasks(client.fetch_tasks(annotated.project, method="list").tasks, schema)
    assert a.task_ids.tolist() == b.task_ids.tolist()
    assert a.annotations.labels.tolist() == b.annotations.labels.tolist()
    assert a.annotations.annotator.tolist() == b.annotations.annotator.tolist()
    assert a.report == b.report


def test_incremental_fetch_returns_only_changed_tasks(admin: Admin, client: StudioClient) -> None:
    project = admin.project("incremental", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(5)])
    time.sleep(1.1)  # fetched_at has whole seconds: tasks changed in that second come again
    first = client.fetch_tasks(project)
    assert client.fetch_tasks(project, since=first.fetched_at).tasks == ()
    admin.annotate(ids[3], ["Bird"])
    changed = client.fetch_tasks(project, since=first.fetched_at)
    assert changed.method == "list"
    assert [t["id"] for t in changed.tasks] == [ids[3]]
    assert changed.tasks[0]["annotations"][0]["result"][0]["value"]["choices"] == ["Bird"]
    with pytest.raises(StudioRequestError, match="cannot filter by time"):
        client.fetch_tasks(project, since=first.fetched_at, method="export")


def test_a_changed_config_reports_unknown_choices(
    client: StudioClient, annotated: Annotated
) -> None:
    renamed = IMAGE_MULTI.replace('value="Bird"', 'value="Parrot"')
    table = read_tasks(client.fetch_tasks(annotated.project).tasks, parse_label_config(renamed))
    assert dict(table.report.unknown_choices) == {"Bird": 4}
    assert table.report.unknown_annotations == 4
    assert len(table.annotations) == len(annotated.expected) - 4
    assert table.report.duplicates_dropped == 1  # the older annotation does not stand in


def test_annotations_of_a_deleted_user_are_counted_not_fatal(
    admin: Admin, client: StudioClient
) -> None:
    project = admin.project("deleted annotator", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(2)])
    leaver = admin.user("leaver@example.com")
    stayer = admin.user("stayer@example.com")
    admin.annotate(ids[0], ["Cat"], completed_by=leaver)
    admin.annotate(ids[0], ["dog"], completed_by=stayer)
    admin.annotate(ids[1], ["Bird"], completed_by=leaver)
    admin.call("DELETE", f"/api/users/{leaver}/")  # Label Studio keeps them, completed_by null
    tasks = client.fetch_tasks(project).tasks
    assert sum(a["completed_by"] is None for t in tasks for a in t["annotations"]) == 2
    table = read_tasks(tasks, parse_label_config(IMAGE_MULTI))
    assert table.report.no_annotator == 2
    assert table.annotations.annotator.tolist() == [stayer]
    assert table.annotations.labels.tolist() == [[0, 1, 0]]


# -- predictions ---------------------------------------------------------------------------------


def _predictions(schema: Any, ids: list[int], version: str) -> list[dict[str, Any]]:
    chosen = np.zeros((len(ids), schema.n_classes), dtype=np.int8)
    chosen[np.arange(len(ids)), np.arange(len(ids)) % schema.n_classes] = 1
    scores = np.linspace(0.1, 0.9, len(ids))
    return predictions_json(schema, ids, chosen, scores, model_version=version)


def test_predictions_replace_idempotently(admin: Admin, client: StudioClient) -> None:
    project = admin.project("predictions", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(4)])
    admin.annotate(ids[0], ["Cat"])
    schema = client.label_schema(project)
    other = _predictions(schema, ids[:2], "someone-else")
    admin.call("POST", f"/api/projects/{project}/import/predictions", json=other)
    ours = _predictions(schema, ids, "ls-cleanlab-1")
    first = client.replace_predictions(project, ours, model_version="ls-cleanlab-1", chunk_size=3)
    assert (first.sent, first.created, first.deleted, first.missing) == (4, 4, 0, 0)
    second = client.replace_predictions(project, ours, model_version="ls-cleanlab-1")
    assert (second.sent, second.created, second.deleted) == (4, 4, 4)
    stored = admin.predictions(project)
    mine = sorted(
        (p["task"], p["score"], p["result"][0]["value"]["choices"][0])
        for p in stored
        if p["model_version"] == "ls-cleanlab-1"
    )
    assert mine == sorted(
        (p["task"], p["score"], p["result"][0]["value"]["choices"][0]) for p in ours
    )
    assert sum(p["model_version"] == "someone-else" for p in stored) == 2
    assert admin.call("GET", f"/api/projects/{project}/")["model_version"] == "ls-cleanlab-1"
    task = admin.call("GET", f"/api/tasks/{ids[0]}/")
    assert len(task["annotations"]) == 1
    listed = client.fetch_tasks(project, method="list").tasks
    assert [t["predictions_score"] for t in listed] == pytest.approx([p["score"] for p in ours])


def test_another_models_predictions_are_read_by_version(admin: Admin, client: StudioClient) -> None:
    project = admin.project("another model", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(3)])
    schema = client.label_schema(project)
    theirs = _predictions(schema, ids[:2], "someone-else")
    admin.call("POST", f"/api/projects/{project}/import/predictions", json=theirs)
    tasks = client.fetch_tasks(project).tasks
    got = client.with_predictions(project, tasks, "someone-else")
    assert [[p["score"] for p in t["predictions"]] for t in got] == [
        [pytest.approx(theirs[0]["score"])],
        [pytest.approx(theirs[1]["score"])],
        [],
    ]
    wrong = f"project {project} has no prediction of model_version 'nope'; its versions: "
    with pytest.raises(InvalidOptionError, match=re.escape(wrong + "['someone-else']")):
        client.with_predictions(project, tasks, "nope")


def test_invalid_predictions_are_reported_and_nothing_is_sent(
    admin: Admin, client: StudioClient
) -> None:
    project = admin.project("bad predictions", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(3)])
    schema = client.label_schema(project)
    good = _predictions(schema, ids, "v1")
    client.replace_predictions(project, good, model_version="v1")
    bad = [dict(p) for p in good]
    bad[1] = {**bad[1], "result": [{**bad[1]["result"][0], "value": {"choices": ["Dog"]}}]}
    bad[2] = {**bad[2], "task": 999_999}
    with pytest.raises(InvalidTasksError, match=r"2 problems.*'Dog'.*not in project") as caught:
        client.replace_predictions(project, bad, model_version="v1")
    assert "nothing was sent" in str(caught.value)
    assert len(admin.predictions(project)) == 3  # the earlier push is intact
    problems = client.check_predictions(project, [good[0], good[0]], task_ids=ids)
    assert problems == [f"prediction 1 (task {ids[0]}): task {ids[0]} has more than one prediction"]


def test_a_push_that_fails_midway_leaves_no_half(admin: Admin, client: StudioClient) -> None:
    project = admin.project("half push", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": f"https://example.com/{i}.png"} for i in range(4)])
    predictions = _predictions(client.label_schema(project), ids, "v1")
    admin.call("DELETE", f"/api/tasks/{ids[3]}/")  # deleted after the fetch that gave the ids
    with pytest.raises(StudioRequestError, match="400"):
        client.replace_predictions(
            project, predictions, model_version="v1", task_ids=ids, chunk_size=2
        )
    assert admin.predictions(project) == []  # the first chunk was imported, then removed


def test_label_studio_itself_drops_what_we_refuse(admin: Admin, client: StudioClient) -> None:
    """Why we validate first: Label Studio answers 201 and creates nothing for an invalid
    prediction, and refuses a whole request for one unknown task id."""
    project = admin.project("silent drop", IMAGE_MULTI)
    ids = admin.import_tasks(project, [{"image": "https://example.com/0.png"}])
    bad = _predictions(client.label_schema(project), ids, "v1")
    bad[0]["result"][0]["value"]["choices"] = ["Dog"]
    answer = admin.call("POST", f"/api/projects/{project}/import/predictions", json=bad)
    assert answer == {"created": 0}
    good = _predictions(client.label_schema(project), ids, "v1")
    stranger = {**good[0], "task": 999_999}
    url = f"{admin.url}/api/projects/{project}/import/predictions"
    assert admin.http.post(url, json=[good[0], stranger], timeout=60).status_code == 400
    assert admin.predictions(project) == []  # the whole request was refused


# -- views, ML backend, webhooks -----------------------------------------------------------------


def test_views_are_created_once_and_updated(admin: Admin, client: StudioClient) -> None:
    project = admin.project("views", IMAGE_MULTI)
    filters = {
        "conjunction": "and",
        "items": [
            {
                "filter": "filter:tasks:predictions_score",
                "operator": "less",
                "type": "Number",
                "value": 0.5,
            }
        ],
    }
    first = client.ensure_view(
        project, "Likely label errors", filters=filters, ordering=["-tasks:predictions_score"]
    )
    again = client.ensure_view(
        project, "Likely label errors", filters=filters, ordering=["tasks:id"]
    )
    other = client.ensure_view(project, "Annotators disagree")
    views = client.views(project)
    assert first == again != other
    assert sorted(v["data"]["title"] for v in views) == [
        "Annotators disagree",
        "Likely label errors",
    ]
    view = next(v for v in views if v["id"] == first)
    assert view["data"]["ordering"] == ["tasks:id"]
    assert view["data"]["filters"]["items"][0]["value"] == 0.5


class _Backend(BaseHTTPRequestHandler):
    """The smallest ML backend Label Studio accepts: /health and /setup."""

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer({"status": "UP", "model_class": "Test"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer({"model_version": "test-1"})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def backend_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_ml_backend_and_webhook_registration_is_idempotent(
    admin: Admin, client: StudioClient, backend_url: str
) -> None:
    project = admin.project("backend", IMAGE_MULTI)
    first = client.ensure_ml_backend(project, backend_url)
    assert client.ensure_ml_backend(project, backend_url + "/", title="renamed") == first
    backends = admin.call("GET", "/api/ml/", params={"project": project})
    assert [(b["id"], b["title"]) for b in backends] == [(first, "renamed")]
    hook = client.ensure_webhook(project, backend_url + "/webhook")
    assert client.ensure_webhook(project, backend_url + "/webhook", ["ANNOTATION_CREATED"]) == hook
    hooks = [
        h
        for h in admin.call("GET", "/api/webhooks/", params={"project": project})
        if h["project"] == project
    ]
    assert [(h["id"], h["actions"]) for h in hooks] == [(hook, ["ANNOTATION_CREATED"])]
