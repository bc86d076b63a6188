"""`make demo`: the whole product on a real Label Studio, scored against the hidden truth.

1. Generates ~600 aerial scenes with six classes and three simulated annotators (a satisficer,
   a hasty one, a careful one; ``examples/aerial.py``), keeping the truth aside.
2. Starts Label Studio 1.23.2 (SQLite, local only, data in ``demo-data/label-studio``) and the
   ls-cleanlab backend (``ls-cleanlab serve``), creates the annotators, the project, the tasks
   (uploaded images) and the annotations, and connects the backend to the project.
3. Runs the audit (the same pipeline as ``ls-cleanlab audit``): features, out-of-sample model,
   audit, pre-annotations and the four review tabs pushed into the project; writes the report.
4. Prints the login, the URLs and how well the queue did against the hidden truth; serves until
   Ctrl-C (both servers stop cleanly), or exits at once with ``--exit``.

    python examples/demo.py                  # what `make demo` runs
    python examples/demo.py --tasks 150 --exit --json    # small, scored, for the tests
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # aerial.py beside this file

from aerial import CLASSES, make_scenes, simulate_annotations  # noqa: E402

from ls_cleanlab import MediaFetcher, StudioClient  # noqa: E402
from ls_cleanlab.pipeline.project import AuditOptions, run_project_audit  # noqa: E402
from ls_cleanlab.studio.reasons_control import enable_reasons  # noqa: E402
from ls_cleanlab.testing.admin import Admin  # noqa: E402
from ls_cleanlab.testing.label_studio import EMAIL, PASSWORD, Studio, running_label_studio  # noqa: E402

CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="labels" toName="image" '
    'choice="multiple" showInline="true">'
    + "".join(f'<Choice value="{c}"/>' for c in CLASSES)
    + "</Choices></View>"
)
TOP = 50  # tasks of "Likely label errors" scored against the truth


def say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build_project(admin: Admin, n_tasks: int, seed: int, quiet: bool) -> dict[str, Any]:
    """Users, project, uploaded images, annotations; returns ids and the hidden truth."""
    images, truth = make_scenes(n_tasks, seed=seed)
    annotations = simulate_annotations(truth, seed=seed)
    users = {name: admin.user(f"{name}@example.com") for name in ("satisficer", "hasty", "careful")}
    title = f"Aerial scenes (demo, {n_tasks} tasks)"
    project = admin.project(title, CONFIG)
    say(f"uploading {n_tasks} images ...", quiet)
    for start in range(0, n_tasks, 100):
        files = {
            f"f{i}": (f"scene-{i:04d}.png", png(images[i]), "image/png")
            for i in range(start, min(start + 100, n_tasks))
        }
        admin.call("POST", f"/api/projects/{project}/import", files=files)
    tasks = admin.call(
        "GET",
        "/api/tasks/",
        params={"project": project, "page_size": n_tasks + 10, "fields": "task_only"},
    )["tasks"]
    scene_of = {
        int(t["id"]): int(str(t["data"]["image"]).rsplit("scene-", 1)[1][:4]) for t in tasks
    }
    task_of = {scene: task for task, scene in scene_of.items()}
    say(f"recording {len(annotations)} annotations by three annotators ...", quiet)

    def post(a: Any) -> None:
        result = [
            {
                "from_name": "labels",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": list(a.labels)},
            }
        ]
        body = {"result": result, "completed_by": users[a.annotator], "lead_time": a.lead_time}
        admin.call("POST", f"/api/tasks/{task_of[a.task]}/annotations/", json=body)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(post, annotations))
    slips = np.zeros(len(truth), dtype=bool)  # scenes where some annotation is wrong
    for a in annotations:
        slips[a.task] |= tuple(CLASSES[k] for k in np.flatnonzero(truth[a.task])) != a.labels
    return {"project": project, "users": users, "scene_of": scene_of, "truth": truth,
            "slips": slips}  # fmt: skip


@contextmanager
def running_backend(studio: Studio, data: Path, port: int, quiet: bool) -> Iterator[str]:
    """``ls-cleanlab serve`` as a subprocess, stopped (SIGTERM, then SIGKILL) after the block."""
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LABEL_STUDIO_URL": studio.url,
        "LABEL_STUDIO_API_KEY": studio.personal_token,
        "LS_CLEANLAB_DATA_DIR": str(data / "backend"),
        "LS_CLEANLAB_BACKEND_URL": url,
        "LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "ls-cleanlab"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    log = (data / "backend.log").open("wb")
    process = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(url + "/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the backend did not start; see {data / 'backend.log'}")
            time.sleep(0.3)
        say(f"backend running at {url}", quiet)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def score(result: Any, setup: dict[str, Any]) -> dict[str, Any]:
    """How the queues did against the hidden truth."""
    scenes = [setup["scene_of"][int(t)] for t in result.task_ids]
    truth = setup["truth"][scenes].astype(bool)
    audit = result.audit
    labelled = result.labelled
    given = audit.consensus.astype(bool)
    # a task holds a real error when one of its annotations is wrong (what a reviewer fixes);
    # stricter: when the labels the audit combined from them (the consensus) are wrong
    wrong = setup["slips"][scenes] & labelled
    consensus_wrong = (given != truth).any(axis=1) & labelled
    row = {int(t): i for i, t in enumerate(result.task_ids)}
    errors = [row[int(t)] for t in result.queues["errors"][:TOP]]
    split = [row[int(t)] for t in result.queues["disagree"][:TOP]]
    # missing labels: absent in the audited labels, present in truth; ranked by cell score
    cells = labelled[:, None] & ~given
    positives = (truth & cells)[cells]
    ranked = np.argsort(-audit.cell_scores[cells], kind="stable")
    hits = np.cumsum(positives[ranked])
    precision = hits / np.arange(1, len(hits) + 1)
    good = np.flatnonzero(precision >= 0.9)
    recall = float(hits[good[-1]] / max(positives.sum(), 1)) if len(good) else 0.0
    table = audit.annotators.set_index("annotator")
    satisficer = setup["users"]["satisficer"]
    flagged = [int(a) for a in table.index if bool(table.loc[a, "satisficing"])]
    return {
        "tasks": len(result.task_ids),
        "labelled": int(labelled.sum()),
        "tasks_with_errors": int(wrong.sum()),
        "top": len(errors),
        "top_with_error": int(wrong[errors].sum()),
        "top20_precision": float(wrong[errors[:20]].mean()) if errors else 0.0,
        "tasks_with_consensus_errors": int(consensus_wrong.sum()),
        "top_with_consensus_error": int(consensus_wrong[errors].sum()),
        "expected_consensus_errors": round(float(audit.expected_issues["errors"]), 1),
        "disagree_top": len(split),
        "disagree_top_with_error": int(wrong[split].sum()),
        "disagree_top20_precision": float(wrong[split[:20]].mean()) if split else 0.0,
        "missing_labels": int(positives.sum()),
        "missing_recall_at_90_precision": recall,
        "satisficing_flagged": flagged,
        "satisficer": satisficer,
        "queues": {key: len(ids) for key, ids in result.queues.items()},
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse_args(description: str, tasks: int, data: Path, argv: list[str] | None) -> Any:
    """The options both demos take; ``tasks`` and ``data`` are the defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tasks", type=int, default=tasks)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=data)
    parser.add_argument("--port", type=int, default=8080, help="Label Studio's port (0: any)")
    parser.add_argument("--backend-port", type=int, default=9090, help="the backend's (0: any)")
    parser.add_argument("--exit", action="store_true", help="stop after the audit")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    return parser.parse_args(argv)


def fresh_data(path: Path) -> Path:
    """An empty ``path``: a fresh demo each time, Label Studio's data lives there too."""
    data = path.resolve()
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    return data


def links(studio: Studio, project: int, views: dict[str, int]) -> dict[str, Any]:
    """The project's and each tab's address in Label Studio."""
    base = f"{studio.url}/projects/{project}/data"
    return {
        "project_url": base,
        "tabs": {title: f"{base}?tab={view}" for title, view in views.items()},
    }


def finish(studio: Studio, scores: dict[str, Any], args: Any, summary: Any) -> None:
    """Print the scores (JSON, or ``summary``'s words) and, unless ``--exit``, wait for Ctrl-C."""
    if args.json:
        print(json.dumps(scores))
    else:
        print_links(studio, scores)
        summary(scores)
        print("\nPress Ctrl-C to stop Label Studio and the backend.")
    if not args.exit:
        wait_for_ctrl_c()


def print_links(studio: Studio, scores: dict[str, Any]) -> None:
    print(f"\nLabel Studio: {studio.url}   login {EMAIL} / {PASSWORD}")
    print(f"Project:      {scores['project_url']}")
    for title, url in scores["tabs"].items():
        print(f"  {title:24s} {url}")
    print(f"Report:       file://{scores['report']}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args("ls-cleanlab demo on a real Label Studio", 600, ROOT / "demo-data", argv)
    quiet = args.json
    data = fresh_data(args.data)
    say("starting Label Studio (the first start takes a minute) ...", quiet)
    with running_label_studio(data / "label-studio", port=args.port or None) as studio:
        admin = Admin(studio.url, studio.legacy_token)
        setup = build_project(admin, args.tasks, args.seed, quiet)
        project = setup["project"]
        with (
            running_backend(studio, data, args.backend_port or free_port(), quiet) as backend,
            StudioClient(studio.url, studio.personal_token) as client,
        ):
            client.ensure_ml_backend(project, backend)
            # each task's reasons in its labeling view: opt-in (ls-cleanlab reasons --enable)
            enable_reasons(client, project)

            def progress(stage: str, done: int, total: int) -> None:
                if done == 0 or done == total:
                    say(f"  {stage}: {done}/{total}", quiet)

            say("auditing ...", quiet)
            result = run_project_audit(
                client,
                project,
                options=AuditOptions(n_folds=5),
                data_dir=data / "audit",
                progress=progress,
            )
            from ls_cleanlab.report import write_report

            report = write_report(
                result,
                data / "report.html",
                studio_url=studio.url,
                fetcher=MediaFetcher(
                    session=client.session,
                ),
            )
            scores = score(result, setup)
            scores["report"] = str(report)
            scores.update(links(studio, project, result.views))
            finish(studio, scores, args, print_summary)
    return 0


def print_summary(scores: dict[str, Any]) -> None:
    print(
        f"\nOf the top {scores['top']} tasks in 'Likely label errors', "
        f"{scores['top_with_consensus_error']} hold a wrong consensus of their annotators "
        f"({scores['tasks_with_consensus_errors']} of {scores['labelled']} labelled tasks do; "
        f"the audit expected {scores['expected_consensus_errors']:.0f})."
    )
    print(
        f"Of the top {scores['disagree_top']} in 'Annotators disagree', "
        f"{scores['disagree_top_with_error']} hold a wrong annotation "
        f"({scores['tasks_with_errors']} tasks do): slips the consensus corrects, feedback for "
        "the annotators."
    )
    print(
        f"{scores['missing_recall_at_90_precision']:.0%} of the {scores['missing_labels']} missing "
        "labels are found at 90% precision."
    )
    flagged = (
        "the satisficer"
        if scores["satisficing_flagged"] == [scores["satisficer"]]
        else scores["satisficing_flagged"]
    )
    print(f"Flagged for search satisficing: {flagged}.")
    print(
        "Open a tab, then a task: its reasons are under the choices on the ls-cleanlab "
        "prediction's tab (screenshots: docs/review-tab.png, docs/review-task.png)."
    )


def wait_for_ctrl_c() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    print("\nstopping ...", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
