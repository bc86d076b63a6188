"""The "Needs another annotator" tab: labelled tasks whose consensus is in doubt, never settled
ones nor unlabelled ones, most valuable first, marked in their predictions."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.active import annotation_value
from ls_cleanlab.audit import audit_labels
from ls_cleanlab.pipeline import QUEUES, queue_members, queue_predictions
from ls_cleanlab.pipeline.next_annotator import MIN_VALUE, next_annotator_rows
from ls_cleanlab.studio import parse_label_config

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="topic" toName="text" choice="multiple">
<Choice value="a"/><Choice value="b"/><Choice value="c"/></Choices></View>"""


def _project() -> tuple[np.ndarray, Annotations, np.ndarray]:
    """60 tasks: 0-19 two annotators who agree with a confident model, 20-29 two who disagree on
    class a where the model is unsure, 30-39 one annotator the model contradicts, 40-59 nobody."""
    rng = np.random.default_rng(0)
    n = 60
    truth = (rng.random((n, 3)) < 0.4).astype(np.int8)
    probs = np.where(truth == 1, 0.97, 0.03).astype(np.float64)
    probs[20:30, 0] = 0.5
    probs[30:40, 1] = 1 - probs[30:40, 1]  # the model doubts the one annotator here
    tasks, who, labels = [], [], []
    for i in range(40):
        for annotator in (1, 2) if i < 30 else (1,):
            given = truth[i].copy()
            if 20 <= i < 30 and annotator == 2:
                given[0] = 1 - given[0]
            tasks.append(i)
            who.append(annotator)
            labels.append(given)
    ann = Annotations(task=np.array(tasks), annotator=np.array(who), labels=np.array(labels))
    return probs, ann, np.arange(n) < 40


def test_doubted_labelled_tasks_join_settled_and_unlabelled_ones_do_not() -> None:
    probs, ann, labelled = _project()
    rows = next_annotator_rows(probs, labelled, ann, multi_label=True)
    value = annotation_value(probs, ann).value
    assert len(rows) and set(rows.tolist()) <= set(range(20, 40))
    assert not set(rows.tolist()) & set(range(20))  # settled: two agree with the model
    assert np.all(value[rows] >= MIN_VALUE)
    assert list(value[rows]) == sorted(value[rows], reverse=True)
    assert np.all(value[rows] >= np.median(value[40:]))


def test_the_queue_is_listed_and_marked_in_predictions() -> None:
    probs, ann, labelled = _project()
    audit = audit_labels(probs, annotations=ann, multi_label=True)
    assert any(q.key == "next" and q.marker == "lscl:next" for q in QUEUES)
    members = queue_members(audit, labelled, annotations=ann, pred_probs=probs)
    expected = next_annotator_rows(probs, labelled, ann, multi_label=True)
    assert np.array_equal(members["next"], expected)
    schema = parse_label_config(CONFIG)
    made = queue_predictions(schema, np.arange(60) + 1, audit, labelled, model_version="v",
                             members=members)  # fmt: skip
    marked = [i for i, p in enumerate(made) if "lscl:next" in p["result"][0]["meta"]["queues"]]
    assert marked == sorted(members["next"].tolist())


def test_without_annotations_the_queue_is_empty() -> None:
    probs, ann, labelled = _project()
    audit = audit_labels(probs, annotations=ann, multi_label=True)
    assert len(queue_members(audit, labelled)["next"]) == 0
    assert len(queue_members(audit, labelled, pred_probs=probs)["next"]) == 0
    nobody = np.zeros(60, dtype=bool)
    assert len(next_annotator_rows(probs, nobody, ann, multi_label=True)) == 0
