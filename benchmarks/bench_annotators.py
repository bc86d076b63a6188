"""Speed and memory of consensus + agreement + annotator_table at Label Studio scale.

Synthetic multi-label project: N tasks, K classes with prevalences between 1% and 10%, M
annotators of whom ``--per-task`` label each task, each missing present labels at its own rate
(2% to 40%) and adding a spurious label on 0.2% of absent cells; a reasonable model (logits
N(+-2.5, 1.5)). Prints wall and CPU seconds per call (the machines here are shared, so CPU time
is the steadier number), the peak traced memory, the consensus accuracy per cell, and the
correlation between annotator quality and (minus) the true miss rate.

    python benchmarks/bench_annotators.py                       # N=100,000, K=50, 3 per task
    python benchmarks/bench_annotators.py --method dawid_skene
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import METHODS, agreement, annotator_table, consensus


def make_data(
    n: int, k: int, m: int, per_task: int, seed: int
) -> tuple[Annotations, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prevalence = rng.uniform(0.01, 0.10, size=k)
    truth = rng.random((n, k)) < prevalence
    logits = rng.normal(0.0, 1.5, size=(n, k)) + np.where(truth, 2.5, -2.5)
    probs = 1.0 / (1.0 + np.exp(-logits))
    miss = rng.uniform(0.02, 0.4, size=m)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :per_task].ravel()
    task = np.repeat(np.arange(n), per_task)
    keep = rng.random((len(task), k)) > miss[who][:, None]
    spurious = rng.random((len(task), k)) < 0.002
    labels = (truth[task] & keep) | spurious
    ann = Annotations(task=task, annotator=who, labels=labels.astype(np.int8))
    return ann, truth, probs, miss


def timed(label: str, func: Callable[[], Any]) -> Any:
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    out = func()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<16} wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak {peak / 2**30:5.2f} GiB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--per-task", type=int, default=3)
    parser.add_argument("--method", choices=METHODS, default="crowdlab")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    ann, truth, probs, miss = make_data(args.n, args.k, args.annotators, args.per_task, args.seed)
    print(f"N={args.n} K={args.k} M={args.annotators} per task={args.per_task} A={len(ann)}")
    cons = timed("consensus", lambda: consensus(ann, args.n, probs, method=args.method))
    timed("agreement", lambda: agreement(ann, args.n))
    timed("annotator_table", lambda: annotator_table(ann, cons, probs))
    print(f"method used: {cons.method}; cell accuracy {(cons.labels == truth).mean():.5f}")
    order = np.argsort(ann.annotator_ids)  # ids are 0..M-1 in order of first appearance
    corr = np.corrcoef(cons.annotator_quality[order], -miss)[0, 1]
    print(f"correlation of annotator quality with -miss rate: {corr:.3f}")


if __name__ == "__main__":
    main()
