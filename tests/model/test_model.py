"""Tests of the model module: stratified folds, out-of-sample probabilities, thresholds, saved
models and the per-project store."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from ls_cleanlab import (
    InvalidLabelsError,
    InvalidOptionError,
    InvalidPredProbsError,
    ModelStore,
    TrainedModel,
    best_f1_thresholds,
    out_of_sample_probs,
    stratified_folds,
    train_model,
)
from ls_cleanlab.model import ModelFileError


def latent_data(
    n: int = 1000, k: int = 5, d: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-label data from latent factors: features and labels are noisy views of ``z``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    x = z @ rng.normal(size=(4, d)) + 0.5 * rng.normal(size=(n, d))
    x = (x - x.mean(0)) / x.std(0)
    logits = 4.0 * z @ rng.normal(size=(4, k)) - 2.0
    y = (rng.random((n, k)) < 1 / (1 + np.exp(-logits))).astype(np.int64)
    return x, y


def single_data(n: int = 600, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.normal(size=(k, 6))
    y = rng.integers(0, k, n)
    return centers[y] + rng.normal(size=(n, 6)), y


# ---------------------------------------------------------------- stratified folds


def test_folds_stratify_every_class_and_balance_sizes() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((1000, 12)) < rng.uniform(0.01, 0.3, 12)).astype(int)
    folds = stratified_folds(y, n_folds=5, seed=1)
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    per_fold = np.stack([np.bincount(folds, weights=y[:, c], minlength=5) for c in range(12)])
    assert (per_fold.max(1) - per_fold.min(1)).max() <= 1


def test_single_label_folds_stratify_per_class() -> None:
    y = np.random.default_rng(4).integers(0, 7, 1003)
    folds = stratified_folds(y, n_folds=4, seed=0)
    for c in range(7):
        counts = np.bincount(folds[y == c], minlength=4)
        assert counts.max() - counts.min() <= 1


def test_folds_are_deterministic_and_seeded() -> None:
    _, y = latent_data(300)
    assert np.array_equal(stratified_folds(y, seed=5), stratified_folds(y, seed=5))
    assert not np.array_equal(stratified_folds(y, seed=5), stratified_folds(y, seed=6))
    for bad in (1.5, -1, "5"):
        with pytest.raises(InvalidOptionError, match="seed must be an integer >= 0"):
            stratified_folds(y, seed=bad)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 60),
    k=st.integers(1, 6),
    n_folds=st.integers(2, 6),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_folds_properties(n: int, k: int, n_folds: int, density: float, seed: int) -> None:
    n_folds = min(n_folds, n)
    y = (np.random.default_rng(seed).random((n, k)) < density).astype(int)
    folds = stratified_folds(y, n_folds=n_folds, seed=seed)
    assert folds.shape == (n,)
    assert folds.min() >= 0 and folds.max() < n_folds
    assert np.array_equal(folds, stratified_folds(y, n_folds=n_folds, seed=seed))
    sizes = np.bincount(folds, minlength=n_folds)
    assert sizes.sum() == n
    positives = y.sum(axis=0)
    if positives.max() > 0:  # the rarest label is dealt first, exactly; on tiny data later
        rarest = np.flatnonzero(positives == positives[positives > 0].min())  # ones may not be
        spreads = [np.ptp(np.bincount(folds[y[:, c] == 1], minlength=n_folds)) for c in rarest]
        assert min(spreads) <= 1


# ---------------------------------------------------------------- out-of-sample probabilities


def test_out_of_sample_probs_recover_latent_structure() -> None:
    x, y = latent_data(1000)
    probs = out_of_sample_probs(x, y)
    assert probs.shape == y.shape and probs.dtype == np.float64
    aucs = [roc_auc_score(y[:, c], probs[:, c]) for c in range(y.shape[1])]
    assert np.mean(aucs) >= 0.9


def test_single_label_rows_sum_to_one_and_predict_well() -> None:
    x, y = single_data()
    probs = out_of_sample_probs(x, y)
    assert probs.shape == (len(y), 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert (probs.argmax(axis=1) == y).mean() > 0.8


@pytest.mark.parametrize("multi_label", [True, False], ids=["multi", "single"])
def test_no_leakage_own_probabilities_do_not_depend_on_own_label(multi_label: bool) -> None:
    if multi_label:
        x, y = latent_data(300, k=4)
    else:
        x, y = single_data(300)
    folds = stratified_folds(y, n_folds=5, seed=0)
    base = out_of_sample_probs(x, y, folds=folds)
    rng = np.random.default_rng(1)
    for task in rng.choice(len(y), 4, replace=False):
        flipped = y.copy()
        if multi_label:
            flipped[task, task % 4] ^= 1
        else:
            flipped[task] = (flipped[task] + 1) % 4
        probs = out_of_sample_probs(x, flipped, folds=folds)
        assert np.array_equal(probs[task], base[task])
        assert not np.array_equal(probs, base)  # the other folds did learn from the flip


def test_deterministic_for_a_seed() -> None:
    x, y = latent_data(300)
    assert np.array_equal(out_of_sample_probs(x, y, seed=2), out_of_sample_probs(x, y, seed=2))
    assert not np.array_equal(out_of_sample_probs(x, y, seed=2), out_of_sample_probs(x, y, seed=3))


def test_rare_classes_warn_and_still_give_probabilities() -> None:
    x, y = latent_data(200, k=5)
    y[:, 1] = 0
    y[[3, 70], 1] = 1  # two positives, five folds
    y[:, 2] = 0  # never given
    y[:, 3] = 1  # always given
    # by quoted name, as the small-class warning names them
    with pytest.warns(UserWarning, match="classes 'b', 'c', 'd' have fewer than n_folds=5"):
        probs = out_of_sample_probs(x, y, class_names=("a", "b", "c", "d", "e"))
    assert np.isfinite(probs).all() and probs.min() >= 0 and probs.max() <= 1
    assert probs[:, 2].max() < 0.05 and probs[:, 3].min() > 0.95


def test_single_label_class_missing_from_a_fold() -> None:
    x, y = single_data(200)
    y[:2] = 4  # class 4 appears twice
    with pytest.warns(UserWarning, match="classes 4"):
        probs = out_of_sample_probs(x, y, n_classes=6)
    assert probs.shape == (200, 6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert probs[:, 5].max() < 0.05  # never seen: a small smoothed prior


def test_sparse_equals_dense() -> None:
    x, y = latent_data(300)
    x[np.abs(x) < 0.8] = 0.0
    dense = out_of_sample_probs(x, y)
    sparse = out_of_sample_probs(sp.csr_matrix(x), y)
    np.testing.assert_allclose(sparse, dense, atol=1e-3)


def test_progress_is_reported_after_each_fold() -> None:
    x, y = latent_data(100)
    calls: list[tuple[int, int]] = []
    out_of_sample_probs(x, y, n_folds=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


# ---------------------------------------------------------------- user models


class NearestCentroid:
    """A small multi-label model: sigmoid of the difference of distances to class centroids."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, X: Any, Y: np.ndarray) -> NearestCentroid:
        X = np.asarray(X)
        self.pos_ = np.stack([X[Y[:, c] == 1].mean(0) for c in range(Y.shape[1])])
        self.neg_ = np.stack([X[Y[:, c] == 0].mean(0) for c in range(Y.shape[1])])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        d_pos = ((X[:, None, :] - self.pos_[None]) ** 2).sum(-1)
        d_neg = ((X[:, None, :] - self.neg_[None]) ** 2).sum(-1)
        return 1 / (1 + np.exp(-self.scale * (d_neg - d_pos) / X.shape[1]))


def test_user_model_instance_is_cloned_not_fitted() -> None:
    x, y = latent_data(400)
    user = NearestCentroid(scale=2.0)
    probs = out_of_sample_probs(x, y, model=user)
    assert not hasattr(user, "pos_")
    assert np.mean([roc_auc_score(y[:, c], probs[:, c]) for c in range(5)]) > 0.8
    assert np.array_equal(probs, out_of_sample_probs(x, y, model=lambda: NearestCentroid(2.0)))


@pytest.mark.parametrize(
    "estimator",
    [
        OneVsRestClassifier(DecisionTreeClassifier(max_depth=3, random_state=0)),
        KNeighborsClassifier(n_neighbors=15),
    ],
    ids=["one-vs-rest-tree", "knn-multi-output"],
)
def test_sklearn_estimator_instance(estimator: Any) -> None:
    x, y = latent_data(300)
    before = pickle.dumps(estimator)
    probs = out_of_sample_probs(x, y, model=estimator)
    assert pickle.dumps(estimator) == before  # not fitted, not mutated
    assert probs.shape == y.shape and probs.min() >= 0 and probs.max() <= 1
    assert np.mean([roc_auc_score(y[:, c], probs[:, c]) for c in range(5)]) > 0.75


class Broken(NearestCentroid):
    def __init__(self, output: str) -> None:
        super().__init__()
        self.output = output

    def predict_proba(self, X: Any) -> np.ndarray:
        p = super().predict_proba(X)
        return {"shape": p[:, :2], "nan": p * np.nan, "range": p * 3 - 1}[self.output]


@pytest.mark.parametrize(
    ("output", "match"),
    [
        ("shape", r"Broken.predict_proba returned shape \(\d+, 2\); expected"),
        ("nan", "Broken.predict_proba returned NaN"),
        ("range", r"Broken.predict_proba returned values outside \[0, 1\]"),
    ],
    ids=["shape", "nan", "range"],
)
def test_bad_user_model_output_is_named(output: str, match: str) -> None:
    x, y = latent_data(100)
    with pytest.raises(InvalidPredProbsError, match=match):
        out_of_sample_probs(x, y, model=Broken(output))


def test_model_without_fit_is_refused() -> None:
    x, y = latent_data(50)
    with pytest.raises(InvalidOptionError, match="model must be None"):
        out_of_sample_probs(x, y, model=42)
    with pytest.raises(InvalidOptionError, match="returned int, which lacks fit"):
        out_of_sample_probs(x, y, model=lambda: 3)


# ---------------------------------------------------------------- input errors


X_OK, Y_OK = latent_data(40, k=3, d=4)


@pytest.mark.parametrize(
    ("features", "labels", "kwargs", "error", "match"),
    [
        (X_OK[:30], Y_OK, {}, InvalidLabelsError, "features has 30 rows but labels has 40"),
        (np.where(X_OK > 2, np.nan, X_OK), Y_OK, {}, InvalidOptionError, "NaN or infinite"),
        (X_OK[:, 0], Y_OK, {}, InvalidOptionError, "features must be 2-D"),
        (X_OK, Y_OK, {"n_folds": 1}, InvalidOptionError, r"n_folds=1 must lie in \[2, N\]"),
        (X_OK, Y_OK, {"n_folds": 41}, InvalidOptionError, r"n_folds=41 must lie in \[2, N\]"),
        (X_OK, Y_OK, {"n_folds": 2.5}, InvalidOptionError, "n_folds must be an integer"),
        (X_OK, Y_OK * 2, {}, InvalidLabelsError, "multi-label labels must be 0 or 1"),
        (X_OK, Y_OK[:, 0] - 1, {}, InvalidLabelsError, "must be class indices"),
        (X_OK, np.zeros(40, int), {}, InvalidOptionError, "n_classes must be an integer >= 2"),
        (X_OK, np.ones(40, int) * 3, {"n_classes": 3}, InvalidLabelsError, r"lie in 0..2"),
        (X_OK, Y_OK, {"n_classes": 4}, InvalidLabelsError, "n_classes=4"),
        (X_OK[:1], Y_OK[:1], {}, InvalidLabelsError, "at least 2 labelled rows"),
        (X_OK, np.array(["a"] * 40), {}, InvalidLabelsError, "must hold numbers"),
        (X_OK, Y_OK, {"folds": np.zeros(40, int)}, InvalidOptionError, "at least 2 distinct"),
        (X_OK, Y_OK, {"folds": np.zeros(3, int)}, InvalidOptionError, r"folds must be \(N,\)"),
    ],
    ids=[
        "rows-differ",
        "nan-features",
        "1d-features",
        "one-fold",
        "too-many-folds",
        "float-folds",
        "labels-not-01",
        "negative-class",
        "one-class",
        "class-out-of-range",
        "n-classes-vs-columns",
        "one-row",
        "string-labels",
        "single-fold-ids",
        "fold-ids-shape",
    ],
)
def test_input_errors(
    features: Any, labels: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        out_of_sample_probs(features, labels, **kwargs)


def test_sparse_nan_features_are_refused() -> None:
    x = sp.csr_matrix(np.where(X_OK > 1.5, np.inf, 0.0))
    with pytest.raises(InvalidOptionError, match="NaN or infinite values in rows"):
        out_of_sample_probs(x, Y_OK)


# ---------------------------------------------------------------- thresholds


def brute_force_thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    out = []
    for c in range(labels.shape[1]):
        y = labels[:, c] == 1
        best, best_t = -1.0, np.inf
        for t in sorted(set(probs[:, c].tolist()) | {np.inf}, reverse=True):
            pred = probs[:, c] >= t
            tp = int((pred & y).sum())
            f1 = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
            if f1 > best:
                best, best_t = f1, t
        out.append(best_t if y.any() else np.inf)
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_best_f1_thresholds_match_brute_force(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, k)) < 0.4).astype(int)
    probs = np.round(rng.random((n, k)), 1)  # rounding makes ties
    assert np.array_equal(best_f1_thresholds(labels, probs), brute_force_thresholds(labels, probs))


def test_best_f1_thresholds_errors() -> None:
    with pytest.raises(InvalidLabelsError, match="labels give shape"):
        best_f1_thresholds(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(InvalidOptionError, match="probs must be a finite"):
        best_f1_thresholds(np.zeros((3, 2)), np.full((3, 2), np.nan))


# ---------------------------------------------------------------- trained models and the store


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    x, y = latent_data(300)
    return train_model(x, y, class_names=["a", "b", "c", "d", "e"])


def test_trained_model_predicts_with_its_thresholds(trained: TrainedModel) -> None:
    x, _ = latent_data(50, seed=9)
    pre = trained.predict(x)
    assert pre.chosen.dtype == np.int8
    assert np.array_equal(pre.chosen, (pre.probs >= trained.thresholds).astype(np.int8))
    expected = np.maximum(pre.probs, 1 - pre.probs).mean(axis=1)
    np.testing.assert_allclose(pre.scores, expected)
    assert trained.n_train == 300 and trained.feature_dim == 20 and trained.multi_label


def test_single_label_trained_model() -> None:
    x, y = single_data(300)
    model = train_model(x, y, class_names=["w", "x", "y", "z"])
    pre = model.predict(x[:20])
    assert np.array_equal(pre.chosen.sum(axis=1), np.ones(20))
    assert np.array_equal(pre.chosen.argmax(axis=1), pre.probs.argmax(axis=1))
    np.testing.assert_allclose(pre.scores, pre.probs.max(axis=1))


def test_train_model_errors() -> None:
    x, y = latent_data(50)
    with pytest.raises(InvalidLabelsError, match="5 classes but 2 class_names"):
        train_model(x, y, class_names=["a", "b"])


def test_feature_dim_mismatch(trained: TrainedModel) -> None:
    with pytest.raises(InvalidOptionError, match="features have 3 columns but the model was"):
        trained.predict(np.zeros((2, 3)))


def test_save_load_round_trip(trained: TrainedModel, tmp_path: Any) -> None:
    x, _ = latent_data(50, seed=8)
    path = tmp_path / "m.joblib"
    trained.save(path)
    loaded = TrainedModel.load(path)
    assert np.array_equal(loaded.predict(x).probs, trained.predict(x).probs)
    assert loaded.class_names == trained.class_names and loaded.created_at == trained.created_at
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]  # no temporary left behind


def test_load_refuses_other_files_and_versions(trained: TrainedModel, tmp_path: Any) -> None:
    import joblib

    (tmp_path / "junk").write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError, match="not a readable ls-cleanlab model"):
        TrainedModel.load(tmp_path / "junk")
    joblib.dump({"hello": 1}, tmp_path / "other")
    with pytest.raises(ModelFileError, match="not an ls-cleanlab model file"):
        TrainedModel.load(tmp_path / "other")
    joblib.dump({"format": "ls-cleanlab/trained-model", "version": 99}, tmp_path / "new")
    with pytest.raises(ModelFileError, match=r"format version 99.*retrain"):
        TrainedModel.load(tmp_path / "new")
    with pytest.raises(ModelFileError, match="no model file"):
        TrainedModel.load(tmp_path / "missing")


def test_model_store_per_project(trained: TrainedModel, tmp_path: Any) -> None:
    store = ModelStore(tmp_path)
    assert store.versions(1) == []
    store.save(1, "v2", trained)
    store.save(1, "v1.0-b", trained)
    store.save(2, "v1", trained)
    assert store.versions(1) == ["v1.0-b", "v2"]
    assert store.versions(2) == ["v1"]
    x, _ = latent_data(10, seed=7)
    assert np.array_equal(store.load(1, "v2").predict(x).probs, trained.predict(x).probs)
    with pytest.raises(ModelFileError, match=r"no model version 'v3'; stored versions: v1.0-b, v2"):
        store.load(1, "v3")
    with pytest.raises(ModelFileError, match="stored versions: none"):
        store.load(5, "v1")


@pytest.mark.parametrize(
    "name",
    ["", "../x", "a/b", "a\\b", "..", ".hidden", "a..b", "x" * 200, 3],
    ids=["empty", "parent", "slash", "backslash", "dotdot", "hidden", "inner", "long", "int"],
)
def test_model_store_refuses_unsafe_versions(
    name: Any, trained: TrainedModel, tmp_path: Any
) -> None:
    with pytest.raises(InvalidOptionError, match="not a safe file name"):
        ModelStore(tmp_path).save(1, name, trained)
    assert not any(tmp_path.rglob("*.joblib"))


def test_model_store_refuses_bad_project(trained: TrainedModel, tmp_path: Any) -> None:
    with pytest.raises(InvalidOptionError, match="project must be an integer >= 0"):
        ModelStore(tmp_path).save(-1, "v1", trained)


def test_inputs_are_not_mutated() -> None:
    x, y = latent_data(100)
    x0, y0 = copy.deepcopy(x), copy.deepcopy(y)
    out_of_sample_probs(x, y)
    assert np.array_equal(x, x0) and np.array_equal(y, y0)
