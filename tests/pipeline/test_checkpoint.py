"""Folds kept on disk (:class:`FoldCheckpoints`): the same probabilities with or without them,
every finished fold reused by a rerun, nothing reused for other inputs, and whatever cannot be
digested simply fitted."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from ls_cleanlab.model import out_of_sample_probs
from ls_cleanlab.model.cross_val import Targets, fit_fold
from ls_cleanlab.ondisk import DiskArray
from ls_cleanlab.pipeline import FoldCheckpoints


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 90)
    features = rng.normal(size=(90, 6)) + labels[:, None]
    return features, labels


@pytest.mark.parametrize("inner", [None, "threads"], ids=["in-process", "thread-pool"])
@pytest.mark.parametrize("form", ["dense", "sparse", "disk"])
def test_same_probabilities_and_every_fold_reused(tmp_path: Path, inner: Any, form: str) -> None:
    X, y = data()
    features: Any = {"dense": X, "sparse": sp.csr_matrix(X),
                     "disk": DiskArray.save(tmp_path / "x.npy", X)}[form]  # fmt: skip
    plain = out_of_sample_probs(features, y, n_folds=4, seed=1)
    pool = ThreadPoolExecutor(2) if inner else None
    first = FoldCheckpoints(tmp_path / "folds", inner=pool)
    assert np.array_equal(
        out_of_sample_probs(features, y, n_folds=4, seed=1, executor=first), plain
    )
    assert (first.computed, first.reused, first.stored()) == (4, 0, 4)
    again = FoldCheckpoints(tmp_path / "folds", inner=pool)
    assert np.array_equal(
        out_of_sample_probs(features, y, n_folds=4, seed=1, executor=again), plain
    )
    assert (again.computed, again.reused) == (0, 4)
    again.clear()
    assert again.stored() == 0 and not (tmp_path / "folds").exists()
    if pool is not None:
        pool.shutdown()


def test_an_interrupted_run_resumes_from_its_finished_folds(tmp_path: Path) -> None:
    X, y = data()
    plain = out_of_sample_probs(X, y, n_folds=5, seed=0)
    stopped = FoldCheckpoints(tmp_path)
    done: list[int] = []

    def interrupt(finished: int, total: int) -> None:
        done.append(finished)
        if finished == 2:
            raise KeyboardInterrupt  # the process dies after two folds

    with pytest.raises(KeyboardInterrupt):
        out_of_sample_probs(X, y, n_folds=5, seed=0, executor=stopped, progress=interrupt)
    assert stopped.stored() == 2
    resumed = FoldCheckpoints(tmp_path)
    assert np.array_equal(out_of_sample_probs(X, y, n_folds=5, seed=0, executor=resumed), plain)
    assert (resumed.reused, resumed.computed) == (2, 3)


def test_other_inputs_reuse_nothing(tmp_path: Path) -> None:
    X, y = data()
    out_of_sample_probs(X, y, n_folds=3, seed=0, executor=FoldCheckpoints(tmp_path))
    changed = y.copy()
    changed[0] = (changed[0] + 1) % 3  # one label corrected
    for features, labels, seed in ((X, changed, 0), (X * 2, y, 0), (X, y, 1)):
        other = FoldCheckpoints(tmp_path)
        out_of_sample_probs(features, labels, n_folds=3, seed=seed, executor=other)
        assert other.reused == 0


def test_what_cannot_be_digested_is_fitted_not_kept(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data()
    checkpoints = FoldCheckpoints(tmp_path)
    out_of_sample_probs(X, y, n_folds=3, model=LogisticRegression(), executor=checkpoints)
    assert (checkpoints.computed, checkpoints.stored()) == (3, 0)


def test_other_work_and_broken_files(tmp_path: Path) -> None:
    checkpoints = FoldCheckpoints(tmp_path)
    assert list(checkpoints.map(lambda v: v * 2, [1, 2, 3])) == [2, 4, 6]
    assert checkpoints.submit(sum, [1, 2]).result() == 3
    X, y = data()
    labels = Targets.pack(np.eye(3, dtype=bool)[y], multi_label=False)
    folds = (np.arange(len(y)) >= 30).astype(np.uint8)
    job = (X, labels, folds, 0, None)  # fold 0: the first 30 rows
    first = next(iter(checkpoints.map(fit_fold, *zip(job, strict=True))))
    (stored,) = tmp_path.glob("*.npy")
    stored.write_bytes(b"broken")  # a torn file: fitted again, not trusted
    again = FoldCheckpoints(tmp_path)
    assert np.array_equal(next(iter(again.map(fit_fold, *zip(job, strict=True)))), first)
    assert again.computed == 1
    checkpoints.shutdown()
