"""The noise-robust final model: which cells it leaves out (the swap pattern), that it is the
plain model when nothing is doubted, that it beats the plain model on swapped labels, that its
rounds stop when the estimated noise stops falling, and the weighted classifiers under it."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError
from ls_cleanlab.model import out_of_sample_probs, train_model, train_noise_robust
from ls_cleanlab.model.classifiers import OneVsRestLogistic, SoftmaxLogistic, _logistic
from ls_cleanlab.model.robust import doubted_cells
from ls_cleanlab.ondisk import DiskArray

NAMES = ("a", "b", "c", "d")


def separable(n: int = 800, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four classes, each present on about a third of the tasks, readable from the features."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, 4)) < 0.35).astype(np.int8)
    x = 2.5 * truth @ rng.normal(size=(4, 12)) + rng.normal(size=(n, 12))
    return (x - x.mean(0)) / x.std(0), truth


def swapped(truth: np.ndarray, share: float, seed: int = 1) -> np.ndarray:
    """The truth with one present class renamed to an absent one on ``share`` of the tasks."""
    rng = np.random.default_rng(seed)
    labels = truth.copy()
    for i in np.flatnonzero(rng.random(len(truth)) < share):
        on, off = np.flatnonzero(labels[i]), np.flatnonzero(labels[i] == 0)
        if len(on) and len(off):
            labels[i, rng.choice(on)], labels[i, rng.choice(off)] = 0, 1
    return labels


def test_only_tasks_flagged_both_ways_lose_cells() -> None:
    labels = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    probs = np.array([[0.02, 0.97, 0.1], [0.02, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.1, 0.9]])
    probs = np.vstack([probs] * 10)  # enough tasks per class for confident thresholds
    cells = doubted_cells(np.vstack([labels] * 10), probs, multi_label=True)
    assert cells[0].tolist() == [True, True, False]  # doubted 'a', expected 'b': a wrong name
    assert not cells[1].any()  # doubted 'a' alone: maybe a hard case, kept
    assert not cells[2:4].any()


def test_single_label_flagged_tasks_are_left_out_whole() -> None:
    labels = np.eye(3, dtype=bool)[np.array([0, 1, 2] * 10)]
    probs = np.tile(np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]), (10, 1))
    probs[0] = [0.05, 0.9, 0.05]  # given 'a', clearly 'b'
    cells = doubted_cells(labels, probs, multi_label=False)
    assert cells[0].all() and not cells[1:].any()


def test_nothing_doubted_gives_the_plain_model_bit_for_bit() -> None:
    x, truth = separable(300)
    oos = out_of_sample_probs(x, truth)
    plain = train_model(x, truth, class_names=NAMES, oos_probs=oos)
    fit = train_noise_robust(x, truth, class_names=NAMES, oos_probs=oos, max_rounds=0)
    assert fit.rounds == 0 and not fit.left_out.any()
    np.testing.assert_array_equal(fit.model.predict(x).probs, plain.predict(x).probs)
    np.testing.assert_array_equal(fit.model.thresholds, plain.thresholds)


def test_swapped_names_are_left_out_and_the_model_is_better() -> None:
    x, truth = separable(1200, seed=2)
    noisy = swapped(truth, 0.3)
    test_x, test_truth = separable(1200, seed=2)  # same generator: fresh noise-free draws
    test_x, test_truth = test_x[600:], test_truth[600:]
    x, truth, noisy = x[:600], truth[:600], noisy[:600]
    oos = out_of_sample_probs(x, noisy)
    plain = train_model(x, noisy, class_names=NAMES, oos_probs=oos)
    fit = train_noise_robust(x, noisy, class_names=NAMES, oos_probs=oos, encoder="e")
    wrong = noisy != truth
    assert fit.rounds >= 1 and fit.left_out.any()
    assert (fit.left_out & wrong).sum() / fit.left_out.sum() > 0.8  # precise
    assert (fit.left_out & wrong).sum() / wrong.sum() > 0.4
    falling = fit.noise[: fit.rounds]  # each refit was made because the noise had fallen
    assert list(falling) == sorted(falling, reverse=True) and len(set(falling)) == len(falling)
    assert fit.model.encoder == "e" and fit.model.class_names == NAMES
    mine = f1_score(test_truth, fit.model.predict(test_x).chosen, average="micro")
    theirs = f1_score(test_truth, plain.predict(test_x).chosen, average="micro")
    assert mine > theirs


def test_rounds_stop_when_the_noise_stops_falling_and_at_the_limit() -> None:
    x, truth = separable(600, seed=3)
    noisy = swapped(truth, 0.3, seed=4)
    one = train_noise_robust(x, noisy, class_names=NAMES, max_rounds=1)
    assert one.rounds == 1 and len(one.noise) == 1
    many = train_noise_robust(x, noisy, class_names=NAMES, max_rounds=10)
    assert many.rounds < 10 and len(many.noise) == many.rounds + 1
    assert many.noise[-1] >= many.noise[-2] or many.noise[-1] == 0  # why the rounds stopped


def test_an_executor_gives_the_same_model() -> None:
    x, truth = separable(400, seed=5)
    noisy = swapped(truth, 0.3, seed=6)
    alone = train_noise_robust(x, noisy, class_names=NAMES)
    with ThreadPoolExecutor(2) as pool:
        pooled = train_noise_robust(x, noisy, class_names=NAMES, executor=pool)
    np.testing.assert_array_equal(alone.left_out, pooled.left_out)
    np.testing.assert_allclose(alone.model.predict(x).probs, pooled.model.predict(x).probs)


@pytest.mark.parametrize("max_rounds", [0, 3])
def test_features_on_disk_fit_where_the_executor_runs_to_the_same_bits(
    tmp_path: Path, max_rounds: int
) -> None:
    x, truth = separable(400, seed=8)
    noisy = swapped(truth, 0.3, seed=9)
    x32 = x.astype(np.float32)
    alone = train_noise_robust(x32, noisy, class_names=NAMES, max_rounds=max_rounds)
    on_disk = DiskArray.save(tmp_path / "x.npy", x32).select(np.arange(len(x)))
    with ThreadPoolExecutor(2) as pool:
        pooled = train_noise_robust(on_disk, noisy, class_names=NAMES, executor=pool,
                                    max_rounds=max_rounds)  # fmt: skip
    assert pooled.rounds == alone.rounds and (pooled.rounds > 0) == (max_rounds > 0)
    np.testing.assert_array_equal(alone.left_out, pooled.left_out)
    np.testing.assert_array_equal(alone.model.thresholds, pooled.model.thresholds)
    np.testing.assert_array_equal(alone.model.predict(x).probs, pooled.model.predict(x).probs)


def test_single_label_data() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 600)
    x = 3.0 * np.eye(3)[y] @ rng.normal(size=(3, 8)) + rng.normal(size=(600, 8))
    noisy = y.copy()
    flip = rng.random(600) < 0.25
    noisy[flip] = (y[flip] + 1) % 3
    fit = train_noise_robust(x, noisy, class_names=NAMES[:3])
    assert fit.rounds >= 1 and (fit.left_out.all(axis=1) == fit.left_out.any(axis=1)).all()
    left = fit.left_out[:, 0]
    assert (left & flip).sum() / left.sum() > 0.8
    assert fit.model.predict(x).probs.sum(axis=1) == pytest.approx(1.0)


def test_bad_inputs_are_refused() -> None:
    x, truth = separable(100)
    with pytest.raises(InvalidLabelsError, match=r"oos_probs has shape \(100, 3\)"):
        train_noise_robust(x, truth, class_names=NAMES, oos_probs=np.zeros((100, 3)))
    with pytest.raises(InvalidLabelsError, match="4 classes but 3 class_names"):
        train_noise_robust(x, truth, class_names=NAMES[:3])
    with pytest.raises(InvalidOptionError, match="max_rounds"):
        train_noise_robust(x, truth, class_names=NAMES, max_rounds=-1)


# -- the weighted classifiers ---------------------------------------------------------------------


def test_a_zero_cell_weight_leaves_the_row_out_of_that_class_only() -> None:
    x, truth = separable(200, seed=8)
    weight = np.ones(truth.shape)
    weight[:50, 0] = 0
    fitted = OneVsRestLogistic(n_jobs=1).fit(x, truth, cell_weight=weight)
    alone = LogisticRegression(C=_logistic(None, x).C, max_iter=500, tol=1e-4).fit(
        x[50:], truth[50:, 0]
    )
    np.testing.assert_allclose(fitted.predict_proba(x)[:, 0], alone.predict_proba(x)[:, 1],
                               atol=1e-4)  # fmt: skip
    whole = OneVsRestLogistic(n_jobs=1).fit(x, truth)
    np.testing.assert_allclose(fitted.predict_proba(x)[:, 1:], whole.predict_proba(x)[:, 1:],
                               atol=1e-6)  # fmt: skip


def test_softmax_rows_with_zero_weight_are_left_out() -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(120, 3)), rng.integers(0, 3, 120)
    weight = (np.arange(120) >= 20).astype(float)
    fitted = SoftmaxLogistic(n_classes=4).fit(x, y, sample_weight=weight)
    subset = SoftmaxLogistic(n_classes=4).fit(x[20:], y[20:])
    np.testing.assert_allclose(fitted.priors_, subset.priors_)
    np.testing.assert_allclose(fitted.predict_proba(x), subset.predict_proba(x), atol=1e-3)


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
def test_many_classes_on_few_tasks_raise_no_regression_warning(weighted: bool) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(96, 4)), np.arange(96) % 60  # 60 classes, 96 tasks in a fold
    weight = np.ones(96) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's "could represent a regression problem"
        fitted = SoftmaxLogistic(n_classes=60).fit(x, y, sample_weight=weight)
    assert fitted.predict_proba(x).shape == (96, 60)


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "sparse"])
def test_many_classes_fit_the_same_model_as_scikit_learn(dense: bool) -> None:
    # the rows twice at half weight: the likelihood scikit-learn maximises, unchanged
    rng = np.random.default_rng(4)
    x, y, weight = rng.normal(size=(40, 5)), np.arange(40) % 30, rng.random(40) + 0.5
    features = x if dense else sp.csr_matrix(x)
    fitted = SoftmaxLogistic(n_classes=30).fit(features, y, sample_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        direct = _logistic(None, features).fit(features, y, sample_weight=weight)
    np.testing.assert_allclose(fitted.predict_proba(features), direct.predict_proba(features),
                               atol=1e-6)  # fmt: skip


def test_a_class_on_every_task_is_never_doubted_and_does_not_stop_the_fit() -> None:
    x, truth = separable(n=300)
    labels = swapped(truth, 0.2)
    labels[:, 0] = 1  # e.g. a tag every annotator always sets
    with pytest.warns(UserWarning, match="classes 0 have fewer than n_folds"):
        probs = out_of_sample_probs(x, labels, seed=0)
    cells = doubted_cells(labels.astype(bool), probs, multi_label=True)
    assert not cells[:, 0].any() and cells[:, 1:].any()
    fit = train_noise_robust(x, labels, class_names=NAMES, oos_probs=probs, seed=0)
    assert not fit.left_out[:, 0].any() and fit.left_out[:, 1:].any()


def lone_classes(k: int, lone: int) -> tuple[np.ndarray, np.ndarray]:
    """Single-label one-hot labels of ``k`` classes, the last ``lone`` given on one task each,
    the others on 10 tasks, and probabilities that agree with them."""
    y = np.concatenate([np.repeat(np.arange(k - lone), 10), np.arange(k - lone, k)])
    labels = np.eye(k, dtype=bool)[y]
    return labels, np.where(labels, 0.9, 0.1 / (k - 1))


@pytest.mark.parametrize(
    ("lone", "shown"),
    [(2, "classes '🐱 lone-0', '🐱 lone-1' are given on a single task"), (8, "and 3 more are")],
    ids=["two-named", "eight-truncated"],
)
def test_a_class_given_once_is_named_in_the_warning(lone: int, shown: str) -> None:
    labels, probs = lone_classes(3 + lone, lone)
    names = ("a", "b", "c", *(f"🐱 lone-{i}" for i in range(lone)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        doubted_cells(labels, probs, multi_label=False, names=names)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1  # the library's warning by class number is not repeated
    assert shown in messages[0] and "min_examples_per_class=1" in messages[0]
    assert "'a'" not in messages[0]


def test_multi_label_names_classes_given_once_and_absent_once() -> None:
    labels = np.zeros((20, 4), dtype=bool)
    labels[:10, 0] = labels[10:, 1] = True
    labels[3, 2] = True  # 'rare' given once
    labels[:, 3] = True
    labels[5, 3] = False  # 'nearly all' absent from one task
    probs = np.where(labels, 0.8, 0.2)
    names = ("a", "b", "rare", "nearly all")
    with pytest.warns(UserWarning) as caught:
        doubted_cells(labels, probs, multi_label=True, names=names)
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert messages[0].startswith("classes 'nearly all' are absent from a single task")
    assert messages[1].startswith("classes 'rare' are given on a single task")


def test_without_names_a_class_given_once_is_shown_by_its_index() -> None:
    # an index, as the rare-class warning shows one, never quoted as if it were a name
    labels, probs = lone_classes(5, 2)
    with pytest.warns(UserWarning, match=r"^classes 3, 4 are given on a single task"):
        doubted_cells(labels, probs, multi_label=False)


def test_single_label_tasks_all_of_one_class_leave_nothing_out() -> None:
    # confident learning refuses one class other than class 0 (as cleanlab does); the audit
    # flags nothing there, and the final model of such a project failed the whole audit with
    # "all labels are class 1" where the same labels under class 0 gave the plain model
    x, _ = separable(n=60)
    for label in (0, 2):
        fit = train_noise_robust(x, np.full(60, label), class_names=NAMES[:3], seed=0)
        assert fit.rounds == 0 and not fit.left_out.any()
