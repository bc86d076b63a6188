"""Reviewed images in a bounding-box project: a reviewer's boxes (or boxes starred as ground
truth) are the image's truth, the image leaves every tab, and annotators are counted against the
gold boxes."""

from __future__ import annotations

import copy
import html
import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.cli.box_output import box_gold_summary
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES
from ls_cleanlab.pipeline.gold import gold_scores
from ls_cleanlab.report import render_report
from ls_cleanlab.studio import check_box_prediction, parse_label_config
from ls_cleanlab.testing.aerial_boxes import (
    label_config,
    make_aerial_scenes,
    rectangle_results,
    task_json,
)
from ls_cleanlab.testing.scenes import annotate_scenes

N = 30
USERS = {"satisficer": 11, "sloppy": 12, "careful": 13}
REVIEWER = 99


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    rng = np.random.default_rng(4)
    aerial = make_aerial_scenes(N, rng=rng)
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=N, n_classes=4,
        rng=rng, seen=np.ones((N, 3), dtype=bool), image_size=aerial.size,
    )  # fmt: skip
    schema = parse_label_config(label_config())
    tasks = task_json(aerial, scenes, USERS)
    plain = audit_tasks(tasks, schema, options=AuditOptions())
    return {"aerial": aerial, "tasks": tasks, "schema": schema, "plain": plain}


def _truth(aerial: Any, row: int) -> list[dict[str, Any]]:
    mine = aerial.truth_image == row
    return rectangle_results(aerial.truth_boxes[mine], aerial.truth_labels[mine],
                             size=aerial.size)  # fmt: skip


def _reviewed(project: dict[str, Any], rows: list[int], *, star: bool) -> list[dict]:
    """The tasks with the true boxes added on ``rows``: by the reviewer, or starred as ground
    truth by another user."""
    tasks = copy.deepcopy(project["tasks"])
    for row in rows:
        tasks[row]["annotations"].append({
            "id": 900000 + row, "completed_by": 7 if star else REVIEWER,
            "result": _truth(project["aerial"], row), "ground_truth": star,
            "created_at": "2026-11-03T10:00:00Z", "was_cancelled": False,
        })  # fmt: skip
    return tasks


def _flagged(result: Any) -> list[int]:
    """Rows of tasks in some tab, worst first."""
    ids = result.task_ids.tolist()
    rows: list[int] = []
    for queue in BOX_QUEUES:
        found = [ids.index(t) for t in result.queues[queue.key].tolist()]
        rows += [r for r in found if r not in rows]
    return rows


@pytest.mark.parametrize("star", [False, True], ids=["reviewer", "ground-truth"])
def test_a_reviewed_image_holds_no_issue_and_its_boxes_are_the_gold(
    project: dict[str, Any], star: bool
) -> None:
    plain = project["plain"]
    rows = _flagged(plain)[:3]
    assert len(rows) == 3 and plain.gold is None
    tasks = _reviewed(project, rows, star=star)
    result = audit_tasks(tasks, project["schema"], options=AuditOptions(reviewers=(REVIEWER,)))
    ids = result.task_ids
    for queue in BOX_QUEUES:
        assert not set(ids[rows].tolist()) & set(result.queues[queue.key].tolist()), queue.title
    issues = result.audit.issues
    assert not issues["task"].isin(rows).any() and (result.audit.priority[rows] == 0).all()
    assert result.gold is not None and np.flatnonzero(result.gold).tolist() == sorted(rows)
    # the tabs of the other images stay as they were
    others = [r for r in _flagged(plain) if r not in rows]
    assert set(others) <= set(_flagged(result))
    for row in rows:  # the prediction suggests the gold boxes, with no tab marker
        prediction = result.predictions[row]
        truth = _truth(project["aerial"], row)
        assert len(prediction["result"]) == len(truth) > 0
        assert {r["meta"]["suggestion"] for r in prediction["result"]} == {"gold"}
        assert not prediction["result"][0]["meta"].get("queues")
        assert check_box_prediction(project["schema"], prediction) == []
    # the gold annotation is the truth, not one more annotator
    assert set(result.audit.annotators["annotator"]) == set(USERS.values())


def test_annotators_are_counted_against_the_gold_boxes(project: dict[str, Any]) -> None:
    rows = list(range(0, N, 3))
    tasks = _reviewed(project, rows, star=False)
    result = audit_tasks(tasks, project["schema"], options=AuditOptions(reviewers=(REVIEWER,)))
    table = result.gold_accuracy.set_index("annotator")
    # the consensus holds the gold images' candidates at what the gold says
    consensus = result.audit.boxes.consensus
    on_gold = result.gold[consensus.image]
    assert on_gold.any() and set(np.unique(consensus.probability[on_gold])) <= {0.0, 1.0}
    n_boxes = sum(len(_truth(project["aerial"], r)) for r in rows)
    assert table["n_gold"].tolist() == [len(rows)] * 3  # every annotator saw every gold image
    assert table["gold_boxes"].tolist() == [n_boxes] * 3
    drawn = [sum(1 for r in rows for a in tasks[r]["annotations"] if a["completed_by"] == u
                 for item in a["result"]) for u in table.index]  # fmt: skip
    assert table["gold_drawn"].tolist() == drawn
    assert (table["gold_found"] <= np.minimum(table["gold_boxes"], table["gold_drawn"])).all()
    recall = table["gold_recall"]
    careful, satisficer = recall[USERS["careful"]], recall[USERS["satisficer"]]
    assert careful > 0.85 and satisficer < careful
    assert np.allclose(recall, table["gold_found"] / table["gold_boxes"])
    # the annotator table carries the same columns, for annotators.csv
    merged = result.audit.annotators.set_index("annotator")
    assert merged.loc[USERS["careful"], "gold_found"] == table.loc[USERS["careful"], "gold_found"]
    # and what the server records for /metrics: box recall and precision, by annotator
    scores = gold_scores(result)
    assert set(scores) == {result.annotator_name(u) for u in table.index}
    precision = table.loc[USERS["careful"], "gold_precision"]
    assert scores[result.annotator_name(USERS["careful"])] == {
        "box_recall": round(careful, 4),
        "box_precision": round(precision, 4),
    }
    # without --reviewer, the reviewer's boxes are one more annotator's
    again = audit_tasks(tasks, project["schema"], options=AuditOptions())
    assert again.gold is None and REVIEWER in set(again.audit.annotators["annotator"])


def test_the_gold_table_names_annotators_by_their_user_names(project: dict[str, Any]) -> None:
    """User ids are ints in a frame of numbers: the CLI summary and the report must still find
    the annotators' names (a row read with iterrows made each id a float, shown as "11.0")."""
    rows = list(range(0, N, 5))
    tasks = _reviewed(project, rows, star=True)
    result = audit_tasks(tasks, project["schema"], options=AuditOptions())
    names = {user: f"{habit.title()} Doe <{habit}@example.com>" for habit, user in USERS.items()}
    result = replace(result, annotator_names=names)
    summary = box_gold_summary(result)
    assert {row["name"] for row in summary["annotators"]} == set(names.values())
    assert {row["annotator"] for row in summary["annotators"]} == set(USERS.values())
    gold = render_report(result).split('id="gold"')[1].split("</table>")[0]
    shown = re.findall(r'<tr class="gold-row"><td>([^<]*)</td>', gold)
    assert sorted(html.unescape(s) for s in shown) == sorted(names.values())
