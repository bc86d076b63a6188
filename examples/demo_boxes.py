"""`make demo DEMO=boxes`: the bounding-box audit on a real Label Studio, scored against the truth.

1. Draws ~300 aerial scenes with airplanes, cars, buildings and trees
   (:mod:`ls_cleanlab.testing.aerial_boxes`) and three simulated annotators with box habits
   (:mod:`ls_cleanlab.testing.scenes`): a satisficer who stops after the first object or two, a
   sloppy one (jittered boxes, wrong classes, boxes on nothing, misses), a careful one. Each
   labelled image gets two or three of them; the last 15% nobody labels. The truth is kept aside.
2. Starts Label Studio 1.23.2 and the ls-cleanlab backend, creates the annotators, the project
   (``RectangleLabels``), uploads the images and records the annotations, connects the backend
   (Label Studio calls its ``/setup``).
3. Presses "Start training" (Label Studio's ``/api/ml/<id>/train``, which posts
   ``START_TRAINING`` to the backend's ``/webhook``): the backend's audit job trains a detector on
   the project's own images, cross-validated by image, as evidence beside the annotators, and
   pushes the suggested boxes and the tabs "Likely missing boxes", "Likely wrong boxes",
   "Annotators disagree". The demo then reads that audit back from the backend's workspace (a
   refresh: no refit, and nothing to push when nothing changed) to score it; report.
4. Prints how precise each tab is against the hidden truth, the annotator flagged for search
   satisficing, and how good the backend's ``/predict`` boxes are on the unlabelled images;
   checks that no annotation changed; serves until Ctrl-C, or exits with ``--exit``.

    python examples/demo_boxes.py                          # what `make demo DEMO=boxes` runs
    python examples/demo_boxes.py --tasks 48 --exit --json     # small, scored
"""

from __future__ import annotations

import io
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

from demo import finish, free_port, fresh_data, links, parse_args, running_backend, say  # noqa: E402

from ls_cleanlab import MediaFetcher, StudioClient  # noqa: E402
from ls_cleanlab.model.detector import iou_matrix  # noqa: E402
from ls_cleanlab.pipeline import AuditOptions, Workspace  # noqa: E402
from ls_cleanlab.pipeline.refresh import refresh_project  # noqa: E402
from ls_cleanlab.report import write_report  # noqa: E402
from ls_cleanlab.testing.admin import Admin  # noqa: E402
from ls_cleanlab.testing.aerial_boxes import (  # noqa: E402
    CLASSES,
    annotation_results,
    label_config,
    make_aerial_scenes,
)
from ls_cleanlab.testing.label_studio import Studio, running_label_studio  # noqa: E402
from ls_cleanlab.testing.scenes import Scenes, annotate_scenes  # noqa: E402

HABITS = ("satisficer", "sloppy", "careful")
TOP = 20  # tasks of each tab scored against the truth
IOU = 0.5  # a box outlines a true object when their IoU is at least this


def simulate(n_tasks: int, seed: int) -> tuple[Any, Scenes]:
    """Scenes and what the annotators drew; two or three annotators per labelled image."""
    rng = np.random.default_rng(seed)
    aerial = make_aerial_scenes(n_tasks, rng=rng)
    seen = np.zeros((n_tasks, len(HABITS)), dtype=bool)
    for i in range(n_tasks - round(0.15 * n_tasks)):
        chosen = rng.permutation(len(HABITS))[: 3 if rng.random() < 1 / 3 else 2]
        seen[i, chosen] = True
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=n_tasks,
        n_classes=len(CLASSES), rng=rng, habits=HABITS, seen=seen, image_size=aerial.size,
    )  # fmt: skip
    return aerial, scenes


def png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build_project(admin: Admin, aerial: Any, scenes: Scenes, quiet: bool) -> dict[str, Any]:
    """Users, project, uploaded images, annotations; returns the ids."""
    n = len(aerial.images)
    users = {name: admin.user(f"{name}@example.com") for name in HABITS}
    project = admin.project(f"Aerial objects (demo, {n} tasks)", label_config())
    say(f"uploading {n} images ...", quiet)
    for start in range(0, n, 100):
        files = {
            f"f{i}": (f"scene-{i:04d}.png", png(aerial.images[i]), "image/png")
            for i in range(start, min(start + 100, n))
        }
        admin.call("POST", f"/api/projects/{project}/import", files=files)
    tasks = admin.call(
        "GET",
        "/api/tasks/",
        params={"project": project, "page_size": n + 10, "fields": "task_only"},
    )["tasks"]
    scene_of = {
        int(t["id"]): int(str(t["data"]["image"]).rsplit("scene-", 1)[1][:4]) for t in tasks
    }
    task_of = {scene: task for task, scene in scene_of.items()}
    ann = scenes.annotations
    pairs = [
        (int(i), str(ann.annotator_ids[a])) for i, a in zip(*np.nonzero(ann.seen), strict=True)
    ]
    say(f"recording {len(pairs)} annotations by {len(HABITS)} annotators ...", quiet)
    rng = np.random.default_rng(len(pairs))

    def post(pair: tuple[int, str]) -> None:
        image, name = pair
        result = annotation_results(scenes, image, name, aerial.size)
        lead_time = round(float(rng.lognormal(2.5, 0.4)) * (1 + len(result)), 1)
        body = {"result": result, "completed_by": users[name], "lead_time": lead_time}
        admin.call("POST", f"/api/tasks/{task_of[image]}/annotations/", json=body)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(post, pairs))
    return {"project": project, "users": users, "scene_of": scene_of}


def _percent(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return boxes / np.array([size[0], size[1], size[0], size[1]]) * 100


def _overlaps(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    if len(others) == 0:
        return np.zeros(0)
    return iou_matrix(box[None], others)[0]


def score(result: Any, setup: dict[str, Any], aerial: Any, scenes: Scenes) -> dict[str, Any]:
    """How precise each tab is against the hidden truth."""
    name_of = {user: name for name, user in setup["users"].items()}
    ann = scenes.annotations
    truth = _percent(aerial.truth_boxes, aerial.size)
    drawn = _percent(ann.boxes, aerial.size)
    review = result.audit
    issues = review.issues
    scene = np.array([setup["scene_of"][int(t)] for t in result.task_ids])

    def true_objects(i: int) -> tuple[np.ndarray, np.ndarray]:
        mine = aerial.truth_image == i
        return truth[mine], aerial.truth_labels[mine]

    def missed(i: int, who: str, box: np.ndarray) -> bool:
        """Is ``box`` a true object of image ``i`` that ``who`` did not box?"""
        objects, _ = true_objects(i)
        overlap = _overlaps(box, objects)
        if not len(overlap) or overlap.max() < IOU:
            return False
        theirs = drawn[(ann.image == i) & (ann.annotator == who)]
        return not len(theirs) or _overlaps(objects[overlap.argmax()], theirs).max() < IOU

    def wrong(i: int, box: np.ndarray, label: int) -> bool:
        """Is a drawn box of image ``i`` on no true object of its class?"""
        objects, labels = true_objects(i)
        overlap = _overlaps(box, objects)
        return not len(overlap) or overlap.max() < IOU or labels[overlap.argmax()] != label

    def has_error(i: int) -> bool:
        rows = np.flatnonzero(ann.image == i)
        if any(wrong(i, drawn[r], int(ann.labels[r])) for r in rows):
            return True
        objects, _ = true_objects(i)
        return any(
            missed(i, str(who), o) for who in ann.annotator_ids[ann.seen[i]] for o in objects
        )

    def corners(x: Any) -> np.ndarray:
        return np.array([x["x1"], x["y1"], x["x2"], x["y2"]], dtype=float)

    checks = {
        "missing": lambda i, x: missed(i, name_of[int(x["annotator"])], corners(x)),
        "wrong": lambda i, x: wrong(i, corners(x), int(x["class_index"])),
        "disagree": lambda i, x: has_error(i),
    }
    kinds = {"missing": ("missing",), "wrong": ("swapped", "badly_placed", "spurious"),
             "disagree": ("disagreement",)}  # fmt: skip
    row_of = {int(t): r for r, t in enumerate(result.task_ids)}
    found: dict[str, list[bool]] = {}
    for key, check in checks.items():
        hits = []
        for task in result.queues[key][:TOP]:
            row = row_of[int(task)]
            mine = issues[(issues["task"] == row) & issues["kind"].isin(kinds[key])]
            hits.append(any(check(int(scene[row]), x) for _, x in mine.iterrows()))
        found[key] = hits
    missing_rows = issues[issues["kind"] == "missing"].sort_values("score", ascending=False)
    box_hits = [
        missed(int(scene[int(r["task"])]), name_of[int(r["annotator"])], corners(r))
        for _, r in missing_rows.head(50).iterrows()
    ]
    table = review.annotators
    flagged = [name_of[int(a)] for a in table["annotator"][table["satisficer"].astype(bool)]]
    return {
        "tasks": len(result.task_ids),
        "labelled": int(result.labelled.sum()),
        "source": result.source,
        "queues": {key: len(ids) for key, ids in result.queues.items()},
        "top": {key: len(hits) for key, hits in found.items()},
        "precision": {key: float(np.mean(hits)) if hits else 0.0 for key, hits in found.items()},
        "missing_boxes_top50_precision": float(np.mean(box_hits)) if box_hits else 0.0,
        "satisficing_flagged": flagged,
        "annotators": {
            name_of[int(r["annotator"])]: {
                k: round(float(r[k]), 3) for k in ("recall", "precision", "localization", "quality")
            }
            for _, r in table.iterrows()
        },
    }


def _annotations(client: StudioClient, project: int) -> dict[int, Any]:
    """Every annotation's result, author and last change, by id."""
    return {
        a["id"]: (a["result"], a["updated_at"], a["completed_by"])
        for t in client.fetch_tasks(project).tasks
        for a in t["annotations"]
    }


def train(admin: Admin, backend: str, ml_backend: int, project: int, quiet: bool) -> dict:
    """Press "Start training" and wait for the backend's audit job; returns the job."""
    admin.call("POST", f"/api/ml/{ml_backend}/train", json={})
    deadline, stage = time.monotonic() + 3600, ""
    while time.monotonic() < deadline:
        jobs = requests.get(f"{backend}/jobs", params={"project": project}, timeout=10).json()
        audits = [j for j in jobs["jobs"] if j["kind"] == "audit"]
        if audits and audits[-1]["state"] in ("done", "failed"):
            if audits[-1]["state"] == "failed":
                raise RuntimeError(f"the backend's audit failed: {audits[-1]['reason']}")
            return dict(audits[-1])
        if audits and audits[-1]["stage"] and audits[-1]["stage"] != stage:
            stage = audits[-1]["stage"]
            say(f"  backend job {audits[-1]['id']}: {stage}", quiet)
        time.sleep(1.0)
    raise RuntimeError("the backend's audit did not finish within an hour")


def backend_predictions(
    backend: str, project: int, tasks: list[dict[str, Any]], config: str
) -> list[dict[str, Any]]:
    """The backend's ``/predict`` for ``tasks``, asked as Label Studio asks it."""
    body = {"tasks": tasks, "project": f"{project}.1700000000", "label_config": config}
    answer = requests.post(f"{backend}/predict", json=body, timeout=600)
    answer.raise_for_status()
    return list(answer.json()["results"])


def score_predictions(
    made: list[dict[str, Any]], scenes_of: list[int], aerial: Any
) -> dict[str, Any]:
    """Recall and precision (IoU >= 0.5, right class) of the backend's boxes."""
    truth = _percent(aerial.truth_boxes, aerial.size)
    hits = n_boxes = n_true = found = 0
    for prediction, i in zip(made, scenes_of, strict=True):
        mine = aerial.truth_image == i
        objects, labels = truth[mine], aerial.truth_labels[mine]
        n_true += len(objects)
        matched = set()
        for r in prediction["result"]:
            v = r["value"]
            box = np.array([v["x"], v["y"], v["x"] + v["width"], v["y"] + v["height"]])
            n_boxes += 1
            overlap = _overlaps(box, objects)
            if len(overlap) and overlap.max() >= IOU:
                if labels[overlap.argmax()] == CLASSES.index(v["rectanglelabels"][0]):
                    hits += 1
                    matched.add(int(overlap.argmax()))
        found += len(matched)
    return {"tasks": len(made), "boxes": n_boxes,
            "precision": hits / n_boxes if n_boxes else 0.0,
            "recall": found / n_true if n_true else 0.0}  # fmt: skip


def run_demo(
    studio: Studio, data: Path, *, n_tasks: int, seed: int = 0, backend_port: int = 0,
    quiet: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """The whole demo on a running Label Studio; returns the scores (see :func:`score`)."""
    data.mkdir(parents=True, exist_ok=True)
    aerial, scenes = simulate(n_tasks, seed)
    admin = Admin(studio.url, studio.legacy_token)
    setup = build_project(admin, aerial, scenes, quiet)
    project = setup["project"]
    with (
        running_backend(studio, data, backend_port or free_port(), quiet) as backend,
        StudioClient(studio.url, studio.personal_token) as client,
    ):
        before = _annotations(client, project)
        ml_backend = client.ensure_ml_backend(project, backend)
        say("training (the backend's job: a detector on the project's images) ...", quiet)
        job = train(admin, backend, ml_backend, project, quiet)
        again = refresh_project(client, project, workspace=Workspace(data / "backend"),
                                options=AuditOptions())  # fmt: skip
        result = again.audit
        assert result is not None, again.reason
        report = write_report(
            result, data / "report.html", studio_url=studio.url,
            fetcher=MediaFetcher(session=client.session),
        )  # fmt: skip
        scores = score(result, setup, aerial, scenes)
        unlabelled = [t for t in client.fetch_tasks(project).tasks if not t["annotations"]]
        made = backend_predictions(backend, project, unlabelled, label_config())
        scenes_of = [setup["scene_of"][int(t["id"])] for t in unlabelled]
        views = {v["data"]["title"]: int(v["id"]) for v in client.views(project)}
        tab_tasks = {
            title: admin.call("GET", "/api/tasks/", params={
                "project": project, "view": view, "page_size": 1})["total"]
            for title, view in views.items()
        }  # fmt: skip
        scores.update({
            "job": {k: job[k] for k in ("id", "state", "stage", "summary")},
            "refresh_pushed": again.pushed,
            "annotations_untouched": _annotations(client, project) == before,
            "backend_predict": score_predictions(made, scenes_of, aerial),
            "tab_tasks": tab_tasks,
            "satisficer": "satisficer",
            "report": str(report),
            **links(studio, project, views),
        })  # fmt: skip
    return scores


def main(argv: list[str] | None = None) -> int:
    args = parse_args("ls-cleanlab bounding-box demo", 300, ROOT / "demo-data-boxes", argv)
    data = fresh_data(args.data)
    say("starting Label Studio (the first start takes a minute) ...", args.json)
    with running_label_studio(data / "label-studio", port=args.port or None) as studio:
        scores = run_demo(studio, data, n_tasks=args.tasks, seed=args.seed,
                          backend_port=args.backend_port, quiet=args.json)  # fmt: skip
        finish(studio, scores, args, print_summary)
    return 0


def print_summary(scores: dict[str, Any]) -> None:
    print(f"\nDetector boxes from {scores['source']}. Precision of each tab against the truth:")
    titles = {"missing": "Likely missing boxes", "wrong": "Likely wrong boxes",
              "disagree": "Annotators disagree"}  # fmt: skip
    for key, title in titles.items():
        print(
            f"  {title:22s} top {scores['top'][key]:>2} of {scores['queues'][key]:>3} tasks: "
            f"{scores['precision'][key]:.0%}"
        )
    print(f"  the 50 most likely missing boxes: {scores['missing_boxes_top50_precision']:.0%} "
          "are objects their annotator did not box")  # fmt: skip
    for name, row in scores["annotators"].items():
        print(f"  {name:10s} recall {row['recall']:.2f}  precision {row['precision']:.2f}  "
              f"IoU {row['localization']:.2f}")  # fmt: skip
    flagged = scores["satisficing_flagged"]
    print(f"Flagged for search satisficing: {', '.join(flagged) if flagged else 'nobody'}.")
    pre = scores["backend_predict"]
    print(f"The backend's /predict on the {pre['tasks']} unlabelled tasks: {pre['boxes']} boxes, "
          f"precision {pre['precision']:.0%}, recall {pre['recall']:.0%}.")  # fmt: skip
    print(f"Annotations untouched: {'yes' if scores['annotations_untouched'] else 'NO'}.")


if __name__ == "__main__":
    raise SystemExit(main())
