"""Speed and memory of ls_cleanlab.confident against cleanlab 2.9.0, in the same process.

Synthetic multi-label data in the shape of a large Label Studio project: N examples, K classes
with prevalences between 1% and 10% (about 2.75 labels per example), a reasonable model
(logits N(+-2.5, 1.5)), and annotators who miss 8% of present labels and add a spurious one on
0.2% of absent cells. Both libraries get the same arrays; cleanlab runs with ``n_jobs=1``. For
each call the best of ``--repeat`` runs is kept (machines here are noisy), the outputs are checked
to be identical, and the ratio cleanlab / ours is printed. Peak extra memory is the largest
allocation above the inputs during our call (tracemalloc, which sees numpy's buffers).

    python benchmarks/bench_confident.py            # N=100,000, K=50, default calls
    python benchmarks/bench_confident.py --all      # every filter_by and scoring method
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def make_data(n: int, k: int, seed: int) -> tuple[np.ndarray, list[list[int]], np.ndarray]:
    """Noisy labels as an (N, K) int8 matrix and as lists, and model probabilities (N, K)."""
    rng = np.random.default_rng(seed)
    prevalence = rng.uniform(0.01, 0.10, size=k)
    truth = rng.random((n, k)) < prevalence
    logits = rng.normal(0.0, 1.5, size=(n, k)) + np.where(truth, 2.5, -2.5)
    probs = 1.0 / (1.0 + np.exp(-logits))
    missed = truth & (rng.random((n, k)) < 0.08)
    spurious = ~truth & (rng.random((n, k)) < 0.002)
    given = (truth & ~missed) | spurious
    given[:, given.sum(axis=0) == n] = False  # keep every class absent somewhere
    as_lists = [np.flatnonzero(row).tolist() for row in given]
    return given.astype(np.int8), as_lists, probs


def best_time(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def peak_extra_bytes(func: Callable[[], Any]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours per call")
    parser.add_argument("--repeat-reference", type=int, default=2, help="runs of cleanlab")
    parser.add_argument("--all", action="store_true", help="every filter_by and method")
    args = parser.parse_args()

    import cleanlab.multilabel_classification.filter as cl_filter
    import cleanlab.multilabel_classification.rank as cl_rank

    import ls_cleanlab.confident as ours

    warnings.simplefilter("ignore")
    matrix, lists, probs = make_data(args.n, args.k, args.seed)
    print(
        f"multi-label data: N={args.n:,} K={args.k} labels/example="
        f"{matrix.sum() / args.n:.2f} pred_probs={probs.nbytes / 2**20:.0f} MiB"
    )

    filters = ours.FILTERS if args.all else ("prune_by_noise_rate",)
    methods = ours.METHODS if args.all else ("self_confidence",)
    calls: list[tuple[str, Callable[[], Any], Callable[[], Any], Callable[[], Any]]] = []
    for fb in filters:
        calls.append(
            (
                f"find_label_issues filter_by={fb}",
                lambda fb=fb: cl_filter.find_label_issues(lists, probs, filter_by=fb, n_jobs=1),
                lambda fb=fb: ours.find_label_issues(matrix, probs, multi_label=True, filter_by=fb),
                lambda fb=fb: ours.find_label_issues(lists, probs, multi_label=True, filter_by=fb),
            )
        )
    for m in methods:
        calls.append(
            (
                f"label_quality_scores method={m}",
                lambda m=m: cl_rank.get_label_quality_scores(lists, probs, method=m),
                lambda m=m: ours.label_quality_scores(matrix, probs, multi_label=True, method=m),
                lambda m=m: ours.label_quality_scores(lists, probs, multi_label=True, method=m),
            )
        )

    header = f"{'call':58s} {'cleanlab':>9s} {'ours':>8s} {'ratio':>7s} {'ours(lists)':>11s} "
    print(header + f"{'ratio':>7s} {'peak extra':>11s} identical")
    for name, reference, mine, mine_lists in calls:
        t_ref, expected = best_time(reference, args.repeat_reference)
        t_ours, got = best_time(mine, args.repeat)
        t_lists, got_lists = best_time(mine_lists, args.repeat)
        same = np.array_equal(expected, got) and np.array_equal(expected, got_lists)
        peak = peak_extra_bytes(mine) / probs.nbytes
        print(
            f"{name:58s} {t_ref:8.3f}s {t_ours:7.3f}s {t_ref / t_ours:6.1f}x "
            f"{t_lists:10.3f}s {t_ref / t_lists:6.1f}x {peak:8.2f}x pp {same}"
        )


if __name__ == "__main__":
    main()
