"""audit_labels on unusual but legitimate inputs a new project brings (found by probing)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ls_cleanlab import Annotations
from ls_cleanlab.audit import audit_labels
from ls_cleanlab.confident import issue_matrix_where_defined
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_no_annotations_at_all_leaves_every_task_unlabelled(multi_label: bool) -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((10, 3)) if multi_label else rng.dirichlet(np.ones(3), 10)
    none = Annotations(
        task=np.zeros(0, dtype=int), annotator=np.zeros(0, dtype=object), labels=np.zeros((0, 3))
    )
    res = audit_labels(probs, annotations=none, multi_label=multi_label)
    assert res.issues.empty and res.annotators.empty
    assert (res.priority == 0).all()
    expected = probs >= 0.5 if multi_label else np.eye(3)[probs.argmax(axis=1)]
    np.testing.assert_array_equal(res.suggested, expected)


def test_a_class_given_on_every_task_leaves_confident_learning_to_the_others() -> None:
    rng = np.random.default_rng(1)
    probs = rng.random((120, 4))
    labels = (rng.random((120, 4)) < probs).astype(int)
    labels[:, 1] = 1
    res = audit_labels(probs, labels=labels)
    flagged = res.issues[res.issues["confident_learning"]]
    others = [0, 2, 3]
    expected = issue_matrix_where_defined(labels, probs) != 0
    assert len(flagged) and set(flagged["class_index"]) <= set(others)
    assert set(zip(flagged["task"], flagged["class_index"], strict=True)) <= set(
        zip(*np.nonzero(expected), strict=True)
    )


@pytest.mark.parametrize(
    ("features", "match"),
    [
        pytest.param([[0.0, 1.0]] * 3 + [[np.nan, 1.0], [0.0, np.inf]], "in rows 3, 4", id="nan"),
        pytest.param([["a", "b"]] * 5, "features must hold numbers", id="strings"),
    ],
)
def test_bad_features_name_the_rows(features: list, match: str) -> None:
    probs = np.random.default_rng(2).dirichlet(np.ones(2), 5)
    with pytest.raises(InvalidOptionError, match=match):
        audit_labels(probs, labels=np.array([0, 1, 0, 1, 0]), features=features)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"labels": [0, 1, 2], "class_names": "abc"}, InvalidOptionError,
                     "class_names must be a sequence of names, got the string 'abc'",
                     id="names-as-one-string"),
        pytest.param({"labels": ["a", "b", "c"], "class_names": ["a", "b", "c"]},
                     InvalidLabelsError, "labels hold class names", id="labels-as-names"),
        pytest.param({"labels": np.array(["a", "b", "c"]), "class_names": ["a", "b", "c"]},
                     InvalidLabelsError, "labels hold class names", id="labels-as-name-array"),
    ],
)  # fmt: skip
def test_names_where_indices_belong_are_named(
    kwargs: dict, error: type[Exception], match: str
) -> None:
    probs = np.random.default_rng(3).dirichlet(np.ones(3), 3)
    with pytest.raises(error, match=match):
        audit_labels(probs, **kwargs)


def test_a_plain_list_of_class_indices_is_single_label() -> None:
    probs = np.random.default_rng(4).dirichlet(np.ones(3), 30)
    given = [int(c) for c in np.random.default_rng(5).integers(0, 3, 30)]
    from_list = audit_labels(probs, labels=given)
    from_array = audit_labels(probs, labels=np.array(given))
    np.testing.assert_array_equal(from_list.priority, from_array.priority)
    assert not from_list.multi_label


@pytest.mark.parametrize(
    ("seed", "match"),
    [(1.5, "seed must be an integer >= 0, got 1.5"), (-1, "seed must be an integer >= 0, got -1")],
)
def test_a_bad_seed_is_refused_before_any_work(seed: object, match: str) -> None:
    probs = np.random.default_rng(6).dirichlet(np.ones(3), 10)
    with pytest.raises(InvalidOptionError, match=re.escape(match)):
        audit_labels(probs, labels=np.arange(10) % 3, seed=seed)


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_annotators_sharing_no_task_are_ranked_against_the_model(multi_label: bool) -> None:
    # Label Studio's default: every task labelled once, by one of several annotators. The
    # consensus cannot compare them; the audit's posterior (model + labels) can.
    rng = np.random.default_rng(3)
    n, k = 600, 5
    truth = rng.integers(0, k, n)
    onehot = np.eye(k, dtype=bool)[truth]
    if multi_label:
        onehot |= rng.random((n, k)) < 0.15
        probs = np.clip(np.where(onehot, 0.85, 0.1) + rng.normal(0, 0.05, (n, k)), 0.01, 0.99)
    else:
        probs = rng.dirichlet(np.ones(k), n) * 0.3 + 0.7 * onehot
    who = np.array(["careful", "sloppy", "random"], dtype=object)[np.arange(n) % 3]
    labels = onehot.copy()
    wrong = (who == "sloppy") & (rng.random(n) < 0.25) | (who == "random")
    labels[wrong] = np.eye(k, dtype=bool)[rng.integers(0, k, wrong.sum())]
    ann = Annotations(task=np.arange(n), annotator=who, labels=labels.astype(np.int8))
    res = audit_labels(probs, annotations=ann, multi_label=multi_label)
    quality = res.annotators.set_index("annotator")["quality"]
    assert np.isfinite(quality).all() and ((quality >= 0) & (quality <= 1)).all()
    assert quality["careful"] > quality["sloppy"] > quality["random"]
    assert list(res.annotators["annotator"]) == ["random", "sloppy", "careful"]
