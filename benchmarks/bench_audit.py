"""Speed and memory of ``audit_labels`` at scale, beside what a cleanlab user would run.

Synthetic multi-label project: N tasks (default 100,000), K classes (50), three annotators who
label every task with independent 2% cell flips, lead times and timestamps, and probabilities
from a noisy model. ``audit_labels`` computes consensus, cell scores, priorities, issues with
reasons, annotator and class tables and every bias test. The reference is cleanlab 2.9.0 on
the majority vote: multi-label ``find_label_issues`` plus ``get_label_quality_scores`` (cleanlab
has no multi-label multi-annotator analysis, so it does less work).

Targets (issue #4): ours within 10 s and 4 GB at N=100,000, K=50, three annotators. Time is the
best of ``--repeat`` runs; memory is the peak that one audit allocates beyond its inputs
(tracemalloc, which sees numpy's buffers), in a fresh process.

Run: ``.venv/bin/python benchmarks/bench_audit.py [--n 100000] [--k 50] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

TARGET_SECONDS = 10.0
TARGET_GB = 4.0


def make_inputs(n: int, k: int, seed: int) -> tuple[np.ndarray, Any]:
    """Probabilities and three annotators' labels of a synthetic project."""
    from ls_cleanlab import Annotations

    rng = np.random.default_rng(seed)
    truth = rng.random((n, k)) < np.linspace(0.15, 0.01, k)
    logits = np.where(truth, 2.5, -2.5) + rng.normal(0, 1.5, (n, k))
    probs = 1 / (1 + np.exp(-logits))
    labels = np.vstack([truth ^ (rng.random((n, k)) < 0.02) for _ in range(3)]).astype(np.int8)
    created = np.concatenate([np.cumsum(rng.exponential(20, n)) for _ in range(3)])
    ann = Annotations(
        task=np.tile(np.arange(n), 3),
        annotator=np.repeat(["ann", "bob", "cy"], n),
        labels=labels,
        lead_time=rng.gamma(3, 3, 3 * n),
        created_at=created,
    )
    return probs, ann


def run_ours(probs: np.ndarray, ann: Any) -> Any:
    from ls_cleanlab import audit_labels

    return audit_labels(probs, annotations=ann)


def run_cleanlab(probs: np.ndarray, ann: Any) -> Any:
    from cleanlab.filter import find_label_issues
    from cleanlab.multilabel_classification import get_label_quality_scores

    n, k = probs.shape
    votes = np.zeros((n, k))
    np.add.at(votes, ann.task, ann.labels)
    majority = votes >= 2
    lists = [np.flatnonzero(row).tolist() for row in majority]
    issues = find_label_issues(lists, probs, multi_label=True, n_jobs=1)
    return issues, get_label_quality_scores(lists, probs)


def best_time(fn: Any, repeat: int, *args: Any) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory_gb(n: int, k: int, seed: int) -> float:
    """Peak memory one audit allocates beyond its inputs (numpy and Python, by tracemalloc),
    measured in a fresh process so earlier runs leave nothing behind."""
    code = (
        "import sys, tracemalloc; sys.path.insert(0, 'benchmarks'); import bench_audit as b;"
        "import ls_cleanlab.audit.label_audit, pandas, scipy.stats, sklearn.neighbors;"
        f"p, a = b.make_inputs({n}, {k}, {seed});"
        "tracemalloc.start(); b.run_ours(p, a);"
        "print(tracemalloc.get_traced_memory()[1] / 1e9)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    probs, ann = make_inputs(args.n, args.k, args.seed)
    import pandas  # noqa: F401  (imports are not part of the audit's time)
    import scipy.stats  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    res = run_ours(probs, ann)  # warm-up, and the figures below
    ours = best_time(run_ours, args.repeat, probs, ann)
    reference = best_time(run_cleanlab, 1, probs, ann)
    memory = peak_memory_gb(args.n, args.k, args.seed)
    print(f"audit_labels: N={args.n:,} K={args.k} annotations={len(ann):,} (3 per task)")
    print(f"  issues {len(res.issues):,}; annotators {len(res.annotators)}; classes {args.k}")
    print(f"  ours (full audit)                      {ours:7.2f} s   target <= {TARGET_SECONDS} s")
    print(
        f"  cleanlab 2.9.0 (issues + scores, MV)   {reference:7.2f} s   "
        f"ratio {reference / ours:.2f}x"
    )
    print(f"  peak extra memory                      {memory:7.2f} GB  target <= {TARGET_GB} GB")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"  (this process peak {own:.2f} GB)")
    verdict = "PASS" if ours <= TARGET_SECONDS and memory <= TARGET_GB else "FAIL"
    print(f"  targets: {verdict}")


if __name__ == "__main__":
    main()
