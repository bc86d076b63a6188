"""Speed and memory of consensus + agreement + annotator_table at Label Studio scale.

Synthetic multi-label project: N tasks, K classes with prevalences between 1% and 10%, M
annotators of whom ``--per-task`` label each task, each missing present labels at its own rate
(2% to 40%) and adding a spurious label on 0.2% of absent cells; a reasonable model (logits
N(+-2.5, 1.5)). Prints wall and CPU seconds per call (the machines here are shared, so CPU time
is the steadier number), the peak traced memory, the consensus accuracy per cell, and the
correlation between annotator quality and (minus) the true miss rate.

``--single``: a single-label project without a model instead (the many-class path of the
calibrated consensus with its held-out scores, :mod:`ls_cleanlab.annotators.held_out`): each
task's class uniform over K, ``--per-task`` of the M annotators answer it, annotator j right
with a probability between 0.95 and 0.55 and otherwise answering another class at random.

    python benchmarks/bench_annotators.py                       # N=100,000, K=50, 3 per task
    python benchmarks/bench_annotators.py --method dawid_skene
    python benchmarks/bench_annotators.py --single --annotators 30 --method calibrated
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


def make_single(
    n: int, k: int, m: int, per_task: int, seed: int
) -> tuple[Annotations, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, k, n)
    accuracy = np.linspace(0.95, 0.55, m)
    who = np.argsort(rng.random((n, m)), axis=1)[:, :per_task].ravel()
    task = np.repeat(np.arange(n), per_task)
    right = rng.random(len(task)) < accuracy[who]
    other = (truth[task] + rng.integers(1, k, len(task))) % k
    labels = np.where(right, truth[task], other)
    ann = Annotations.from_class_indices(task, who, labels, k)
    return ann, truth, 1.0 - accuracy


def run_single(args: argparse.Namespace) -> None:
    ann, truth, error = make_single(args.n, args.k, args.annotators, args.per_task, args.seed)
    print(f"single-label, no model: N={args.n} K={args.k} M={args.annotators} A={len(ann)}")
    cons = timed("consensus", lambda: consensus(ann, args.n, method=args.method))
    chosen = cons.labels.argmax(axis=1)
    wrong, expected = int((chosen != truth).sum()), float((1.0 - cons.quality).sum())
    print(f"method used: {cons.method}; {wrong} tasks wrong, {expected:.0f} expected")
    order = np.argsort(ann.annotator_ids)
    corr = np.corrcoef(cons.annotator_quality[order], -error)[0, 1]
    print(f"correlation of annotator quality with -error rate: {corr:.3f}")


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
    parser.add_argument("--single", action="store_true", help="single-label, no model")
    args = parser.parse_args()
    if args.single:
        run_single(args)
        return
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
